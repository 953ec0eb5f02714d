"""A real single-node Apache Kafka broker (KRaft) run with ``java`` from Kafka's own jars.

The jars are resolved from Maven Central by ``deploy/kafka/pom.xml`` (``make kafka-jars``) into
``var/kafka/libs``: no Kafka distribution, no Docker. The broker is its own controller, listens
on loopback only and writes its log4j2 output to a file in its work directory.

Given SCRAM users, its clients sign in (``crm.infra.kafka_sign_in``), and with ``authorize``
are held to their ACLs.
"""

import asyncio
import atexit
import base64
import concurrent.futures
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from crm.infra.kafka_sign_in import BROKER_USER, BrokerSignIn
from shared.bus.kafka_security import PLAINTEXT, KafkaSecurity, kafka_client_options

REPO_ROOT = Path(__file__).resolve().parents[2]
MIN_JAVA = 17  # Kafka 4's brokers need Java 17

# log4j2 reads YAML through jackson-dataformat-yaml, which the jars include. Everything goes to
# a file: a broker logging to the test run's terminal would drown the test output.
LOG4J2_YAML = """\
Configuration:
  status: warn
  Appenders:
    File:
      name: broker
      fileName: "{log}"
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: broker
"""


def new_cluster_id() -> str:
    """16 random bytes in unpadded base64url, like `kafka-storage random-uuid`; never starting
    with "-", which the storage tool's argument parser would take for an option (Kafka's own
    Uuid.randomUuid() avoids it the same way)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class KafkaStartError(RuntimeError):
    """The broker could not be formatted or started; the message carries its log's tail."""


def kafka_libs_dir() -> Path:
    return REPO_ROOT / "var" / "kafka" / "libs"


def _java_major(java: str) -> int | None:
    # `java -version` prints e.g. `openjdk version "17.0.15"` (or "1.8.0_392") on stderr.
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def kafka_available() -> str | None:
    """None when a broker can be started here; otherwise a human reason why not."""
    java = shutil.which("java")
    if java is None:
        return "no `java` on PATH (Kafka needs Java 17+)"
    major = _java_major(java)
    if major is None or major < MIN_JAVA:
        return f"`{java}` is Java {major or '?'}, Kafka needs Java {MIN_JAVA}+"
    if not any(kafka_libs_dir().glob("kafka_2.13-*.jar")):
        return f"Kafka's jars are not in {kafka_libs_dir()} (run `make kafka-jars`)"
    return None


