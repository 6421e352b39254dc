"""Publishes numbered messages in batches and prints each id: `python publish.py --count 5`.

Creates the queue if it is missing. Against `conveyor serve` on 127.0.0.1:50051 by default.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from conveyor_client import AlreadyExists, AsyncClient, AsyncPublisher


async def main(target: str, queue: str, count: int) -> None:
    async with AsyncClient(target, timeout=10) as client:
        with contextlib.suppress(AlreadyExists):  # made by an earlier run
            await client.create_queue(queue, lease=30, max_deliveries=5)
        async with AsyncPublisher(client, queue) as publisher:
            futures = [
                await publisher.publish(f"order {n}".encode(), attributes={"n": str(n)})
                for n in range(count)
            ]
            for future in futures:
                print("published", await future)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--queue", default="orders")
    parser.add_argument("--count", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.target, args.queue, args.count))
