"""The published documents are generated from the code and kept equal to it."""

from pathlib import Path

import yaml

import crm.registry  # noqa: F401 - registers every service's event models
from shared.asyncapi import build_asyncapi

ROOT = Path(__file__).resolve().parents[2]


class TestAsyncApiDocument:
    def test_the_committed_document_is_what_the_code_generates(self) -> None:
        committed = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8"))

        assert committed == build_asyncapi(), "run `make asyncapi` and commit docs/asyncapi.yaml"
