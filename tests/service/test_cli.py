"""The `crm` command an operator uses, against the real database."""

import json
import uuid
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from crm.cli import main


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, migrated_database: str) -> CliRunner:
    monkeypatch.setenv("CRM_DATABASE_URL", migrated_database)
    monkeypatch.setenv("CRM_LOG_LEVEL", "WARNING")
    return CliRunner()


class TestCli:
    def test_check_config_reports_each_service(self, runner: CliRunner) -> None:
        result = runner.invoke(main, ["check-config"])

        assert result.exit_code == 0, result.output
        assert "customer: port=8001 schema=customer bus=local" in result.output
        assert "contact_center: port=8004" in result.output

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
