"""Background loops that live as long as the API process: a router lifespan that runs one beside the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any


def beside_app(loop: Callable[[], Awaitable[None]]) -> Callable[[Any], Any]:
    """A lifespan (for `APIRouter(lifespan=...)`) that starts `loop()` as a task when the app starts
    and cancels it, waiting for it to end, when the app stops."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        running = asyncio.create_task(loop())
        try:
            yield
        finally:
            running.cancel()
            with suppress(asyncio.CancelledError):
                await running

    return lifespan
