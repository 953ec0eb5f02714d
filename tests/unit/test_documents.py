"""The published documents are generated from the code and kept equal to it."""

import json
from pathlib import Path

import pytest
import yaml

from crm.registry import SERVICES
from shared.asyncapi import build_asyncapi

ROOT = Path(__file__).resolve().parents[2]


class TestAsyncApiDocument:
    def test_the_committed_document_is_what_the_code_generates(self) -> None:
        committed = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8"))

        assert committed == build_asyncapi(), "run `make docs` and commit docs/asyncapi.yaml"


class TestOpenApiDocuments:
    @pytest.mark.parametrize("name", sorted(SERVICES))
    def test_the_committed_document_is_what_the_service_serves(self, name: str) -> None:
        spec = SERVICES[name]
        committed = json.loads((ROOT / "docs" / "openapi" / f"{name}.json").read_text("utf-8"))

        assert committed == spec.create_app(spec.settings()).openapi(), (
            "run `make docs` and commit docs/openapi"
        )
