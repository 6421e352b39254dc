"""The auth file: parsing and refusing bad files, token and subject look-up, grants."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from broker.auth import ANY_QUEUE, hash_token, load_auth_file, parse_auth
from broker.cli import main
from broker.errors import InvalidArgument

ORDERS = "orders-secret-token"
OPS = "ops-secret-token"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "auth.toml"
    path.write_text(text)
    return path


GOOD = f"""
[[principal]]
name = "orders-service"
token_sha256 = "{hash_token(ORDERS)}"
[[principal.grant]]
actions = ["send", "receive"]
queues = ["orders.*", "billing"]
[[principal.grant]]
actions = ["receive"]
queues = ["audit"]

[[principal]]
name = "ops"
token_sha256 = "{hash_token(OPS).upper()}"
subject = "CN=ops, O=Example"
[[principal.grant]]
actions = ["admin"]
queues = ["*"]

[[principal]]
name = "reporter"
subject = "CN=reporter"
"""


def test_tokens_find_their_principal_and_nothing_else(tmp_path: Path) -> None:
    authority = load_auth_file(_write(tmp_path, GOOD))
    orders = authority.authenticate(ORDERS)
    assert orders is not None
    assert orders.name == "orders-service"
    ops = authority.authenticate(OPS)
    assert ops is not None
    assert ops.name == "ops"
    assert authority.authenticate("") is None
    assert authority.authenticate(ORDERS + "x") is None
    assert authority.authenticate(hash_token(ORDERS)) is None  # the hash is not the token
    assert [p.name for p in authority.principals] == ["orders-service", "ops", "reporter"]


def test_grants_cover_their_actions_on_matching_queues_only(tmp_path: Path) -> None:
    authority = load_auth_file(_write(tmp_path, GOOD))
    orders = authority.authenticate(ORDERS)
    assert orders is not None
    for _ in range(2):  # second round comes from the decision cache
        assert orders.allows("send", "orders.eu")
        assert orders.allows("receive", "orders.")
        assert orders.allows("send", "billing")
        assert not orders.allows("send", "billing2")
        assert not orders.allows("send", "Orders.eu")  # case-sensitive
        assert orders.allows("receive", "audit")
        assert not orders.allows("send", "audit")
        assert not orders.allows("admin", "orders.eu")
        assert not orders.allows("send", ANY_QUEUE.replace("*", "x"))
    ops = authority.authenticate(OPS)
    assert ops is not None
    assert ops.allows("admin", ANY_QUEUE)
    assert ops.allows("admin", "anything")
    assert not ops.allows("send", "anything")


def test_subjects_match_whatever_the_spacing(tmp_path: Path) -> None:
    authority = load_auth_file(_write(tmp_path, GOOD))
    ops = authority.by_subject("CN=ops,O=Example")
    assert ops is not None
    assert ops.name == "ops"
    assert authority.by_subject("cn=ops , O=Example") is ops
    assert authority.by_subject("CN=ops,O=example") is None  # values are case-sensitive
    reporter = authority.by_subject("CN=reporter")
    assert reporter is not None
    assert not reporter.allows("receive", "audit")
    assert authority.by_subject("CN=orders-service") is None


def test_an_empty_file_knows_nobody(tmp_path: Path) -> None:
    authority = load_auth_file(_write(tmp_path, ""))
    assert authority.authenticate(ORDERS) is None
    assert authority.principals == ()


def test_the_decision_cache_stays_bounded(tmp_path: Path) -> None:
    orders = load_auth_file(_write(tmp_path, GOOD)).authenticate(ORDERS)
    assert orders is not None
    for i in range(10_000):
        assert orders.allows("send", f"orders.{i}")
        assert not orders.allows("send", f"other.{i}")
    assert len(orders._decisions) <= 4096


H = "a" * 64


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[[principal]]\nname='a'\ntoken_sha256='" + H + "'\ncolour='red'\n", "colour"),
        ("[[princpal]]\nname='a'\n", "princpal"),
        ("[[principal]]\ntoken_sha256='" + H + "'\n", "name is required"),
        ("[[principal]]\nname='a'\n", "token_sha256 or subject"),
        ("[[principal]]\nname='a'\ntoken_sha256='abc'\n", "token_sha256 must be 64 hex"),
        ("[[principal]]\nname='a'\ntoken_sha256='" + "g" * 64 + "'\n", "token_sha256"),
        ("[[principal]]\nname='a'\ntoken_sha256=5\n", "token_sha256 must be a non-empty"),
        ("[[principal]]\nname='a'\nsubject='orders'\n", "subject 'orders'"),
        (
            "[[principal]]\nname='a'\ntoken_sha256='" + H + "'\n"
            "[[principal]]\nname='b'\ntoken_sha256='" + H.upper() + "'\n",
            "principal 'b': token_sha256 is the same as principal 'a'",
        ),
        (
            "[[principal]]\nname='a'\nsubject='CN=x'\n[[principal]]\nname='b'\nsubject='CN = x'\n",
            "principal 'b': subject is the same",
        ),
        (
            "[[principal]]\nname='a'\nsubject='CN=x'\n[[principal]]\nname='a'\nsubject='CN=y'\n",
            "principal 'a': name is used",
        ),
        (
            "[[principal]]\nname='a'\nsubject='CN=x'\n[[principal.grant]]\n"
            "actions=['send','publish']\nqueues=['q']\n",
            "grant[0]: actions: unknown ['publish']",
        ),
        (
            "[[principal]]\nname='a'\nsubject='CN=x'\n[[principal.grant]]\nactions=['send']\n",
            "grant[0]: queues must be a non-empty list",
        ),
        (
            "[[principal]]\nname='a'\nsubject='CN=x'\n[[principal.grant]]\n"
            "actions=[]\nqueues=['q']\n",
            "grant[0]: actions must be a non-empty list",
        ),
        (
            "[[principal]]\nname='a'\nsubject='CN=x'\n[[principal.grant]]\n"
            "actions=['send']\nqueues=['q']\nqueue='r'\n",
            "grant[0]: unknown key(s) ['queue']",
        ),
        ("principal = 'everyone'\n", "principal must be an array of tables"),
        ("[[principal]\n", "not valid TOML"),
    ],
)
def test_bad_files_are_refused_naming_the_file_and_key(
    tmp_path: Path, text: str, names: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InvalidArgument) as info:
        load_auth_file(path)
    assert str(path) in str(info.value)
    assert names in str(info.value)


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"auth file .*nope\.toml: cannot read"):
        load_auth_file(tmp_path / "nope.toml")


def test_parse_auth_takes_parsed_toml() -> None:
    authority = parse_auth({"principal": [{"name": "x", "token_sha256": hash_token("t")}]})
    assert authority.authenticate("t") is not None


def test_hash_token_command_prints_the_sha256_of_stdin() -> None:
    result = CliRunner().invoke(main, ["auth", "hash-token"], input="s3cret\n")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == hashlib.sha256(b"s3cret").hexdigest()
    assert "s3cret" not in result.output


def test_hash_token_command_refuses_empty_input() -> None:
    result = CliRunner().invoke(main, ["auth", "hash-token"], input="")
    assert result.exit_code == 2
    assert "no token on stdin" in result.output


def test_subject_attributes_match_in_any_order_and_escaped_commas_stay(tmp_path: Path) -> None:
    authority = load_auth_file(_write(tmp_path, GOOD))
    assert authority.by_subject("O=Example,CN=ops") is not None
    text = "[[principal]]\nname='c'\nsubject=\"CN=a\\\\,b,O=x\"\n"
    odd = load_auth_file(_write(tmp_path, text))
    assert odd.by_subject("O=x,CN=a\\,b") is not None
    assert odd.by_subject("CN=a,O=x") is None
