"""Which ``Host`` a console request may name: the defence against DNS rebinding.

A page on an attacker's domain whose name is made to resolve to 127.0.0.1 runs in the browser
with that domain as its origin, so the same-origin rules let it call this console as if it
were its own, and its requests carry the attacker's name in ``Host``. The console answers only
requests naming a host it knows: ``localhost``, an IP address (a page loaded from an address
was not rebound: its origin is that address; Kubernetes probes and port-forwards use them),
the host the listener is bound to, and the names given by ``http_allowed_hosts`` (``*``: any).
Ports are not compared: rebinding changes the name, not the port.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

LOCAL_NAMES = frozenset({"localhost"})

OPTION = "--http-allowed-hosts"
"""The setting an operator changes to let a name in (also ``http_allowed_hosts`` in the config
file, ``CONVEYOR_HTTP_ALLOWED_HOSTS``); named in every refusal."""


def host_name(header: str) -> str:
    """The name in a ``Host`` header without its port, lower case, without a trailing dot
    (``[::1]:8080`` -> ``::1``)."""
    header = header.strip().lower()
    if header.startswith("["):
        name, _, _ = header[1:].partition("]")
    else:
        name, sep, port = header.rpartition(":")
        if not sep or not port.isdigit():
            name = header
    return name.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class AllowedHosts:
    """The names a console request's ``Host`` may carry."""

    def __init__(self, listen_host: str, extra: Iterable[str] = ()) -> None:
        names = {host_name(n) for n in extra if n.strip()}
        self.any = "*" in names
        self.names = LOCAL_NAMES | (names - {"*"}) | {host_name(listen_host)}

    def allows(self, header: str | None) -> bool:
        if self.any:
            return True
        if not header:  # every browser sends Host; a request without one is not a page's
            return False
        name = host_name(header)
        return name in self.names or _is_address(name)

    def refusal(self, header: str | None) -> str:
        if not header:
            return "the request names no Host: the console answers only requests that do"
        shown = host_name(header)[:100]
        return (
            f"host {shown!r} is not one this console answers to (a guard against DNS "
            f"rebinding): add it with {OPTION} {shown} (config key http_allowed_hosts, or "
            "CONVEYOR_HTTP_ALLOWED_HOSTS), or open the console by localhost or an IP address"
        )
