"""How the Kafka clients reach the brokers and prove who they are.

Every aiokafka client the project creates (the bus's producer, consumers and admin client, the
embedded broker's readiness probe) takes its connection options from ``kafka_client_options``,
so none of them can be left speaking plaintext to a listener that wants SCRAM. The password
leaves its ``SecretStr`` there only, into the client's own options, and nothing logs those.
"""

from dataclasses import dataclass, field
from typing import Any

from aiokafka.conn import collect_hosts, create_conn
from aiokafka.errors import KafkaError
from aiokafka.helpers import create_ssl_context
from pydantic import SecretStr

from shared.settings import KafkaSecurityProtocol, SaslMechanism, SharedSettings


@dataclass(frozen=True)
class KafkaSecurity:
    protocol: KafkaSecurityProtocol = KafkaSecurityProtocol.PLAINTEXT
    mechanism: SaslMechanism = SaslMechanism.SCRAM_SHA_512
    username: str = ""
    password: SecretStr = field(default=SecretStr(""), repr=False)
    # Empty with TLS: the system's trust store.
    ca_file: str = ""

    @classmethod
    def of(cls, settings: SharedSettings) -> "KafkaSecurity":
        return cls(
            protocol=settings.kafka_security_protocol,
            mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            ca_file=settings.kafka_ssl_ca_file,
        )

    def describe(self) -> str:
        """Who connects and how, for messages; never the password."""
        if self.protocol.authenticates:
            return f"{self.protocol} as {self.username!r} with {self.mechanism}"
        return str(self.protocol)


# No authentication, no TLS: the embedded broker and docker-compose's.
PLAINTEXT = KafkaSecurity()


def kafka_client_options(bootstrap_servers: str, security: KafkaSecurity) -> dict[str, Any]:
    """The keyword arguments every aiokafka client (producer, consumer, admin) is built with."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers,
        "security_protocol": str(security.protocol),
    }
    if security.protocol.encrypts:
        # Checks the broker's certificate and its host name (Strimzi's broker certificates
        # name the bootstrap Service). Built per client: a renewed CA file is read again.
        options["ssl_context"] = create_ssl_context(cafile=security.ca_file or None)
    if security.protocol.authenticates:
        options["sasl_mechanism"] = str(security.mechanism)
        options["sasl_plain_username"] = security.username
        options["sasl_plain_password"] = security.password.get_secret_value()
    return options


async def connection_refusal(
    bootstrap_servers: str, security: KafkaSecurity, *, timeout_ms: int
) -> str | None:
    """Why the first bootstrap broker refuses one connection (a failed authentication, say),
    or None when it accepts it. aiokafka's clients only say they could not bootstrap, and log
    the reason; a service's start-up error should carry it."""
    host, port, _ = collect_hosts(bootstrap_servers, randomize=False)[0]
    options = kafka_client_options(bootstrap_servers, security)
    del options["bootstrap_servers"]
    try:
        connection = await create_conn(
            host, port, client_id="crm-diagnosis", request_timeout_ms=timeout_ms, **options
        )
    except (KafkaError, OSError, TimeoutError) as error:
        return f"{type(error).__name__}: {error}"
    connection.close()
    return None
