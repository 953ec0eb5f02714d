"""A real single-node Apache Kafka broker (KRaft) run with ``java`` from Kafka's own jars.

The jars are resolved from Maven Central by ``deploy/kafka/pom.xml`` (``make kafka-jars``)
into ``var/kafka/libs``. The broker is its own controller, listens on loopback only, and
writes its log4j output to a file in its work directory.
"""

import base64
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

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


class KafkaStartError(RuntimeError):
    pass


def kafka_libs_dir() -> Path:
    return REPO_ROOT / "var" / "kafka" / "libs"


def kafka_available() -> str | None:
    """None when a broker can be started here; otherwise why not."""
    if shutil.which("java") is None:
        return "no `java` on PATH"
    if not any(kafka_libs_dir().glob("kafka_2.13-*.jar")):
        return f"Kafka's jars are not in {kafka_libs_dir()} (run `make kafka-jars`)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class KafkaBroker:
    def __init__(
        self, work_dir: Path, *, port: int | None = None, controller_port: int | None = None
    ) -> None:
        self.work_dir = work_dir.resolve()
        self.port = port or free_port()
        self.controller_port = controller_port or free_port()
        self.bootstrap_servers = f"127.0.0.1:{self.port}"
        self.log_file = self.work_dir / "broker.log"
        self.pid_file = REPO_ROOT / "var" / "run" / f"kafka.{self.port}.pid"
        self._process: subprocess.Popen[bytes] | None = None

    def _java(self, main_class: str, *args: str) -> list[str]:
        return [
            "java",
            "-Xms256m",
            "-Xmx512m",
            "-cp",
            f"{kafka_libs_dir()}/*",
            f"-Dlog4j2.configurationFile={self.work_dir / 'log4j2.yaml'}",
            main_class,
            *args,
        ]

    def _configure(self) -> Path:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "log4j2.yaml").write_text(LOG4J2_YAML.format(log=self.log_file))
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
            "log.dirs": str(self.work_dir / "data"),
            "num.partitions": "6",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
        }
        config = self.work_dir / "server.properties"
        config.write_text("".join(f"{key}={value}\n" for key, value in properties.items()))
        return config

    def start(self, timeout: float = 90) -> None:
        """Format the storage on first use, launch the broker and wait until it serves."""
        config = self._configure()
        if not (self.work_dir / "data" / "meta.properties").exists():
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            formatted = subprocess.run(
                self._java(
                    "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)
                ),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if formatted.returncode != 0:
                raise KafkaStartError(f"storage format failed: {formatted.stderr[-2000:]}")
        with (self.work_dir / "stdout.log").open("ab") as output:
            self._process = subprocess.Popen(
                self._java("kafka.Kafka", str(config)),
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C meant for the test run is not also the broker's.
                start_new_session=True,
            )
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.write_text(str(self._process.pid))
        self._wait_until_serving(timeout)

    def _wait_until_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise KafkaStartError(
                    f"the broker exited ({self._process.returncode}){self._tail()}"
                )
            if self._log_says_started():
                return
            time.sleep(0.2)
        self.stop()
        raise KafkaStartError(f"the broker did not start within {timeout}s{self._tail()}")

    def _log_says_started(self) -> bool:
        # "Kafka Server started" is logged once the broker registered with the controller and
        # opened its listeners: clients can use it from then on.
        if not self.log_file.exists():
            return False
        return "Kafka Server started" in self.log_file.read_text(errors="replace")

    def _tail(self) -> str:
        for path in (self.log_file, self.work_dir / "stdout.log"):
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()[-30:]
                return f"\n--- {path.name} ---\n" + "\n".join(lines)
        return ""

    def stop(self, timeout: float = 30) -> None:
        """Stop the broker this object started: SIGTERM (a controlled shutdown), then SIGKILL."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """``kill -9``: the broker dies without a controlled shutdown (for fault tests)."""
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._process = None
        self.pid_file.unlink(missing_ok=True)
