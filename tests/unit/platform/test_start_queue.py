"""The start queue (issue 13/17: a hiring event's Starts at once): never more than `limit` cold starts at once,
first come first served, nobody refused below the bound, a clear refusal past it, the warm pool only in spare
capacity. No Docker: the "start" is a sleep that records how many run at once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from worksample.workspace.startqueue import StartQueue, StartQueueFull

pytestmark = [pytest.mark.timeout(30)]


class Starts:
    """Records how many fake cold starts run at once and in which order they got their slot."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.order: list[str] = []

    async def one(self, queue: StartQueue, key: str, hold_s: float = 0.02) -> float:
        async with queue.slot(key) as waited:
            self.order.append(key)
            self.now += 1
            self.peak = max(self.peak, self.now)
            await asyncio.sleep(hold_s)
            self.now -= 1
        return waited


async def test_many_starts_at_once_run_at_most_limit_at_a_time_in_arrival_order_and_all_succeed():
    queue, starts = StartQueue(limit=3, max_waiting=100), Starts()
    keys = [f"a{n:02d}" for n in range(20)]
    tasks = []
    for key in keys:  # arrivals in a known order, all before the first start ends
        tasks.append(asyncio.create_task(starts.one(queue, key)))
        await asyncio.sleep(0)
    waited = await asyncio.gather(*tasks)
    assert starts.peak == 3 and queue.peak_running == 3
    assert starts.order == keys  # first come, first served
    assert waited[0] < 0.01 and waited[-1] > 0.1  # the last waited for ~6 rounds of 0.02 s
    assert queue.snapshot()["running"] == 0 and queue.snapshot()["waiting"] == 0


async def test_past_the_bound_a_start_is_refused_with_retry_after_and_the_line_still_drains():
    queue, starts = StartQueue(limit=1, max_waiting=2), Starts()
    tasks = [asyncio.create_task(starts.one(queue, f"k{n}", hold_s=0.1)) for n in range(3)]
    await asyncio.sleep(0.01)
    assert queue.position("k0") == 0 and queue.position("k1") == 1 and queue.position("k2") == 2
    assert queue.full()
    with pytest.raises(StartQueueFull) as refused:
        async with queue.slot("k3"):
            pass
    assert refused.value.http_status == 503 and 5 <= refused.value.retry_after_s <= 600
    assert "2 workspaces are already waiting" in str(refused.value)
    await asyncio.gather(*tasks)
    assert starts.order == ["k0", "k1", "k2"] and not queue.full()


async def test_a_start_that_gives_up_while_waiting_leaves_the_line():
    queue, starts = StartQueue(limit=1, max_waiting=10), Starts()
    first = asyncio.create_task(starts.one(queue, "first", hold_s=0.1))
    await asyncio.sleep(0.01)
    quitter = asyncio.create_task(starts.one(queue, "quitter"))
    last = asyncio.create_task(starts.one(queue, "last"))
    await asyncio.sleep(0.01)
    assert queue.position("last") == 2
    quitter.cancel()
    await asyncio.sleep(0.01)
    assert queue.position("last") == 1 and queue.position("quitter") is None
    await asyncio.gather(first, last)
    assert starts.order == ["first", "last"] and queue.snapshot()["running"] == 0


async def test_a_failed_start_gives_its_slot_back():
    queue = StartQueue(limit=1, max_waiting=10)
    with pytest.raises(RuntimeError):
        async with queue.slot("broken"):
            raise RuntimeError("pod did not start")
    async with queue.slot("next") as waited:
        assert waited < 0.01


def spare_from_a_thread(queue: StartQueue) -> bool:
    """Ask for a spare slot from another thread, as the pool manager does (and give it back at once)."""
    got = []

    def ask() -> None:
        with queue.spare_slot("pool") as granted:
            got.append(granted)

    thread = threading.Thread(target=ask)
    thread.start()
    thread.join(5)
    return got == [True]


async def test_the_warm_pool_gets_a_slot_only_when_no_start_waits_or_starts():
    queue, starts = StartQueue(limit=2, max_waiting=10), Starts()
    with queue.spare_slot("pool") as granted:
        assert granted  # idle host: the pool may fill
        assert queue.snapshot()["running"] == 1
        async with queue.slot("candidate") as waited:  # and a candidate still gets the other slot at once
            assert waited < 0.01
    one = asyncio.create_task(starts.one(queue, "c0", hold_s=0.1))
    await asyncio.sleep(0.01)
    assert not spare_from_a_thread(queue)  # a slot is free, but a Start is under way: a burst may be starting
    holders = [asyncio.create_task(starts.one(queue, f"c{n}", hold_s=0.1)) for n in range(1, 3)]
    await asyncio.sleep(0.01)  # two run, one waits
    assert not spare_from_a_thread(queue)  # a candidate waits: the pool does not jump the line, nor block
    await asyncio.gather(one, *holders)
    assert starts.peak == 2 and spare_from_a_thread(queue)


async def test_estimates_grow_with_the_position_and_learn_from_real_starts():
    queue = StartQueue(limit=2, max_waiting=10)
    assert queue.typical_start_s() == 10.0  # nothing measured yet
    async with queue.slot("a"):
        await asyncio.sleep(0.05)
    assert 0.04 < queue.typical_start_s() < 1.0
    assert queue.estimate_s(1) < queue.estimate_s(3) < queue.estimate_s(5)


def test_nonsense_limits_are_refused():
    with pytest.raises(ValueError, match="limit must be >= 1"):
        StartQueue(limit=0, max_waiting=5)
