"""Waiting for effects that happen in another task or another transaction."""

import asyncio
from collections.abc import Awaitable, Callable


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], *, timeout: float = 60.0, every: float = 0.1
) -> None:
    """Poll ``predicate``: the effects are rows written by another transaction, and there is
    nothing to wait on but the database itself."""
    async with asyncio.timeout(timeout):
        while not await predicate():  # noqa: ASYNC110
            await asyncio.sleep(every)
