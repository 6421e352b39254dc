"""Who may do what: principals from an auth file (TOML), their tokens and their grants.

An auth file lists principals. Each is known by a bearer token, stored only as the hex SHA-256
of the token (``conveyor auth hash-token`` makes it), by an mTLS client-certificate subject
(``subject = "CN=orders-service"``), or both; and each holds grants of actions (``send``,
``receive``, ``admin``) on queue-name patterns (fnmatch-style, case-sensitive: ``*`` matches
any characters, ``?`` one). A file that does not parse, or names an unknown key or action,
is refused whole with ``InvalidArgument`` naming the file and the key: a typo must never widen
or silently narrow access.

Nothing here knows gRPC; ``broker.service.auth_interceptor`` reads the call's metadata and asks.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from broker.errors import InvalidArgument

ACTIONS = ("send", "receive", "admin")
ANY_QUEUE = "*"
"""The queue an admin call that names no queue (list queues, server stats) is checked against:
only a grant whose pattern matches the literal ``*`` (that is, ``*`` itself) covers it."""

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_CACHE_LIMIT = 4096
"""Decisions a principal remembers (action, queue) before starting afresh; bounds memory
when clients name many queues."""


def hash_token(token: str) -> str:
    """The hex SHA-256 that an auth file stores for ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()


class Grant:
    """Some actions on the queues matching some patterns."""

    __slots__ = ("actions", "patterns")

    def __init__(self, actions: Iterable[str], patterns: Iterable[str]) -> None:
        self.actions = frozenset(actions)
        self.patterns = tuple(patterns)

    def allows(self, action: str, queue: str) -> bool:
        return action in self.actions and any(
            fnmatch.fnmatchcase(queue, pattern) for pattern in self.patterns
        )


class Principal:
    """A caller the auth file knows, and what it was granted."""

    __slots__ = ("_decisions", "grants", "name")

    def __init__(self, name: str, grants: Iterable[Grant]) -> None:
        self.name = name
        self.grants = tuple(grants)
        self._decisions: dict[tuple[str, str], bool] = {}

    def allows(self, action: str, queue: str) -> bool:
        """Whether any grant covers ``action`` on ``queue``; remembered, as calls repeat."""
        key = (action, queue)
        decision = self._decisions.get(key)
        if decision is None:
            decision = any(grant.allows(action, queue) for grant in self.grants)
            if len(self._decisions) >= _CACHE_LIMIT:
                self._decisions.clear()
            self._decisions[key] = decision
        return decision

    def covers(self, action: str, queue: str) -> bool:
        """Whether any grant covers ``action`` on ``queue``, not remembered: a listing asks
        once for each of many queues, which would only push the hot decisions out."""
        return any(grant.allows(action, queue) for grant in self.grants)

    def may_somewhere(self, action: str) -> bool:
        """Whether some grant gives ``action`` on some queue (whatever its patterns)."""
        return any(action in grant.actions for grant in self.grants)

    def __repr__(self) -> str:
        return f"Principal({self.name!r})"


class Authority:
    """The principals of one auth file, found by token or by certificate subject."""

    def __init__(
        self,
        by_digest: Mapping[bytes, Principal],
        by_subject: Mapping[str, Principal],
        principals: Iterable[Principal] = (),
    ) -> None:
        self._digests = {d: (d, p) for d, p in by_digest.items()}
        self._subjects = {_normalize_subject(s): p for s, p in by_subject.items()}
        self.principals = tuple(principals)

    def authenticate(self, token: str) -> Principal | None:
        """The principal whose token this is, or None.

        Only SHA-256 digests are compared, never tokens: the digest of the caller's token
        finds the stored one (one dictionary probe, however many principals the file lists)
        and ``hmac.compare_digest`` confirms it. Whatever timing could reveal concerns digests,
        which a caller cannot steer byte by byte towards a stored one, so it tells nothing
        about any token.
        """
        digest = hashlib.sha256(token.encode()).digest()
        entry = self._digests.get(digest)
        if entry is None or not hmac.compare_digest(entry[0], digest):
            return None
        return entry[1]

    def by_subject(self, subject: str) -> Principal | None:
        """The principal named by a client certificate's subject (``CN=...,O=...``, the
        attributes in any order), or None."""
        return self._subjects.get(_normalize_subject(subject))


