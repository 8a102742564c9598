#!/usr/bin/env python3
"""Checks openapi.yaml beyond the OpenAPI 3.1 schema (which openapi-spec-validator checks first):
every operation has an operationId, a summary, a description, tags and its own `security`,
examples for each JSON body it takes or returns — each valid against its schema (JSON Schema
2020-12, as OpenAPI 3.1 defines them) — and its error responses as problem+json with examples;
every secured operation documents 401.

Prints {"public": [operationIds with `security: []`], "events": [the Event schema's types],
"typedQuery": {query parameter: its type, for those not strings}, "problems": [...]} as JSON.
"""
import json
import sys
import warnings

import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

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


def examples(spec, media):
    """(name, value) of each example of a media type."""
    if media.get("example") is not None:
        yield "example", media["example"]
    for name, example in media.get("examples", {}).items():
        example = resolve(spec, example)
        if "value" in example:
            yield name, example["value"]


def pointer(*parts):
    """A JSON pointer to a place in the spec."""
    return "#/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def invalid_examples(spec, registry, where, place, media):
    """What is wrong with each example of `media`, found at `place` (a JSON pointer) in the spec."""
    if "schema" not in media:
        return []
    validator = Draft202012Validator({"$ref": "urn:openapi" + place + "/schema"}, registry=registry)
    problems = []
    for name, value in examples(spec, media):
        for error in list(validator.iter_errors(value))[:3]:
            at = "/".join(map(str, error.absolute_path)) or "(root)"
            problems.append(f"{where}: example {name!r} is not valid at {at}: {error.message[:200]}")
    return problems


def main(path):
    with open(path) as file:
        spec = yaml.safe_load(file)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning of the validator fails the check too
        validate(spec)
    registry = Registry().with_resource("urn:openapi", Resource(contents=spec, specification=DRAFT202012))
    problems, public, ids, typed_query = [], [], set(), {}
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
            for parameter in operation.get("parameters", []) + item.get("parameters", []):
                parameter = resolve(spec, parameter)
                kind = resolve(spec, parameter.get("schema", {})).get("type")
                if parameter["in"] == "query" and kind != "string":
                    typed_query[parameter["name"]] = kind
            for field in ("summary", "description", "tags", "security"):
                if field not in operation or (field != "security" and not operation[field]):
                    problems.append(f"{where}: no {field}")
            secured = operation.get("security", spec.get("security")) != []
            if not secured:
                public.append(operation_id)
            body = operation.get("requestBody", {})
            body_place = body["$ref"][1:] if "$ref" in body else pointer("paths", route, method, "requestBody")[1:]
            for content_type, media in resolve(spec, body).get("content", {}).items():
                if not has_examples(media) and not is_binary(spec, media):
                    problems.append(f"{where}: request {content_type} has no example")
                problems += invalid_examples(spec, registry, f"{where} request", "#" + body_place + pointer("content", content_type)[1:], media)
            responses = operation.get("responses", {})
            if not any(code.startswith(("4", "5")) for code in responses):
                problems.append(f"{where}: no error responses")
            if secured and "401" not in responses:
                problems.append(f"{where}: secured but 401 is not documented")
            for code, response in responses.items():
                place = response["$ref"] if "$ref" in response else pointer("paths", route, method, "responses", code)
                response = resolve(spec, response)
                content = response.get("content", {})
                if code.startswith(("4", "5")) and list(content) != ["application/problem+json"]:
                    problems.append(f"{where}: {code} is not application/problem+json")
                for content_type, media in content.items():
                    if not has_examples(media) and not is_binary(spec, media):
                        problems.append(f"{where}: {code} {content_type} has no example")
                    problems += invalid_examples(spec, registry, f"{where} {code}", place + pointer("content", content_type)[1:], media)
    event = spec.get("components", {}).get("schemas", {}).get("Event", {})
    events = sorted(event.get("discriminator", {}).get("mapping", {}))
    for name, target in event.get("discriminator", {}).get("mapping", {}).items():
        variant = resolve(spec, {"$ref": target})
        if f"`{name}`" not in variant.get("properties", {}).get("type", {}).get("description", ""):
            problems.append(f"Event mapping {name} points at a schema for another type")
    print(json.dumps({"public": sorted(public), "events": events, "typedQuery": typed_query, "problems": problems}))


if __name__ == "__main__":
    main(sys.argv[1])
