#!/usr/bin/env python3
"""Checks openapi.yaml beyond the OpenAPI 3.1 schema (which openapi-spec-validator checks first):
every operation has an operationId and a summary, examples for each JSON body it takes or returns,
and its error responses as problem+json with examples; every secured operation documents 401.

Prints {"public": [operationIds with `security: []`], "events": [the Event schema's types],
"problems": [...]} as JSON.
"""
import json
import sys

import yaml
from openapi_spec_validator import validate

METHODS = {"get", "put", "post", "delete", "patch"}


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def has_examples(media):
    return bool(media.get("example") is not None or media.get("examples"))


def is_binary(spec, media):
    """Bytes (an image), or a form of bytes: nothing a YAML example could show."""
    schema = resolve(spec, media.get("schema", {}))
    if schema.get("format") == "binary":
        return True
    properties = [resolve(spec, p) for p in schema.get("properties", {}).values()]
    return bool(properties) and all(p.get("format") == "binary" for p in properties)


def main(path):
    spec = yaml.safe_load(open(path))
    validate(spec)
    problems, public, ids = [], [], set()
    for route, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            where = f"{method.upper()} {route}"
            operation_id = operation.get("operationId")
            if not operation_id:
                problems.append(f"{where}: no operationId")
            elif operation_id in ids:
                problems.append(f"{where}: operationId {operation_id} is used twice")
            ids.add(operation_id)
            if not operation.get("summary"):
                problems.append(f"{where}: no summary")
            secured = operation.get("security", spec.get("security")) != []
            if not secured:
                public.append(operation_id)
            body = resolve(spec, operation.get("requestBody", {}))
            for content_type, media in body.get("content", {}).items():
                if not has_examples(media) and not is_binary(spec, media):
                    problems.append(f"{where}: request {content_type} has no example")
            responses = operation.get("responses", {})
            if not any(code.startswith(("4", "5")) for code in responses):
                problems.append(f"{where}: no error responses")
            if secured and "401" not in responses:
                problems.append(f"{where}: secured but 401 is not documented")
            for code, response in responses.items():
                response = resolve(spec, response)
                content = response.get("content", {})
                if code.startswith(("4", "5")) and list(content) != ["application/problem+json"]:
                    problems.append(f"{where}: {code} is not application/problem+json")
                for content_type, media in content.items():
                    if not has_examples(media) and not is_binary(spec, media):
                        problems.append(f"{where}: {code} {content_type} has no example")
    event = spec.get("components", {}).get("schemas", {}).get("Event", {})
    events = sorted(event.get("discriminator", {}).get("mapping", {}))
    for name, target in event.get("discriminator", {}).get("mapping", {}).items():
        variant = resolve(spec, {"$ref": target})
        if f"`{name}`" not in variant.get("properties", {}).get("type", {}).get("description", ""):
            problems.append(f"Event mapping {name} points at a schema for another type")
    print(json.dumps({"public": sorted(public), "events": events, "problems": problems}))


if __name__ == "__main__":
    main(sys.argv[1])
