"""Starting the servers a benchmark measures, and waiting for them to answer."""

import asyncio
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres

BENCH_DATABASE = "bench"


@contextmanager
def bench_postgres() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL of the benchmark's own in a temporary directory, with the database
    ``BENCH_DATABASE``; stopped and removed afterwards."""
    with tempfile.TemporaryDirectory() as work:
        postgres = EmbeddedPostgres(Path(work) / "pg", port=free_port())
        postgres.start()
        try:
            postgres.ensure_database(BENCH_DATABASE)
            yield postgres
        finally:
            postgres.stop()


def start_quietly(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A server process whose output would only interleave with the benchmark's."""
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def answering(url: str, timeout: float = 60) -> None:
    """Return once ``url`` answers without a server error (a `/readyz` says 503 until ready)."""
    async with httpx.AsyncClient() as client:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if (await client.get(url, timeout=1)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not answering after {timeout:.0f} s")
