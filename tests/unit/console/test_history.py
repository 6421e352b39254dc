"""The console's sample history: spacing, the five-minute window, forgetting deleted queues,
and rates kept only where the server reported them."""

from __future__ import annotations

from broker.console.history import SPACING_S, WINDOW_S, History


def stats(depth: int, **extra: object) -> dict[str, object]:
    return {"depth": depth, "ready": depth, "in_flight": 0, "delayed": 0, **extra}


def test_samples_are_spaced_and_kept_for_the_window() -> None:
    h = History()
    assert [s["depth"] for s in h.record(100.0, "q", stats(1))] == [1]
    # A second page polling within the spacing adds nothing.
    assert [s["depth"] for s in h.record(100.0 + SPACING_S / 2, "q", stats(2))] == [1]
    assert [s["depth"] for s in h.record(100.0 + SPACING_S, "q", stats(3))] == [1, 3]
    later = h.record(100.0 + SPACING_S + WINDOW_S + 0.5, "q", stats(4))
    assert [s["depth"] for s in later] == [4]
    assert "rates" not in later[0]


def test_rates_are_the_servers_and_gone_queues_are_forgotten() -> None:
    h = History()
    reported = {"sent": 5.0, "delivered": 4.0, "acked": 3.5, "window": "60s"}
    (sample,) = h.record(1.0, "a", stats(7, rates_1m=reported))
    assert sample == {
        "t": 1.0,
        "depth": 7,
        "ready": 7,
        "in_flight": 0,
        "delayed": 0,
        "rates": {"sent": 5.0, "delivered": 4.0, "acked": 3.5},
    }
    h.record(1.0, "b", stats(1))
    h.keep_only(["b"])
    assert [s["depth"] for s in h.record(10.0, "a", stats(9))] == [9]
