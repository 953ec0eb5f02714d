"""Each service's published OpenAPI document passes the OpenAPI ecosystem's own validator
(openapi-spec-validator, against the OpenAPI 3.1 specification's schema and rules), as a
channel team's client generator would read it."""

import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from crm.registry import SERVICES

DOCUMENTS = Path(__file__).parents[2] / "docs" / "openapi"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_published_document_is_valid_openapi(service: str) -> None:
    document = json.loads((DOCUMENTS / f"{service}.json").read_text())
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_validator_refuses_a_broken_document() -> None:
    document = json.loads((DOCUMENTS / "customer.json").read_text())
    operation = next(iter(document["paths"].values()))
    next(iter(operation.values()))["responses"] = {"200": {"content": "not an object"}}
    with pytest.raises(OpenAPIValidationError):
        validate(document)
