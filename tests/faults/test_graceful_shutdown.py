"""SIGTERM: a service stops taking requests, finishes, flushes and exits within 10 s."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from crm.infra.kafka import free_port
from shared.auth.tokens import development_bearer
from tests.reporting import report
from tests.service.customer.factories import individual

CRM = Path(sys.executable).with_name("crm")
GRACE = 10.0


class TestGracefulShutdown:
    def test_sigterm_ends_the_service_cleanly_and_in_time(self, migrated_database: str) -> None:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        env.update(
            CRM_DATABASE_URL=migrated_database,
            CRM_CUSTOMER_PORT=str(port),
            CRM_LOG_LEVEL="WARNING",
        )
        process = subprocess.Popen([str(CRM), "serve", "customer"], env=env, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, "crm serve exited before it was ready"
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "not ready within 30 s"
                time.sleep(0.2)
            created = httpx.post(
                f"http://127.0.0.1:{port}/v1/customers",
                json=individual(),
                headers=development_bearer(),
            )

            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=GRACE + 5)
            took = time.monotonic() - started
        finally:
            if process.poll() is None:
                process.kill()
            stderr = process.communicate()[1].decode(errors="replace")

        report(f"\nSIGTERM of the customer service: exit code {code}, {took:.1f} s to exit")
        assert created.status_code == 201
        assert code == 0, stderr[-2000:]
        assert took < GRACE
