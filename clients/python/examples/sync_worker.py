"""A blocking worker: a plain function as handler (run in a thread pool), bad input sent to the
dead-letter queue at once, other failures retried: `python sync_worker.py --count 5`."""

from __future__ import annotations

import argparse
import json
import threading

from conveyor_client import Publisher, ReceivedMessage, Subscriber


def main(target: str, queue: str, count: int) -> None:
    with Publisher(target, queue) as publisher:
        for n in range(count):
            publisher.publish(json.dumps({"n": n}).encode())
    done = threading.Event()
    lock = threading.Lock()
    handled = 0

    def handle(message: ReceivedMessage) -> None:
        nonlocal handled
        order = json.loads(message.payload)  # a ValueError here dead-letters the message
        with lock:  # handlers run in several threads: one line at a time
            print("worked on", order, flush=True)
            handled += 1
            if handled >= count:
                done.set()

    with Subscriber(
        target,
        queue,
        "sync-worker",
        handle,
        concurrency=4,
        retryable=lambda exc: not isinstance(exc, ValueError),
    ):
        done.wait(timeout=60)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--queue", default="orders")
    parser.add_argument("--count", type=int, default=10)
    args = parser.parse_args()
    main(args.target, args.queue, args.count)
