"""A cancellation swallowed on the way (Python 3.11's ``asyncio.wait_for`` when the awaited
future completes at the same moment, inside aiomqtt's QoS 1 publish) still ends the service's
loops, so leaving ``IngestService`` never hangs."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from ingest.service import _raise_if_cancelling


async def test_a_swallowed_cancellation_is_honoured_at_the_next_turn() -> None:
    turns = 0

    async def loop() -> None:
        nonlocal turns
        while True:
            _raise_if_cancelling()
            turns += 1
            # what wait_for does on 3.11 when its future completes as it is cancelled
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(10)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert turns == 1
