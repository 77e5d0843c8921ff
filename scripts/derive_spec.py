"""Derive the machine-readable subset of Clockify's OpenAPI document that clocksync needs.

Usage: python scripts/derive_spec.py [PATH_TO_openapi.json]
(default: ../shared/clockify/openapi.json relative to the repository root)

The output, clocksync/clockify/spec/clockify-subset.json, keeps only what a validator needs:
the operations clocksync calls (method, path relative to the `/api/v1` base URL, declared query
parameters, request body schema, response schemas) and the component schemas they reference.
Descriptions, examples and every other piece of prose are dropped.

The published spec has defects (API-NOTES.md section 13, plus a few found while deriving). Each
patch below says what it fixes; the list of applied patches is written into the output so a
reviewer sees them next to the data.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "clocksync" / "clockify" / "spec" / "clockify-subset.json"

# (method, spec path). Paths in the spec start with /v1; the client's base URL already ends in /v1.
OPERATIONS: list[tuple[str, str]] = [
    ("get", "/v1/user"),
    ("get", "/v1/workspaces"),
    ("get", "/v1/workspaces/{workspaceId}"),
    ("get", "/v1/workspaces/{workspaceId}/users"),
    ("post", "/v1/workspaces/{workspaceId}/users"),
    ("put", "/v1/workspaces/{workspaceId}/users/{userId}"),
    ("put", "/v1/workspaces/{workspaceId}/users/{userId}/hourly-rate"),
    ("put", "/v1/workspaces/{workspaceId}/users/{userId}/cost-rate"),
    ("post", "/v1/workspaces/{workspaceId}/users/info"),
    ("post", "/v1/workspaces/{workspaceId}/users/{userId}/roles"),
    ("delete", "/v1/workspaces/{workspaceId}/users/{userId}/roles"),
    ("get", "/v1/workspaces/{workspaceId}/member-profile/{userId}"),
    ("patch", "/v1/workspaces/{workspaceId}/member-profile/{userId}"),
    ("get", "/v1/workspaces/{workspaceId}/custom-fields"),
    ("post", "/v1/workspaces/{workspaceId}/custom-fields"),
    # Not called by clocksync; served by the emulator, so its answers are checked too.
    ("put", "/v1/workspaces/{workspaceId}/users/{userId}/custom-field/{customFieldId}/value"),
    ("get", "/v1/workspaces/{workspaceId}/user-groups"),
    ("post", "/v1/workspaces/{workspaceId}/user-groups"),
    ("delete", "/v1/workspaces/{workspaceId}/user-groups/{id}"),
    ("post", "/v1/workspaces/{workspaceId}/user-groups/{userGroupId}/users"),
    ("delete", "/v1/workspaces/{workspaceId}/user-groups/{userGroupId}/users/{userId}"),
    ("get", "/v1/workspaces/{workspaceId}/holidays"),
    ("get", "/v1/workspaces/{workspaceId}/time-off/policies"),
    ("get", "/v1/workspaces/{workspaceId}/projects"),
]

# Keywords that constrain values; everything else (description, example, title, ...) is prose.
KEEP = {
    "type", "properties", "items", "required", "enum", "format", "minLength", "maxLength",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
    "uniqueItems", "pattern", "oneOf", "anyOf", "allOf", "$ref", "nullable",
    "additionalProperties",
}

ANY: dict[str, Any] = {}  # an empty schema accepts any JSON value


def strip(node: Any) -> Any:
    """Keep only validation keywords, recursively."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key not in KEEP:
                continue
            if key == "properties":
                out[key] = {name: strip(sub) for name, sub in value.items()}
            else:
                out[key] = strip(value)
        return out
    if isinstance(node, list):
        return [strip(item) for item in node]
    return node


