"""The `crm` command an operator uses, against the real database."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from crm.cli import main
from crm.infra.postgres import EmbeddedPostgres
from crm.registry import SERVICES
from services.customer.app import create_app as create_customer_app
from services.customer.config import Settings as CustomerSettings
from shared.auth.roles import Role
from shared.auth.tokens import TokenVerifier
from shared.migrations import alembic_config, upgrade
from shared.settings import SharedSettings
from tests.service.conftest import serving


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, migrated_database: str) -> CliRunner:
    monkeypatch.setenv("CRM_DATABASE_URL", migrated_database)
    monkeypatch.setenv("CRM_LOG_LEVEL", "WARNING")
    return CliRunner()


class TestCli:
    def test_check_config_reports_each_service(self, runner: CliRunner) -> None:
        result = runner.invoke(main, ["check-config"])

        assert result.exit_code == 0, result.output
        assert "customer: port=8001 schema=customer bus=local auth=development" in result.output
        assert "contact_center: port=8004" in result.output

    async def test_token_prints_one_the_services_accept_for_that_role(
        self, runner: CliRunner
    ) -> None:
        manager = uuid.uuid4()
        result = runner.invoke(
            main, ["token", "--role", "customer_manager", "--manager-id", str(manager)]
        )

        assert result.exit_code == 0, result.output
        principal = await TokenVerifier(SharedSettings()).verify(result.output.strip())
        assert (principal.role, principal.manager_id) == (Role.CUSTOMER_MANAGER, manager)

    def test_token_refuses_a_role_without_the_claim_that_limits_it(self, runner: CliRunner) -> None:
        result = runner.invoke(main, ["token", "--role", "branch_staff"])

        assert result.exit_code == 2
        assert "--branch" in result.output

    def test_token_is_not_issued_in_production(
        self, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CRM_ENVIRONMENT", "production")
        monkeypatch.setenv("CRM_IDENTIFIER_KEY", "a-production-identifier-key")
        monkeypatch.setenv("CRM_AUTH_JWKS_URL", "https://idp.bank.example/jwks")
        result = runner.invoke(main, ["token", "--role", "system"])

        assert result.exit_code == 2
        assert "identity provider" in result.output

    def test_check_config_names_a_wrong_setting_and_fails(
        self, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CRM_COMPLAINTS_DEADLINE_PACK", "mars")
        result = runner.invoke(main, ["check-config"])

        assert result.exit_code == 1
        assert "complaints: CRM_COMPLAINTS_DEADLINE_PACK" in result.output
        assert "unknown deadline pack 'mars'" in result.output
        assert "customer: port=8001" in result.output  # the others are still reported

    def test_migrate_is_idempotent(self, runner: CliRunner) -> None:
        result = runner.invoke(main, ["migrate", "customer", "events"])

        assert result.exit_code == 0, result.output

    def test_wait_migrated_passes_once_the_schema_is_at_head(self, runner: CliRunner) -> None:
        result = runner.invoke(main, ["wait-migrated", "complaints", "--timeout", "0"])

        assert result.exit_code == 0, result.output
        assert "complaints: schema migrated" in result.output

    def test_wait_migrated_fails_on_a_schema_behind_the_release(
        self, postgres_server: EmbeddedPostgres, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        postgres_server.ensure_database("crm_behind_test")
        url = postgres_server.url("crm_behind_test")
        spec = SERVICES["complaints"]
        first = ScriptDirectory.from_config(
            alembic_config(spec.migrations, spec.settings_class(database_url=url))
        ).get_base()
        assert isinstance(first, str)
        monkeypatch.setenv("CRM_DATABASE_URL", url)
        runner = CliRunner()
        untouched = runner.invoke(main, ["wait-migrated", "complaints", "--timeout", "0"])
        # Synchronous test: the command runs its own event loop, as it does in a pod.
        asyncio.run(upgrade(spec.settings_class(database_url=url), spec.migrations, first))
        behind = runner.invoke(main, ["wait-migrated", "complaints", "--timeout", "0"])

        assert untouched.exit_code == 1
        assert behind.exit_code == 1
        assert "complaints: schema not migrated after 0 s" in behind.output

    def test_revalue_reports_what_it_did(self, runner: CliRunner) -> None:
        result = runner.invoke(main, ["revalue"])

        assert result.exit_code == 0, result.output
        # Warnings (a premium customer with no manager free) go to the log on stderr, which
        # the runner mixes in; the report is the last line.
        assert result.output.strip().splitlines()[-1].startswith("customers=")

    def test_asyncapi_as_json_lists_the_topics(self, runner: CliRunner) -> None:
        result = runner.invoke(main, ["asyncapi", "--format", "json"])

        document = json.loads(result.output)
        assert document["channels"]["transactions"]["address"] == "crm.transactions.v1"

    def test_an_unknown_service_is_refused(self, runner: CliRunner) -> None:
        result = runner.invoke(main, ["migrate", "payments"])

        assert result.exit_code == 2
        assert "payments" in result.output


async def _manager_with_a_visit_due(database_url: str) -> tuple[str, str]:
    """A manager, and a visit to their potential customer planned for an hour ago."""
    app = create_customer_app(CustomerSettings(database_url=database_url))
    async with serving(app) as client:
        manager = await client.post(
            "/v1/managers",
            json={
                "employee_number": f"E{uuid.uuid4().hex[:8].upper()}",
                "name": "陈静",
                "branch_code": "BJ001",
                "capacity": 1,
            },
        )
        manager_id = manager.json()["id"]
        lead = await client.post(
            "/v1/leads",
            json={
                "name": "周敏",
                "source": "walk_in",
                "manager_id": manager_id,
                "estimated_value": {"amount": "50000", "currency": "CNY"},
            },
        )
        planned = datetime.now(UTC) - timedelta(hours=1)
        visit = await client.post(
            f"/v1/leads/{lead.json()['id']}/visits",
            json={"planned_at": planned.isoformat(), "purpose": "first meeting"},
        )
        assert visit.status_code == 201, visit.text
        return str(manager_id), str(visit.json()["id"])


class TestWorklistCli:
    def test_worklist_lists_the_managers_items_as_the_api_does(
        self, runner: CliRunner, migrated_database: str
    ) -> None:
        manager_id, visit_id = asyncio.run(_manager_with_a_visit_due(migrated_database))

        listed = runner.invoke(main, ["worklist", "--manager", manager_id])
        as_json = runner.invoke(main, ["worklist", "--manager", manager_id, "--json"])
        unknown = runner.invoke(main, ["worklist", "--manager", str(uuid.uuid4())])

        assert listed.exit_code == 0, listed.output
        assert "visit" in listed.output
        assert "first meeting" in listed.output
        assert visit_id in {e["id"] for e in json.loads(as_json.output)["entries"]}
        assert unknown.exit_code == 1
        assert "no manager" in unknown.output


class TestRulesCli:
    def test_export_then_load_as_new_versions(self, runner: CliRunner, tmp_path: Path) -> None:
        exported = runner.invoke(main, ["rules", "export"])
        assert exported.exit_code == 0, exported.output
        document = yaml.safe_load(exported.output)
        assert document["large_deposit"]["action"]["product"] == "wealth_management"

        rule_id = f"cli_{uuid.uuid4().hex[:8]}"
        path = tmp_path / "rules.yaml"
        rule = dict(document["loan_paid_off"], name="Loan paid off (branch campaign)")
        path.write_text(yaml.safe_dump({rule_id: rule}))
        first = runner.invoke(main, ["rules", "load", str(path), "--status", "draft"])
        assert first.output.strip().splitlines()[-1] == "created=1 new_versions=0"
        again = runner.invoke(main, ["rules", "load", str(path), "--status", "draft"])
        assert again.output.strip().splitlines()[-1] == "created=0 new_versions=1"

    def test_a_rule_file_that_cannot_be_evaluated_loads_nothing(
        self, runner: CliRunner, tmp_path: Path
    ) -> None:
        path = tmp_path / "bad.yaml"
        rule_id = f"cli_{uuid.uuid4().hex[:8]}"
        path.write_text(yaml.safe_dump({rule_id: {
            "name": "Broken", "trigger": {"events": ["transaction.posted"]},
            "conditions": [{"kind": "event_field", "field": "colour", "op": "==", "value": "red"}],
            "action": {"kind": "retention_call"},
        }}))  # fmt: skip
        result = runner.invoke(main, ["rules", "load", str(path)])
        assert result.exit_code == 1
        assert "no field 'colour'" in result.output
        exported = yaml.safe_load(runner.invoke(main, ["rules", "export"]).output)
        assert rule_id not in exported
