"""Vendors the JSON schemas ``make deploy-check`` validates the manifests against, offline.

Two sources, each pinned (deploy/k8s/schemas/README.md names them):

- ``core``: Kubernetes' own kinds, from the strict "local" schemas of one Kubernetes version
  (as the kubernetes-validate package ships them: each kind a small file whose ``$ref``s point
  into one ``_definitions.json``). Each kind used here is written standalone, with only the
  definitions it reaches, in the file name kubeconform looks for
  (``{kind}-{group}-{version}.json``).
- ``crd``: an operator's CustomResourceDefinitions, each served version's OpenAPI schema
  turned into a JSON schema at ``{group}/{kind}_{version}.json``. Like kubectl's own
  validation, an object that lists its properties accepts no other (a misspelt field fails),
  unless the CRD says it keeps unknown fields.

Descriptions are dropped: they weigh most of the text and validate nothing.

    python -m tools.k8s.schemas core SOURCE_DIR OUT_DIR KIND_FILE...
    python -m tools.k8s.schemas crd OUT_DIR CRD_YAML...
"""

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

DEFINITIONS_REF = "/api/_definitions.json#/$defs/"
PRESERVE_UNKNOWN = "x-kubernetes-preserve-unknown-fields"


def _without_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _without_descriptions(value)
            for key, value in node.items()
            if not (key == "description" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_without_descriptions(item) for item in node]
    return node


def _localised(node: Any, reached: set[str]) -> Any:
    """The node with its references pointing at the file's own ``$defs``; the names it
    refers to are added to ``reached``."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                name = value.removeprefix(DEFINITIONS_REF).removeprefix("#/$defs/")
                reached.add(name)
                out[key] = f"#/$defs/{name}"
            else:
                out[key] = _localised(value, reached)
        return out
    if isinstance(node, list):
        return [_localised(item, reached) for item in node]
    return node


def standalone_core_schema(kind_schema: dict[str, Any], definitions: dict[str, Any]) -> Any:
    reached: set[str] = set()
    root = _localised(kind_schema, reached)
    defs: dict[str, Any] = {}
    pending = set(reached)
    while pending:
        name = pending.pop()
        seen: set[str] = set()
        defs[name] = _localised(definitions[name], seen)
        pending |= seen - defs.keys()
    root.pop("$schema", None)
    return _without_descriptions(
        {"$schema": "https://json-schema.org/draft/2020-12/schema", **root, "$defs": defs}
    )


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict(value) for key, value in node.items()}
    if "properties" in out and "additionalProperties" not in out and not out.get(PRESERVE_UNKNOWN):
        out["additionalProperties"] = False
    return out


def crd_schemas(crd: dict[str, Any]) -> dict[str, Any]:
    """``{group}/{kind}_{version}.json`` → its JSON schema, for each served version."""
    spec = crd["spec"]
    group, kind = spec["group"], spec["names"]["kind"]
    schemas: dict[str, Any] = {}
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        schema = _strict(version["schema"]["openAPIV3Schema"])
        # kubeconform reads the object as it is written: apiVersion, kind and metadata are the
        # API server's to check, so the root keeps them whatever the CRD says of them.
        schema.setdefault("properties", {})
        schema["properties"].update(
            {
                "apiVersion": {"type": "string", "enum": [f"{group}/{version['name']}"]},
                "kind": {"type": "string", "enum": [kind]},
                "metadata": {"type": "object"},
            }
        )
        schema["additionalProperties"] = False
        key = f"{group}/{kind.lower()}_{version['name']}.json"
        schemas[key] = {
            "$schema": "http://json-schema.org/draft-07/schema#",
            **_without_descriptions(schema),
        }
    return schemas


def _write(path: Path, schema: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    core = commands.add_parser("core")
    core.add_argument("source", type=Path)
    core.add_argument("out", type=Path)
    core.add_argument("kinds", nargs="+")
    crd = commands.add_parser("crd")
    crd.add_argument("out", type=Path)
    crd.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    if args.command == "core":
        definitions = json.loads((args.source / "_definitions.json").read_text())["$defs"]
        for name in args.kinds:
            kind_schema = json.loads((args.source / name).read_text())
            _write(args.out / name, standalone_core_schema(kind_schema, definitions))
        return
    for path in args.files:
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "CustomResourceDefinition":
                for key, schema in crd_schemas(document).items():
                    _write(args.out / key, schema)


if __name__ == "__main__":
    main()
