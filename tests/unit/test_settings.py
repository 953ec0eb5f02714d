"""Settings from the environment: a service prefix first, then the common one."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.complaints.config import Settings as ComplaintsSettings
from services.customer.config import Settings as CustomerSettings
from shared.bus.kafka_security import KafkaSecurity
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


class TestKafkaSecuritySettings:
    def test_sasl_without_credentials_is_a_start_up_error(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CRM_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
        monkeypatch.setenv("CRM_KAFKA_SASL_USERNAME", "crm-customer")
        monkeypatch.delenv("CRM_KAFKA_SASL_PASSWORD", raising=False)

        with pytest.raises(ValidationError, match="needs CRM_KAFKA_SASL_USERNAME and"):
            CustomerSettings()

    def test_credentials_a_plaintext_client_would_never_send_are_refused(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("CRM_KAFKA_SECURITY_PROTOCOL", raising=False)
        monkeypatch.setenv("CRM_KAFKA_SASL_USERNAME", "crm-customer")
        monkeypatch.setenv("CRM_KAFKA_SASL_PASSWORD", "s3cret-from-the-kafkauser")

        with pytest.raises(ValidationError, match="never sends them"):
            CustomerSettings()

    def test_a_ca_file_needs_tls_and_must_exist(self, tmp_path: Path) -> None:
        ca_file = tmp_path / "ca.crt"
        ca_file.write_text("-----BEGIN CERTIFICATE-----\n")

        with pytest.raises(ValidationError, match="does not use TLS"):
            CustomerSettings(kafka_security_protocol="PLAINTEXT", kafka_ssl_ca_file=str(ca_file))
        with pytest.raises(ValidationError, match="is not a file"):
            CustomerSettings(kafka_security_protocol="SSL", kafka_ssl_ca_file=str(ca_file) + "x")
        assert CustomerSettings(
            kafka_security_protocol="SSL", kafka_ssl_ca_file=str(ca_file)
        ).kafka_ssl_ca_file == str(ca_file)

    def test_production_refuses_a_plain_password_over_plaintext(self) -> None:
        with pytest.raises(ValidationError, match="password in clear"):
            CustomerSettings(
                environment="production",
                database_url="postgresql+asyncpg://crm@db/crm",
                identifier_key="a-production-identifier-key",
                auth_jwks_url="https://idp.bank.example/jwks.json",
                kafka_security_protocol="SASL_PLAINTEXT",
                kafka_sasl_mechanism="PLAIN",
                kafka_sasl_username="crm-customer",
                kafka_sasl_password="s3cret",
            )

    def test_the_password_shows_in_no_rendering_of_the_settings(self) -> None:
        settings = CustomerSettings(
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_username="crm-customer",
            kafka_sasl_password="s3cret-from-the-kafkauser",
        )
        security = KafkaSecurity.of(settings)

        for rendering in (repr(settings), settings.model_dump_json(), repr(security)):
            assert "s3cret-from-the-kafkauser" not in rendering
        assert security.describe() == "SASL_SSL as 'crm-customer' with SCRAM-SHA-512"
