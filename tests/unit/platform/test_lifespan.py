"""`beside_app`: a router's background loop starts with the app and is cancelled (and awaited) when it stops."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from worksample.web.lifespan import beside_app

pytestmark = pytest.mark.timeout(30)


def test_the_loop_runs_while_the_app_runs_and_is_cancelled_at_shutdown():
    seen: list[str] = []

    async def loop() -> None:
        seen.append("started")
        try:
            while True:
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)  # a loop finishing its pass: shutdown must wait for it
            seen.append("cancelled")
            raise

    app = FastAPI()
    app.include_router(APIRouter(lifespan=beside_app(loop)))
    with TestClient(app):
        for _ in range(100):
            if seen:
                break
            time.sleep(0.01)
        assert seen == ["started"]
    assert seen == ["started", "cancelled"]  # awaited: the shutdown waited for the loop to end

