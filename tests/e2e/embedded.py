"""Starting and stopping the real `crm run` (embedded PostgreSQL, local bus) for the e2e tests.

It runs as a reader runs it, in a subprocess, but on free ports so that a developer's own
`make run` on 8001-8004 and the test's never meet.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from crm.infra.kafka import free_port
from crm.registry import SERVICES as SERVICE_SPECS

SERVICES = tuple(SERVICE_SPECS)
CRM = Path(sys.executable).with_name("crm")


def embedded_env() -> tuple[dict[str, str], dict[str, int], int]:
    """The environment of a `crm run` on free ports (none of the caller's CRM_ settings), the
    service ports and the PostgreSQL port."""
    ports = {name: free_port() for name in SERVICES}
    pg_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update({f"CRM_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    # The workers `crm run` starts listen on ports of their own (health and metrics).
    env.update({f"CRM_{name.upper()}_WORKER_PORT": str(free_port()) for name in SERVICES})
    env["CRM_LOG_LEVEL"] = "WARNING"
    return env, ports, pg_port


def start(env: dict[str, str], data_dir: Path, pg_port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(CRM), "run", "--data-dir", str(data_dir), "--pg-port", str(pg_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_ready(ports: dict[str, int], process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = dict(ports)
    while pending and time.monotonic() < deadline:
        assert process.poll() is None, "crm run exited before it was ready"
        for name, port in list(pending.items()):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    del pending[name]
            except httpx.TransportError:
                pass
        time.sleep(0.3)
    assert not pending, f"not ready after {timeout}s: {sorted(pending)}"


def interrupt(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    """Ctrl-C, as a reader stops it; the exit code and what it wrote to stderr."""
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"crm run did not stop within 30 s of Ctrl-C:\n{stderr.decode()[-3000:]}")
    return process.returncode, stderr.decode()
