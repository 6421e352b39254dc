"""``conveyor bench``: measure a real server process on this machine, beside a bare baseline.

Each run starts its own server process on a free 127.0.0.1 port with data in a temporary
folder (``server``): ``conveyor serve`` as a user runs it, or the bare ``grpc.aio`` server of
the same RPC shapes (``baseline``). Producer and consumer *processes* (``producer``,
``consumer``; spawned, each on its own uvloop loop) drive it with pre-built request bytes
(``wire``); the parent (``runner``) starts them together, watches their counters, reads the
server's CPU and memory from ``/proc`` (``procfs``) over the measured phase, and turns their
reports into figures. ``compare`` repeats runs, interleaving Conveyor and the baseline, and
takes medians; ``report`` prints them.

Scenarios: publish (``Send`` or ``SendStream``), end to end (``StreamingReceive`` or
``Receive`` + ``Ack``), broadcast to N subscriptions, any of them at a fixed rate
(``Workload.rate``), ``memory`` (RSS per stored message) and ``recovery`` (restart time after
SIGKILL). Every loop is bounded in count and time, and every process is killed in ``finally``.
"""
