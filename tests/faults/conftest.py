"""What the fault tests share."""

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from shared.db import create_engine
from shared.settings import SharedSettings


async def unpublished(settings: SharedSettings) -> int:
    """Events of the service's outbox not yet acknowledged by the bus."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            sql = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            return int(await conn.scalar(text(sql)) or 0)
    finally:
        await engine.dispose()


CRM = Path(sys.executable).parent / "crm"


def serve_in_own_process(service: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`crm serve SERVICE` as a process of its own: one a test can kill outright."""
    return subprocess.Popen(
        [str(CRM), "serve", service], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
