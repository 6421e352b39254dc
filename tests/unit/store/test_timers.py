"""The timer heap: fires in deadline order, only what is due, survives a failing callback."""

from __future__ import annotations

import asyncio

import pytest

from broker.store.memory.timers import Timers


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_fires_due_callbacks_in_deadline_order() -> None:
    clock = FakeClock()
    timers = Timers(clock)
    fired: list[str] = []
    timers.schedule(1003.0, lambda: fired.append("c"))
    timers.schedule(1001.0, lambda: fired.append("a"))
    timers.schedule(1002.0, lambda: fired.append("b"))
    assert timers.run_due() == 0
    clock.now = 1002.0
    assert timers.run_due() == 2
    assert fired == ["a", "b"]
    assert timers.next_deadline() == 1003.0
    clock.now = 5000.0
    timers.run_due()
    assert fired == ["a", "b", "c"]
    assert len(timers) == 0


def test_equal_deadlines_fire_in_scheduling_order() -> None:
    timers = Timers(FakeClock())
    fired: list[int] = []
    for i in range(5):
        timers.schedule(1000.0, lambda i=i: fired.append(i))
    timers.run_due()
    assert fired == [0, 1, 2, 3, 4]


def test_a_failing_callback_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    timers = Timers(FakeClock())
    fired: list[str] = []

    def boom() -> None:
        raise RuntimeError("boom")

    timers.schedule(999.0, boom)
    timers.schedule(999.5, lambda: fired.append("after"))
    assert timers.run_due() == 2
    assert fired == ["after"]
    assert "timer callback failed" in caplog.text


async def test_background_task_wakes_early_for_a_sooner_deadline() -> None:
    timers = Timers()
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    timers.start()
    try:
        timers.schedule(loop.time() + 3600, lambda: None)  # far away: the task sleeps on it
        await asyncio.sleep(0)
        timers.schedule(timers.clock() + 0.01, lambda: done.set_result(True))
        assert await asyncio.wait_for(done, 5)
    finally:
        await timers.stop()


def test_cancelled_callbacks_never_fire_and_are_not_counted() -> None:
    clock = FakeClock()
    timers = Timers(clock)
    fired: list[str] = []
    keep = timers.schedule(1001.0, lambda: fired.append("keep"))
    drop = timers.schedule(1001.0, lambda: fired.append("drop"))
    drop.cancel()
    drop.cancel()  # idempotent
    assert len(timers) == 1
    clock.now = 1002.0
    assert timers.run_due() == 1
    assert fired == ["keep"]
    assert len(timers) == 0
    keep.cancel()  # after firing: harmless
    assert len(timers) == 0


def test_heap_is_compacted_when_most_entries_are_cancelled() -> None:
    timers = Timers(FakeClock())
    handles = [timers.schedule(2000.0 + i, lambda: None) for i in range(3000)]
    for handle in handles[:2500]:
        handle.cancel()
    assert len(timers) == 500
    assert len(timers._heap) < 3000  # rebuilt without the cancelled shells
    assert timers.next_deadline() is not None