def free_port() -> int:
    """A TCP port free on loopback right now (the kernel picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"\n--- last lines of {path} ---\n" + "\n".join(text)


class KafkaBroker:
    """A broker+controller in ``work_dir``; its storage survives ``stop``/``kill`` + ``start``."""

    def __init__(
        self,
        work_dir: Path,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        scram_users: Mapping[str, str] | None = None,
        tls_keystore: Path | None = None,
        authorize: bool = False,
    ) -> None:
        self.work_dir = work_dir.expanduser().resolve()
        # No users: a PLAINTEXT listener that asks nobody who they are (nor what they may do).
        self.sign_in = (
            BrokerSignIn.of(scram_users, tls_keystore, authorize=authorize) if scram_users else None
        )
        # Chosen once: a restart must come back on the same address for its clients.
        self.port = port or free_port()
        self.controller_port = controller_port or free_port()
        self.bootstrap_servers = f"127.0.0.1:{self.port}"
        self.tls_port = free_port() if tls_keystore else 0
        self.data_dir = self.work_dir / "data"
        self.config_file = self.work_dir / "server.properties"
        self.log4j_file = self.work_dir / "log4j2.yaml"
        self.log_file = self.work_dir / "broker.log"
        self.stdout_file = self.work_dir / "stdout.log"  # JVM errors before log4j is up
        self.pid_file = REPO_ROOT / "var" / "run" / f"kafka.{self.port}.pid"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def tls_bootstrap_servers(self) -> str:
        """The SASL_SSL listener, there with a TLS key store."""
        return f"127.0.0.1:{self.tls_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.is_running() and self._process else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 60) -> None:
        """Format the storage on first use, launch the broker and wait until it serves."""
        if self.is_running():
            return
        reason = kafka_available()
        if reason is not None:
            raise KafkaStartError(reason)
        for port in (self.port, self.controller_port, self.tls_port or self.port):
            # Otherwise the readiness probe could be answered by whatever holds the port.
            if not _port_is_free(port):
                raise KafkaStartError(f"port {port} on 127.0.0.1 is already in use")
        self._configure()
        # Formatting again would give the storage a new cluster id: keep what is there.
        if not (self.data_dir / "meta.properties").exists():
            self._format()
        with self.stdout_file.open("ab") as output:
            self._process = subprocess.Popen(
                self.java_command("kafka.Kafka", str(self.config_file), heap="-Xmx512m"),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.work_dir,  # where a JVM crash report would land
                # Its own session: a Ctrl-C meant for the test run does not reach the broker
                # mid-test; stop() shuts it down in order instead.
                start_new_session=True,
            )
        # Safety net for a parent that exits without stop(): the broker would outlive it.
        atexit.register(self.stop)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.write_text(f"{self._process.pid}\n")
        try:
            self._wait_until_serving(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (a controlled shutdown) the broker this object started; SIGKILL if needed."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL: the broker dies without a controlled shutdown (for fault tests).

        ``start`` afterwards recovers the same storage, as a real broker would after a crash.
        """
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self.pid_file.unlink(missing_ok=True)

    def restart(self, timeout: float = 60) -> None:
        """Stop (in order) and start again on the same ports and storage."""
        self.stop()
        self.start(timeout)

    def __enter__(self) -> "KafkaBroker":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def java_command(self, main_class: str, *args: str, heap: str) -> list[str]:
        """``java`` with Kafka's jars on the class path and the broker's log4j2 settings: runs
        a class of the jars, or a single-file Java program given its source file."""
        return [
            shutil.which("java") or "java",
            heap,
            "-cp",
            f"{kafka_libs_dir()}/*",
            f"-Dlog4j2.configurationFile={self.log4j_file}",
            main_class,
            *args,
        ]

    def _configure(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.log4j_file.write_text(LOG4J2_YAML.format(log=self.log_file))
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "6",
            # One node: every internal topic has one replica, or it would never be created.
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            # No waiting for more consumers to join: a test's group starts at once.
            "group.initial.rebalance.delay.ms": "0",
            # Topics are declared by the code (with their partitions), never created by a typo.
            "auto.create.topics.enable": "false",
            # After a kill, the dead incarnation stays registered until its session expires
            # (9 s by default) and the new one cannot register until then: shorter sessions
            # make crash-and-restart fault tests quicker, still far above any loopback delay.
            "broker.session.timeout.ms": "4000",
            "broker.heartbeat.interval.ms": "1000",
        }
        if self.sign_in is not None:
            properties |= self.sign_in.properties(
                port=self.port, tls_port=self.tls_port, controller_port=self.controller_port
            )
        self.config_file.write_text("".join(f"{k}={v}\n" for k, v in properties.items()))

    def _format(self) -> None:
        # A cluster id is 16 random bytes in unpadded base64url, as `kafka-storage random-uuid`.
        cluster_id = new_cluster_id()
        command = ["format", f"--cluster-id={cluster_id}", "-c", str(self.config_file)]
        if self.sign_in is not None:
            command += self.sign_in.format_arguments()
        formatted = subprocess.run(
            self.java_command("kafka.tools.StorageTool", *command, heap="-Xmx256m"),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if formatted.returncode != 0:
            output = (formatted.stderr + formatted.stdout).strip()[-3000:]
            raise KafkaStartError(f"formatting {self.data_dir} failed:\n{output}{self._tails()}")

    def _wait_until_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no attempt yet"
        while True:
            assert self._process is not None
            code = self._process.poll()
            if code is not None:
                raise KafkaStartError(
                    f"the broker exited with {code} while starting{self._tails()}"
                )
            if self._accepts_tcp():
                try:
                    probe = (
                        PLAINTEXT if self.sign_in is None else self.sign_in.security_of(BROKER_USER)
                    )
                    _probe_metadata(self.bootstrap_servers, probe)
                    return
                except Exception as error:  # any failure only means "not ready yet"
                    last_error = f"{type(error).__name__}: {error}"
            if time.monotonic() >= deadline:
                raise KafkaStartError(
                    f"the broker did not serve within {timeout}s (last probe: {last_error})"
                    f"{self._tails()}"
                )
            time.sleep(0.25)

    def _accepts_tcp(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def _tails(self) -> str:
        return _tail(self.log_file) + _tail(self.stdout_file, lines=15)


def _probe_metadata(bootstrap_servers: str, security: KafkaSecurity) -> None:
    """A real Kafka round trip: a metadata request that must list this broker.

    The listener accepts connections before the broker has joined the cluster; only a metadata
    answer naming a broker and a controller says clients can work. aiokafka is asyncio-only, so
    the probe runs its own loop in a worker thread: start() may be called under a running loop.
    """

    async def describe() -> None:
        admin = AIOKafkaAdminClient(
            **kafka_client_options(bootstrap_servers, security),
            request_timeout_ms=5000,
            client_id="crm-probe",
        )
        await admin.start()
        try:
            cluster = await admin.describe_cluster()
        finally:
            await admin.close()
        if not cluster.get("brokers") or cluster.get("controller_id", -1) < 0:
            raise RuntimeError(f"no broker or controller in the metadata yet: {cluster}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, describe()).result(timeout=15)
