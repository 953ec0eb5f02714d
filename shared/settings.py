"""Settings read from the environment.

Every service has one settings object. A value is looked up first under the service's own
prefix (``CRM_CUSTOMER_DATABASE_URL``) and then under the common one (``CRM_DATABASE_URL``),
so a deployment can share one value across services and still override it for one of them.
"""

from enum import StrEnum
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)


class BusBackend(StrEnum):
    LOCAL = "local"
    KAFKA = "kafka"


class KafkaSecurityProtocol(StrEnum):
    """Kafka's own names for a listener's transport and authentication."""

    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"

    @property
    def authenticates(self) -> bool:
        return self in (KafkaSecurityProtocol.SASL_PLAINTEXT, KafkaSecurityProtocol.SASL_SSL)

    @property
    def encrypts(self) -> bool:
        return self in (KafkaSecurityProtocol.SSL, KafkaSecurityProtocol.SASL_SSL)


class SaslMechanism(StrEnum):
    SCRAM_SHA_512 = "SCRAM-SHA-512"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    PLAIN = "PLAIN"


class ServicePart(StrEnum):
    """What of a service one process runs (``crm serve SERVICE --part``)."""

    ALL = "all"
    # The HTTP API: requests write the outbox, and a worker elsewhere publishes it.
    API = "api"
    # The bus work: the outbox relay, the event consumer and the periodic jobs, with a small
    # HTTP server of its own for the probes and the metrics.
    WORKER = "worker"

    @property
    def serves_api(self) -> bool:
        return self is not ServicePart.WORKER

    @property
    def works_the_bus(self) -> bool:
        return self is not ServicePart.API


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SigningAlgorithm(StrEnum):
    """Asymmetric algorithms only: a shared-secret (HS*) key held by every service would let
    any of them mint tokens, and "none" is no signature at all."""

    RS256 = "RS256"
    ES256 = "ES256"
    PS256 = "PS256"


DEVELOPMENT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5433/crm"
DEVELOPMENT_IDENTIFIER_KEY = "development-only-identifier-key"
WORKER_PORT_OFFSET = 100