def refs_in(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            found |= refs_in(value)
    elif isinstance(node, list):
        for item in node:
            found |= refs_in(item)
    return found


def patch_schemas(schemas: dict[str, Any]) -> list[str]:
    """Fix the spec's defects in place; return a line per patch."""
    applied: list[str] = []
    for name, schema in schemas.items():
        # Enum wrappers declared `type: object` with `oneOf: [{type: string, enum}]` can never
        # validate the plain string the API sends (e.g. AccountStatus "ACTIVE").
        one_of = schema.get("oneOf")
        if schema.get("type") == "object" and isinstance(one_of, list) and len(one_of) == 1:
            inner = one_of[0]
            if inner.get("type") == "string":
                schemas[name] = inner
                applied.append(f"{name}: object-wrapped string enum -> plain string enum")
            elif inner.get("$ref", "").endswith("/" + name):
                schemas[name] = {"type": "string"}
                applied.append(f"{name}: self-referencing oneOf -> string")
    # API-NOTES 13: custom field values are strings, numbers, booleans or arrays, typed `object`.
    for name, prop in [
        ("UpsertUserCustomFieldRequestV1", "value"),
        ("UpsertUserCustomFieldRequest", "value"),
        ("UserCustomFieldValueDtoV1", "value"),
        ("UserCustomFieldValueFullDtoV1", "value"),
        ("CustomFieldDtoV1", "workspaceDefaultValue"),
        ("CustomFieldRequestV1", "workspaceDefaultValue"),
    ]:
        if name in schemas and prop in schemas[name].get("properties", {}):
            schemas[name]["properties"][prop] = dict(ANY)
            applied.append(f"{name}.{prop}: object -> any JSON value")
    # API-NOTES 13: workingDays is an array of day names on the live API.
    for name in ("MemberProfileFullRequestV1", "MemberProfileDtoV1"):
        props = schemas.get(name, {}).get("properties", {})
        if "workingDays" in props and props["workingDays"].get("type") == "string":
            props["workingDays"] = {"type": "array", "items": props["workingDays"]}
            applied.append(f"{name}.workingDays: string -> array of day names")
    # Limited members have no email; whether the API leaves the key out or sends null is unverified
    # (docs/live-api.md, live variant limited-email-null), so null is allowed.
    props = schemas.get("UserDtoV1", {}).get("properties", {})
    if "email" in props and not props["email"].get("nullable"):
        props["email"] = {**props["email"], "nullable": True}
        applied.append("UserDtoV1.email: string -> nullable string (limited members have no email)")
    # The workspace's feature list: `Feature` is one enum value, the field holds a list of them.
    props = schemas.get("WorkspaceDtoV1", {}).get("properties", {})
    if "features" in props and "$ref" in props["features"]:
        props["features"] = {"type": "array", "items": props["features"]}
        applied.append("WorkspaceDtoV1.features: Feature -> array of Feature")
    return applied


def derive(spec: dict[str, Any]) -> dict[str, Any]:
    components = spec["components"]["schemas"]
    operations: dict[str, Any] = {}
    needed: set[str] = set()
    for method, spec_path in OPERATIONS:
        op = spec["paths"][spec_path][method]
        path = spec_path.removeprefix("/v1")
        query: dict[str, Any] = {}
        required_query: list[str] = []
        path_params: list[str] = []
        for param in op.get("parameters", []):
            if param["in"] == "path":
                path_params.append(param["name"])
            elif param["in"] == "query":
                query[param["name"]] = strip(param.get("schema", {}))
                if param.get("required"):
                    required_query.append(param["name"])
        body = None
        body_required = False
        content = op.get("requestBody", {}).get("content", {})
        if content:
            body = strip(next(iter(content.values()))["schema"])
            body_required = bool(op["requestBody"].get("required", False))
        responses: dict[str, Any] = {}
        for status, response in op.get("responses", {}).items():
            rcontent = response.get("content", {})
            responses[status] = strip(next(iter(rcontent.values()))["schema"]) if rcontent else None
        entry = {
            "method": method.upper(),
            "path": path,
            "path_params": path_params,
            "query": query,
            "required_query": required_query,
            "body": body,
            "body_required": body_required,
            "responses": responses,
        }
        operations[f"{method.upper()} {path}"] = entry
        needed |= refs_in(entry)
    # Close over references.
    schemas: dict[str, Any] = {}
    pending = set(needed)
    while pending:
        name = pending.pop()
        if name in schemas:
            continue
        schemas[name] = strip(components[name])
        pending |= refs_in(schemas[name]) - set(schemas)
    patches = patch_schemas(schemas)
    return {
        "source": {
            "title": spec["info"]["title"],
            "version": spec["info"]["version"],
            "openapi": spec["openapi"],
        },
        "patches": sorted(patches),
        "operations": operations,
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "clockify" / "openapi.json"
    raw = src.read_bytes()
    derived = derive(json.loads(raw))
    derived["source"]["sha256"] = hashlib.sha256(raw).hexdigest()
    OUT.write_text(json.dumps(derived, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(derived['operations'])} operations, "
          f"{len(derived['components']['schemas'])} schemas, {len(derived['patches'])} patches")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
