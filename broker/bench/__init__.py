"""``conveyor bench``: measure a real server process on this machine.

Each benchmark starts its own ``conveyor serve`` subprocess on a free 127.0.0.1 port with data in
a temporary folder (``server``), drives it with ``grpc.aio`` clients on uvloop (``workload``),
and reads the figures the server itself logs: the group-commit ``wal stats`` line at a clean
shutdown and the ``recovered ... in X s`` line at start. Benchmarks:

- ``publish``: Send throughput and batch latency per fsync policy (``publish``);
- ``recovery``: restart time after a large log, with and without a snapshot (``recovery``);
- ``e2e``: publish and StreamingReceive together, delivery latency (``e2e``).

``report`` turns the results into tables for people; every result is also a plain dict for
``--json``. Every loop is bounded in count and time, and servers are killed in ``finally``.
"""