def _normalize_subject(subject: str) -> str:
    # "CN=a, O=b", "CN=a,O=b" and "O=b,CN=a" (RFC 4514 lists the attributes in reverse, as
    # gRPC reports them) name the same certificate subject; attribute types are
    # case-insensitive, values are not. Commas escaped as "\," stay inside their value.
    parts = []
    for rdn in _UNESCAPED_COMMA.split(subject):
        kind, sep, value = rdn.partition("=")
        parts.append(f"{kind.strip().upper()}{sep}{value.strip()}")
    return ",".join(sorted(parts))


def load_auth_file(path: str | Path) -> Authority:
    """Reads and checks an auth file; ``InvalidArgument`` names the file and the bad key."""
    where = f"auth file {path}"
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise InvalidArgument(f"{where}: cannot read it: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"{where}: not valid TOML: {exc}") from None
    return parse_auth(data, where)


def parse_auth(data: Mapping[str, Any], where: str = "auth file") -> Authority:
    """Builds an ``Authority`` from an auth file's parsed TOML."""
    _known_keys(data, {"principal"}, where)
    entries = data.get("principal", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InvalidArgument(f"{where}: principal must be an array of tables ([[principal]])")
    by_digest: dict[bytes, Principal] = {}
    by_subject: dict[str, Principal] = {}
    names: set[str] = set()
    principals = []
    for index, entry in enumerate(entries):
        at = f"{where}: principal[{index}]"
        _known_keys(entry, {"name", "token_sha256", "subject", "grant"}, at)
        name = _string(entry, "name", at)
        if name is None:
            raise InvalidArgument(f"{at}: name is required")
        at = f"{where}: principal {name!r}"
        if name in names:
            raise InvalidArgument(f"{at}: name is used by another principal")
        names.add(name)
        principal = Principal(name, _grants(entry.get("grant", []), at))
        token_hex = _string(entry, "token_sha256", at)
        subject = _string(entry, "subject", at)
        if token_hex is None and subject is None:
            raise InvalidArgument(f"{at}: needs token_sha256 or subject (or both)")
        if token_hex is not None:
            if not _HEX64.fullmatch(token_hex):
                raise InvalidArgument(
                    f"{at}: token_sha256 must be 64 hex characters (the SHA-256 of the token; "
                    "make it with `conveyor auth hash-token`)"
                )
            digest = bytes.fromhex(token_hex)
            if digest in by_digest:
                raise InvalidArgument(
                    f"{at}: token_sha256 is the same as principal {by_digest[digest].name!r}'s"
                )
            by_digest[digest] = principal
        if subject is not None:
            key = _normalize_subject(subject)
            if "=" not in subject:
                raise InvalidArgument(f"{at}: subject {subject!r} should look like CN=name")
            if key in by_subject:
                raise InvalidArgument(
                    f"{at}: subject is the same as principal {by_subject[key].name!r}'s"
                )
            by_subject[key] = principal
        principals.append(principal)
    return Authority(by_digest, by_subject, principals)


def _grants(raw: Any, at: str) -> list[Grant]:
    if not isinstance(raw, list) or not all(isinstance(g, dict) for g in raw):
        raise InvalidArgument(f"{at}: grant must be an array of tables ([[principal.grant]])")
    grants = []
    for index, entry in enumerate(raw):
        here = f"{at}: grant[{index}]"
        _known_keys(entry, {"actions", "queues"}, here)
        actions = _string_list(entry, "actions", here)
        unknown = sorted(set(actions) - set(ACTIONS))
        if unknown:
            raise InvalidArgument(
                f"{here}: actions: unknown {unknown}; expected some of {', '.join(ACTIONS)}"
            )
        grants.append(Grant(actions, _string_list(entry, "queues", here)))
    return grants


def _known_keys(table: Mapping[str, Any], known: set[str], at: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise InvalidArgument(f"{at}: unknown key(s) {unknown}; expected {sorted(known)}")


def _string(table: Mapping[str, Any], key: str, at: str) -> str | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidArgument(f"{at}: {key} must be a non-empty string")
    return value


def _string_list(table: Mapping[str, Any], key: str, at: str) -> list[str]:
    value = table.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise InvalidArgument(f"{at}: {key} must be a non-empty list of non-empty strings")
    return value
