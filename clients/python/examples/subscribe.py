"""Handles messages with an async handler until --count are done (or Ctrl-C), then stops
gracefully: `python subscribe.py --count 5`."""

from __future__ import annotations

import argparse
import asyncio

from conveyor_client import AsyncSubscriber, ReceivedMessage


async def main(target: str, queue: str, count: int) -> None:
    done = asyncio.Event()
    handled = 0

    async def handle(message: ReceivedMessage) -> None:
        nonlocal handled
        print("handled", message.id, message.payload.decode(), "attempt", message.attempt)
        handled += 1
        if handled >= count:
            done.set()

    async with AsyncSubscriber(target, queue, "example", handle, concurrency=8):
        await done.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--queue", default="orders")
    parser.add_argument("--count", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.target, args.queue, args.count))
