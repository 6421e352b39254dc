"""The conformance suite's harness: every store behind one small driver, on a fake clock.

The fixtures that hand a ``StoreEnv`` to each test are in ``conftest.py``.

``StoreEnv`` drives a store only through its verbs (``broker.store.base.Store``), plus three
things a test needs that are not verbs: moving the clock (``advance`` runs what fell due),
restarting on the same data (``restart``; stores without durable state skip those tests) and
watching the change signals the store sends up. Add a store here and every test runs on it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from broker.model import Guarantee, QueueConfig
from broker.store.at_rest import AtRest, Keyring
from broker.store.base import Claim, MessageStatus, NewMessage, Outcome, Store
from broker.store.durable import DurableStore
from broker.store.memory import MemoryStore
from broker.store.postgres import PostgresStore
from conveyor.v1 import types_pb2

START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class Signals:
    """The listener: which subscriptions were said to be ready, and watched statuses."""

    def __init__(self) -> None:
        self.ready: list[tuple[str, str]] = []
        self.statuses: list[MessageStatus] = []

    def changed(self, status: MessageStatus) -> None:
        self.statuses.append(status)

    def ready_signal(self, queue: str, subscription: str) -> None:
        self.ready.append((queue, subscription))


class _Listener:
    def __init__(self, signals: Signals) -> None:
        self.signals = signals

    def ready(self, queue: str, subscription: str) -> None:
        self.signals.ready_signal(queue, subscription)

    def changed(self, status: MessageStatus) -> None:
        self.signals.changed(status)


def raw(payload: bytes = b"x", topic: str = "t", **fields: object) -> bytes:
    return types_pb2.Message(payload=payload, topic=topic, **fields).SerializeToString()  # type: ignore[arg-type]


def decode(data: bytes) -> types_pb2.Message:
    return types_pb2.Message.FromString(data)


class StoreEnv:
    def __init__(
        self,
        make: Callable[[Clock], Store],
        durable: bool,
        queue_defaults: dict[str, object] | None = None,
    ) -> None:
        self.queue_defaults = queue_defaults or {}
        """Settings every queue made by ``queue`` gets (unless the test sets them)."""
        self.clock = Clock()
        self._make = make
        self.durable = durable
        self.signals = Signals()
        self.store = make(self.clock)

    async def open(self) -> None:
        self.store.listen(_Listener(self.signals))
        await self.store.open()

    async def restart(self) -> None:
        assert self.durable, "use the durable_env fixture for restart tests"
        await self.store.close()
        self.store = self._make(self.clock)
        await self.open()

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        if isinstance(self.store, PostgresStore):
            self.store.run_due()
            return
        machine = getattr(self.store, "machine", None)
        assert machine is not None, "a new store needs its own way to run what fell due"
        machine.timers.run_due()

    # -- shorthands over the verbs -------------------------------------------------------

    async def queue(self, name: str = "q", **config: object) -> QueueConfig:
        settings = self.queue_defaults | config
        return await self.store.create_queue(QueueConfig(name=name).replace(**settings))

    async def sub(self, name: str = "s", queue: str = "q", filter_: str = "") -> None:
        await self.store.subscription(queue, name, filter_)

    async def send(
        self,
        payload: bytes = b"x",
        *,
        queue: str = "q",
        topic: str = "t",
        guarantee: Guarantee = Guarantee.AT_LEAST_ONCE,
        **fields: object,
    ) -> str:
        (result,) = await self.store.publish(
            queue,
            [NewMessage(raw(payload, topic), topic, len(payload), guarantee, **fields)],  # type: ignore[arg-type]
        )
        assert isinstance(result, str), result
        return result

    async def send_many(self, queue: str, messages: list[NewMessage]) -> list[str | Outcome]:
        return await self.store.publish(queue, messages)

    async def claim(
        self,
        sub: str = "s",
        n: int = 100,
        *,
        queue: str = "q",
        max_bytes: int = 0,
        lease: float = 10.0,
        oversized_first: bool = True,
    ) -> Claim:
        return await self.store.claim(
            queue, sub, n, max_bytes, lease, oversized_first=oversized_first
        )

    async def take(self, sub: str = "s", n: int = 100, **kw: object) -> list[tuple[str, str, int]]:
        """(message id, ack id, attempt) of each delivery of one claim."""
        claim = await self.claim(sub, n, **kw)  # type: ignore[arg-type]
        return [(decode(d).id, a, attempt) for a, d, attempt, _ in claim.deliveries]


def new(payload: bytes = b"x", topic: str = "t", **fields: object) -> NewMessage:
    return NewMessage(raw(payload, topic), topic, len(payload), **fields)  # type: ignore[arg-type]


def _memory(clock: Clock) -> Store:
    return MemoryStore(clock=clock, run_timers=False)


STORES = ["memory", "durable", "durable-sealed", "postgres", "postgres-sealed"]
"""Every store; the ones that keep state across a restart are ``DURABLE_STORES``.
``durable-sealed`` is the durable store with a key and a compression threshold of one byte,
whose queues (made with ``StoreEnv.queue``) are encrypted: the whole suite runs over the
at-rest path of the log and snapshots too; ``postgres-sealed`` does the same for PostgreSQL's
payload rows. The PostgreSQL store is not among the durable
ones: the restart tests check what an embedded store brings back from its log (leases and
fire-and-forget messages end with the process), whereas a database shared by several
servers keeps both when one server restarts."""
DURABLE_STORES = ["durable", "durable-sealed"]
_TEST_KEY = bytes(range(32))


def make_env(kind: str, tmp_path: Path, dsn: str = "") -> StoreEnv:
    if kind == "memory":
        return StoreEnv(_memory, durable=False)
    if kind == "durable-sealed":
        return StoreEnv(
            lambda clock: DurableStore(
                tmp_path / "data",
                clock=clock,
                run_timers=False,
                at_rest=AtRest(Keyring([("test", _TEST_KEY)]), compress_above=1),
            ),
            durable=True,
            queue_defaults={"encrypted": True},
        )
    if kind == "postgres":
        return StoreEnv(lambda clock: PostgresStore(dsn, clock=clock, run_timers=False), False)
    if kind == "postgres-sealed":
        return StoreEnv(
            lambda clock: PostgresStore(
                dsn,
                clock=clock,
                run_timers=False,
                at_rest=AtRest(Keyring([("test", _TEST_KEY)]), compress_above=1),
            ),
            False,
            queue_defaults={"encrypted": True},
        )
    return StoreEnv(
        lambda clock: DurableStore(tmp_path / "data", clock=clock, run_timers=False),
        durable=True,
    )
