#!/usr/bin/env python3
"""Checks asyncapi.yaml: AsyncAPI 3.0.0 with a channel, operations whose messages exist, every
$ref resolvable (into openapi.yaml too), every message payload naming its frame `type` as a const.

Prints {"client": [types clients send], "server": [types the server sends], "closeCodes": [...],
"problems": [...]} as JSON.
"""
import json
import os
import sys

import yaml


def main(path):
    base = os.path.dirname(os.path.abspath(path))
    documents = {}

    def load(name):
        if name not in documents:
            documents[name] = yaml.safe_load(open(os.path.join(base, name)))
        return documents[name]

    spec = load(os.path.basename(path))
    problems = []

    def resolve(reference, current):
        document_name, _, pointer = reference.partition("#")
        document = load(os.path.normpath(document_name)) if document_name else load(current)
        node = document
        for part in pointer.lstrip("/").split("/"):
            if not part:
                continue
            if not isinstance(node, dict) or part not in node:
                problems.append(f"unresolved $ref {reference}")
                return None
            node = node[part]
        return node

    def walk(node, current):
        if isinstance(node, dict):
            if "$ref" in node:
                reference = node["$ref"]
                target = resolve(reference, current)
                document_name = reference.partition("#")[0]
                if target is not None and document_name:
                    walk(target, os.path.normpath(document_name))
            for value in node.values():
                walk(value, current)
        elif isinstance(node, list):
            for value in node:
                walk(value, current)

    if spec.get("asyncapi") != "3.0.0":
        problems.append("not AsyncAPI 3.0.0")
    if not spec.get("channels"):
        problems.append("no channels")
    walk(spec, os.path.basename(path))

    def frame_types(action):
        types = []
        for operation in spec.get("operations", {}).values():
            if operation.get("action") != action:
                continue
            for reference in operation.get("messages", []):
                message = resolve(reference["$ref"], os.path.basename(path))
                if message and "$ref" in message:
                    message = resolve(message["$ref"], os.path.basename(path))
                payload = message and resolve(message["payload"]["$ref"], os.path.basename(path))
                const = payload and payload.get("properties", {}).get("type", {}).get("const")
                if not const:
                    problems.append(f"a message of {action} has no const type")
                elif const != message.get("name"):
                    problems.append(f"message {message.get('name')} has payload type {const}")
                else:
                    types.append(const)
        return types

    codes = [entry["code"] for entry in spec.get("info", {}).get("x-close-codes", [])]
    print(json.dumps({"client": frame_types("receive"), "server": frame_types("send"), "closeCodes": codes, "problems": problems}))


if __name__ == "__main__":
    main(sys.argv[1])
