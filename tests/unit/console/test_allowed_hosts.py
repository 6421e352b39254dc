"""The console's ``Host`` rules (``broker.console.hosts``) and their setting: the names a
header carries once its port is gone, and which of them are answered."""

from __future__ import annotations

import pathlib

import pytest

from broker.config import load_config
from broker.console.hosts import AllowedHosts, host_name
from broker.errors import InvalidArgument


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost:8080", "localhost"),
        ("LocalHost.", "localhost"),
        ("[::1]:8080", "::1"),
        ("[::1]", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("console.example.com:443", "console.example.com"),
        ("evil.example:x", "evil.example:x"),  # not a port: kept, so it matches nothing
    ],
)
def test_host_name_drops_the_port_case_and_trailing_dot(header: str, name: str) -> None:
    assert host_name(header) == name


def test_allowed_hosts() -> None:
    hosts = AllowedHosts("conveyor-0.conveyor.svc", ["Console.Example.com"])
    for ok in ("localhost:1", "conveyor-0.conveyor.svc:8080", "console.example.com", "10.0.0.1"):
        assert hosts.allows(ok), ok
    for bad in ("example.com", "127.0.0.1.nip.io", "localhost.evil.example", "", None):
        assert not hosts.allows(bad), bad
    assert AllowedHosts("127.0.0.1", ["*"]).allows("anything.example")


def test_the_setting_from_a_file_the_environment_or_a_flag(tmp_path: pathlib.Path) -> None:
    file = tmp_path / "conveyor.toml"
    file.write_text('http_allowed_hosts = "a.example, b.example"\n')
    assert load_config(file, env={}).allowed_hosts() == ["a.example", "b.example"]
    env = {"CONVEYOR_HTTP_ALLOWED_HOSTS": "c.example"}
    assert load_config(file, env=env).allowed_hosts() == ["c.example"]
    flags = {"http_allowed_hosts": "*"}
    assert load_config(file, env=env, overrides=flags).allowed_hosts() == ["*"]
    assert load_config(env={}).allowed_hosts() == []
    with pytest.raises(InvalidArgument, match=r"http_allowed_hosts entry 'a\.example:80'"):
        load_config(env={}, overrides={"http_allowed_hosts": "ok.example,a.example:80"})
