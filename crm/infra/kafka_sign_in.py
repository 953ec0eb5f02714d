"""The embedded broker's listeners for clients that sign in, as Strimzi's ask of the services.

SCRAM-SHA-512 on a SASL_PLAINTEXT listener and, given a key store, on a SASL_SSL listener
beside it. The users' credentials are written into the metadata when the storage is formatted
(the storage tool's ``--add-scram``); the controller listener stays PLAINTEXT. With
``authorize``, the broker holds every client to its ACLs, as Strimzi's ``simple`` authorization
does (KRaft's StandardAuthorizer), and only the broker's own user may do everything.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from shared.bus.kafka_security import KafkaSecurity
from shared.settings import KafkaSecurityProtocol, SaslMechanism

BROKER_USER = "crm-broker"  # the broker's own, for its inter-broker listener and its probe
_SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule required"


@dataclass(frozen=True)
class BrokerSignIn:
    users: Mapping[str, str]  # name -> password, the broker's own among them
    # PEM: the broker's private key (PKCS#8, unencrypted) and its certificate chain.
    keystore: Path | None = None
    authorize: bool = False

    @classmethod
    def of(
        cls, users: Mapping[str, str], keystore: Path | None = None, *, authorize: bool = False
    ) -> "BrokerSignIn":
        return cls({BROKER_USER: secrets.token_urlsafe(24), **users}, keystore, authorize)

    def security_of(
        self, user: str, *, password: str | None = None, ca_file: Path | None = None
    ) -> KafkaSecurity:
        """``user`` signing in (with another ``password``, if given); over TLS with a CA file."""
        return KafkaSecurity(
            protocol=(
                KafkaSecurityProtocol.SASL_PLAINTEXT
                if ca_file is None
                else KafkaSecurityProtocol.SASL_SSL
            ),
            mechanism=SaslMechanism.SCRAM_SHA_512,
            username=user,
            password=SecretStr(self.users[user] if password is None else password),
            ca_file=str(ca_file or ""),
        )

    def properties(self, *, port: int, tls_port: int, controller_port: int) -> dict[str, str]:
        listeners = {"SASL_PLAINTEXT": port}
        if self.keystore is not None:
            listeners["SASL_SSL"] = tls_port
        advertised = ",".join(f"{name}://127.0.0.1:{p}" for name, p in listeners.items())
        login = f'{_SCRAM_LOGIN} username="{BROKER_USER}" password="{self.users[BROKER_USER]}";'
        properties = {
            "listeners": f"{advertised},CONTROLLER://127.0.0.1:{controller_port}",
            "advertised.listeners": advertised,
            "listener.security.protocol.map": ",".join(
                [*(f"{name}:{name}" for name in listeners), "CONTROLLER:PLAINTEXT"]
            ),
            "inter.broker.listener.name": "SASL_PLAINTEXT",
            "sasl.enabled.mechanisms": "SCRAM-SHA-512",
            "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        }
        for name in listeners:
            properties[f"listener.name.{name.lower()}.scram-sha-512.sasl.jaas.config"] = login
        if self.keystore is not None:
            properties["listener.name.sasl_ssl.ssl.keystore.type"] = "PEM"
            properties["listener.name.sasl_ssl.ssl.keystore.location"] = str(self.keystore)
        if self.authorize:
            properties["authorizer.class.name"] = (
                "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
            )
            # The broker reaches its own controller over the PLAINTEXT controller listener (on
            # loopback, no client's), where it is ANONYMOUS: it must pass the authorizer too.
            properties["super.users"] = f"User:{BROKER_USER};User:ANONYMOUS"
        return properties

    def client_properties(self, user: str) -> dict[str, str]:
        """A Java client's settings to sign in as ``user`` (Kafka's own tools, the admin API)."""
        password = self.users[user]
        return {
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.jaas.config": f'{_SCRAM_LOGIN} username="{user}" password="{password}";',
        }

    def format_arguments(self) -> list[str]:
        return [
            argument
            for name, password in self.users.items()
            for argument in ("--add-scram", f"SCRAM-SHA-512=[name={name},password={password}]")
        ]
