"""Settings from the environment: a service prefix first, then the common one."""

import pytest
from pydantic import ValidationError

from services.complaints.config import Settings as ComplaintsSettings
from services.customer.config import Settings as CustomerSettings
from shared.settings import BusBackend


class TestSettings:
    def test_defaults_follow_the_service(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("CRM_BUS", raising=False)
        settings = CustomerSettings()

        assert settings.port == 8001
        assert settings.db_schema == "customer"
        assert settings.event_source == "/crm/customer"
        assert settings.bus is BusBackend.LOCAL

    def test_the_service_prefix_wins_over_the_common_one(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CRM_BUS", "kafka")
        monkeypatch.setenv("CRM_KAFKA_BOOTSTRAP_SERVERS", "broker-a:9092")
        monkeypatch.setenv("CRM_COMPLAINTS_KAFKA_BOOTSTRAP_SERVERS", "broker-b:9092")

        assert ComplaintsSettings().kafka_bootstrap_servers == "broker-b:9092"
        assert CustomerSettings().kafka_bootstrap_servers == "broker-a:9092"
        assert CustomerSettings().bus is BusBackend.KAFKA

    def test_production_refuses_the_development_database(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CRM_ENVIRONMENT", "production")
        monkeypatch.delenv("CRM_DATABASE_URL", raising=False)

        with pytest.raises(ValidationError, match="CRM_DATABASE_URL"):
            CustomerSettings()

    def test_a_bad_value_names_the_setting(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CRM_BUS", "carrier-pigeon")

        with pytest.raises(ValidationError, match="bus"):
            CustomerSettings()
