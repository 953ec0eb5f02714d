"""The published event catalogue resolves as a consumer team's tools read it: every reference
points at something in the document, and every example is valid against its message's schema.
(The AsyncAPI Initiative's own parser checks the whole document in `make asyncapi-check`.)"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

from contracts.base import registered_models
from contracts.examples import EXAMPLES

DOCUMENT_PATH = Path(__file__).parents[2] / "docs" / "asyncapi.yaml"
DOCUMENT_URI = "urn:crm:asyncapi"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT_PATH.read_text())
    return loaded


def references(node: Any, where: str = "#") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from references(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from references(value, f"{where}/{index}")


def resolve(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


class TestReferences:
    def test_every_reference_points_into_the_document(self, document: dict[str, Any]) -> None:
        found = list(references(document))
        assert found, "the document has no references at all"
        unresolved = []
        for where, target in found:
            try:
                resolve(document, target)
            except (KeyError, IndexError, ValueError):
                unresolved.append(f"{where} -> {target}")
        assert unresolved == []

    def test_payload_schemas_keep_no_definitions_of_their_own(
        self, document: dict[str, Any]
    ) -> None:
        # A payload's own $defs cannot be reached by a "#/..." reference, which resolves
        # against the document's root: nested models belong in components/schemas.
        messages = document["components"]["messages"]
        assert [name for name, m in messages.items() if "$defs" in m["payload"]] == []


class TestExamples:
    def test_every_event_model_has_an_example(self) -> None:
        # Other tests register event types of their own; the contract's are in contracts/.
        contract_models = {
            event_type
            for event_type, model in registered_models().items()
            if model.__module__.startswith("contracts.")
        }
        assert set(EXAMPLES) == contract_models

    def test_every_published_example_is_valid_against_its_message_schema(
        self, document: dict[str, Any]
    ) -> None:
        registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, Resource.opaque(document))
        checked = 0
        for name, message in document["components"]["messages"].items():
            for example in message.get("examples", []):
                schema = {"$ref": f"{DOCUMENT_URI}#/components/messages/{name}/payload"}
                validator = jsonschema.Draft7Validator(schema, registry=registry)
                errors = [error.message for error in validator.iter_errors(example["payload"])]
                assert errors == [], f"{name}: {errors}"
                checked += 1
        assert checked == len(EXAMPLES)

    def test_an_example_that_breaks_its_schema_is_caught(self, document: dict[str, Any]) -> None:
        registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, Resource.opaque(document))
        message = document["components"]["messages"]["customer.registered.v1"]
        broken = dict(message["examples"][0]["payload"], identifiers=[{"kind": "phone"}])
        schema = {"$ref": f"{DOCUMENT_URI}#/components/messages/customer.registered.v1/payload"}
        validator = jsonschema.Draft7Validator(schema, registry=registry)
        assert any("digest" in error.message for error in validator.iter_errors(broken))