class SharedSettings(BaseSettings):
    """What every service needs; subclasses add their own fields and set ``service_name``."""

    service_name: ClassVar[str] = "shared"
    default_port: ClassVar[int] = 8000

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    @field_validator("bank_time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"{name!r} is not an IANA time zone") from error
        return name

    @property
    def bank_zone(self) -> ZoneInfo:
        return ZoneInfo(self.bank_time_zone)

    environment: Environment = Environment.DEVELOPMENT
    database_url: SecretStr = SecretStr(DEVELOPMENT_DATABASE_URL)
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_pool_timeout_seconds: float = Field(default=2.0, gt=0)
    # A pooled connection idle this long is checked (one short query) before it is used; one
    # in steady use is not. 0 checks every time.
    database_idle_ping_seconds: float = Field(default=10.0, ge=0)
    database_statement_timeout_ms: int = Field(default=10_000, ge=0)
    db_schema: str = Field(default="", pattern=r"^[a-z_][a-z0-9_]*$|^$")

    # The bank's own time zone: a date alone in a query is that day here (shared.periods).
    bank_time_zone: str = "Asia/Shanghai"
    bus: BusBackend = BusBackend.LOCAL
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_partitions: int = Field(default=6, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    # How the clients reach the brokers and who they are there (a Strimzi KafkaUser: SCRAM
    # over the TLS listener, its CA from the cluster's `<cluster>-cluster-ca-cert` Secret).
    # No CA file with TLS: the system's trust store.
    kafka_security_protocol: KafkaSecurityProtocol = KafkaSecurityProtocol.PLAINTEXT
    kafka_sasl_mechanism: SaslMechanism = SaslMechanism.SCRAM_SHA_512
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_ca_file: str = ""
    local_bus_partitions: int = Field(default=6, ge=1)

    # A round publishes what is waiting, up to this many: in steady state a round holds a few
    # events whatever the limit, and a backlog drains 1.67x faster on the local bus and 1.20x
    # on Kafka at 2,000 than at 200 (bench/outbox_relay.py --round-sizes; no gain beyond).
    relay_batch_size: int = Field(default=2000, ge=1, le=5000)
    relay_poll_interval_seconds: float = Field(default=0.5, gt=0)
    # Above this many unpublished events new writes get 503 + Retry-After (back-pressure):
    # the bus has been away long enough that piling up more only delays recovery.
    outbox_backlog_limit: int = Field(default=100_000, ge=1)
    # The largest request body a service reads (413 past it): a transaction batch is about
    # 300 bytes a transaction, so 8 MiB leaves a 10,000-transaction batch room.
    max_request_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    # A background task that ends unexpectedly more often than this within the window is given
    # up, and /healthz then fails so that the orchestrator restarts the process.
    background_task_max_restarts: int = Field(default=5, ge=0)
    background_task_restart_window_seconds: float = Field(default=300.0, gt=0)
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_retry_backoff_seconds: float = Field(default=0.2, ge=0)
    consumer_batch_size: int = Field(default=100, ge=1)
    # After a poll that was not full, the consumer polls again only this long after it, so that
    # a steady trickle is handled in fewer, larger transactions: on a busy machine the fixed
    # cost of each (the inbox claim, the reads, the commit, the offsets) is what crowds out
    # the latency path. 0 polls at once, for consumers that are on that path.
    consumer_linger_ms: int = Field(default=0, ge=0, le=5000)

    # Keys the HMACs of personal identifiers (events carry digests, never the numbers) and of
    # card numbers (never stored). Shared: a channel service recognises a caller by hashing
    # what the caller typed with the same key the customer service used.
    identifier_key: SecretStr = Field(default=SecretStr(DEVELOPMENT_IDENTIFIER_KEY), min_length=16)

    # OpenTelemetry tracing: off unless asked for. Spans go to an OTLP/HTTP collector at
    # ``tracing_otlp_endpoint`` (empty: to no exporter, for tests that add their own).
    tracing_enabled: bool = False
    tracing_otlp_endpoint: str = "http://127.0.0.1:4318/v1/traces"
    tracing_sample_ratio: float = Field(default=1.0, ge=0, le=1)

    # Bearer tokens (OAuth2 JWTs). In production the bank's identity provider signs them and
    # the services check them against its JWKS (``auth_jwks_url``) or one PEM public key;
    # with neither set, the development key (shared.auth.tokens) is trusted instead.
    auth_issuer: str = "crm-development"
    auth_audience: str = "crm"
    auth_jwks_url: str = ""
    auth_public_key: str = ""
    auth_jwks_cache_seconds: float = Field(default=300, gt=0)
    auth_algorithms: list[SigningAlgorithm] = [SigningAlgorithm.RS256, SigningAlgorithm.ES256]
    auth_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # The service's own identity when it calls another service (client-credentials grant);
    # with no token URL it signs a development token for itself (not in production).
    auth_token_url: str = ""
    auth_client_id: str = ""
    auth_client_secret: SecretStr = SecretStr("")

    host: str = "127.0.0.1"
    port: int = 0
    part: ServicePart = ServicePart.ALL
    # Where a worker process answers the probes and the metrics scrape (its API's port + 100).
    worker_port: int = 0
    log_level: str = "INFO"
    log_json: bool = True

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        service_prefix = f"CRM_{cls.service_name.upper()}_"
        return (
            init_settings,
            EnvSettingsSource(settings_cls, env_prefix=service_prefix),
            EnvSettingsSource(settings_cls, env_prefix="CRM_"),
            file_secret_settings,
        )

    @model_validator(mode="after")
    def _fill_service_defaults(self) -> "SharedSettings":
        # Frozen model: defaults that depend on the service are set once, here.
        if not self.db_schema:
            object.__setattr__(self, "db_schema", self.service_name)
        if not self.port:
            object.__setattr__(self, "port", self.default_port)
        if not self.worker_port:
            object.__setattr__(self, "worker_port", self.default_port + WORKER_PORT_OFFSET)
        if self.environment is Environment.PRODUCTION and (
            self.database_url.get_secret_value() == DEVELOPMENT_DATABASE_URL
        ):
            raise ValueError("CRM_DATABASE_URL must be set in production")
        if self.environment is Environment.PRODUCTION and (
            self.identifier_key.get_secret_value() == DEVELOPMENT_IDENTIFIER_KEY
        ):
            raise ValueError("CRM_IDENTIFIER_KEY must be set in production")
        if self.environment is Environment.PRODUCTION and not (
            self.auth_jwks_url or self.auth_public_key
        ):
            # Otherwise the published development key would be trusted.
            raise ValueError("CRM_AUTH_JWKS_URL or CRM_AUTH_PUBLIC_KEY must be set in production")
        self._check_kafka_security()
        return self

    def _check_kafka_security(self) -> None:
        # Each mistake here would otherwise show only as a broker refusing the connection (or,
        # worse, as a client that never sends the credentials it was given).
        protocol = self.kafka_security_protocol
        has_credentials = bool(
            self.kafka_sasl_username or self.kafka_sasl_password.get_secret_value()
        )
        if protocol.authenticates and not (
            self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()
        ):
            raise ValueError(
                f"CRM_KAFKA_SECURITY_PROTOCOL={protocol} needs CRM_KAFKA_SASL_USERNAME and "
                "CRM_KAFKA_SASL_PASSWORD"
            )
        if has_credentials and not protocol.authenticates:
            raise ValueError(
                f"Kafka credentials are set but CRM_KAFKA_SECURITY_PROTOCOL={protocol} never "
                "sends them: use SASL_SSL (or SASL_PLAINTEXT)"
            )
        if self.kafka_ssl_ca_file and not protocol.encrypts:
            raise ValueError(
                f"CRM_KAFKA_SSL_CA_FILE is set but CRM_KAFKA_SECURITY_PROTOCOL={protocol} "
                "does not use TLS"
            )
        if self.kafka_ssl_ca_file and not Path(self.kafka_ssl_ca_file).is_file():
            raise ValueError(f"CRM_KAFKA_SSL_CA_FILE {self.kafka_ssl_ca_file} is not a file")
        if (
            self.environment is Environment.PRODUCTION
            and protocol is KafkaSecurityProtocol.SASL_PLAINTEXT
            and self.kafka_sasl_mechanism is SaslMechanism.PLAIN
        ):
            # PLAIN sends the password itself; over plaintext anyone on the path reads it.
            raise ValueError("SASL PLAIN over SASL_PLAINTEXT would send the password in clear")

    @property
    def listen_port(self) -> int:
        """The port this process serves: the API's, or the worker's own."""
        return self.port if self.part.serves_api else self.worker_port

    @property
    def event_source(self) -> str:
        """The CloudEvents ``source`` of everything this service publishes."""
        return f"/crm/{self.service_name}"
