"""The published documents are generated from the code and kept equal to it."""

import json
import re
from pathlib import Path

import pytest
import yaml

from crm.registry import SERVICES
from shared.asyncapi import build_asyncapi
from shared.auth.roles import ROLE_SCOPES, Role

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


class TestChannelIntegrationGuide:
    def test_it_lists_every_role_and_exactly_what_a_channel_may_call(self) -> None:
        guide = (ROOT / "docs" / "channel-integration.md").read_text(encoding="utf-8")
        rows = {
            line.split("|")[1].strip(" `"): line
            for line in guide.splitlines()
            if line.startswith("| `") and line.count("|") == 4
        }

        assert set(rows) >= {role.value for role in Role}
        named = set(re.findall(r"`([a-z]+:[a-z]+)`", rows[Role.CHANNEL.value]))
        written = {"transactions:write", "interactions:write"}  # "post transactions and ..."
        assert named | written == ROLE_SCOPES[Role.CHANNEL]

    def test_every_scope_the_role_table_names_is_held_by_that_role(self) -> None:
        guide = (ROOT / "docs" / "channel-integration.md").read_text(encoding="utf-8")
        claimed = {
            Role(line.split("|")[1].strip(" `")): set(
                re.findall(r"`([a-z-]+:[a-z-]+)`", line.split("|")[3])
            )
            for line in guide.splitlines()
            if line.startswith("| `") and line.count("|") == 4
        }
        assert any(claimed.values())
        assert {role: scopes - ROLE_SCOPES[role] for role, scopes in claimed.items()} == {
            role: set() for role in claimed
        }
