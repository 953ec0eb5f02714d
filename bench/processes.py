"""Starting the servers a benchmark measures, and waiting for them to answer."""

import asyncio
import subprocess
import time

import httpx


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
