"""``conveyor serve`` with bad security and limit settings: exit 2 and a message naming the
setting, before anything listens (flags, the config file and ``CONVEYOR_*`` alike)."""

from __future__ import annotations

import pathlib

import pytest
from certs import Authority
from click.testing import CliRunner

from broker.cli import main


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("pki")
    ca = Authority()
    ca.issue("localhost", server=True).write(folder, "server")
    ca.issue("other", server=True).write(folder, "other")
    (folder / "ca.pem").write_bytes(ca.pem)
    (folder / "junk.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")
    return folder


def _serve(tmp: pathlib.Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["serve", "--data-dir", str(tmp / "data"), "--listen", "127.0.0.1:0", *args], env=env
    )
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--tls-cert", "{pki}/server.crt"], "tls_cert and tls_key go together"),
        (["--tls-key", "{pki}/server.key"], "tls_cert and tls_key go together"),
        (["--tls-client-ca", "{pki}/ca.pem"], "tls_client_ca (mTLS) needs tls_cert"),
        (["--tls-cert", "{pki}/nope.crt", "--tls-key", "{pki}/server.key"], "tls_cert"),
        (["--tls-cert", "{pki}/server.crt", "--tls-key", "{pki}/nope.key"], "tls_key"),
        (["--tls-cert", "{pki}/junk.pem", "--tls-key", "{pki}/server.key"], "tls_cert"),
        (["--tls-cert", "{pki}/server.crt", "--tls-key", "{pki}/other.key"], "tls_key"),
        (
            [
                "--tls-cert",
                "{pki}/server.crt",
                "--tls-key",
                "{pki}/server.key",
                "--tls-client-ca",
                "{pki}/junk.pem",
            ],
            "tls_client_ca",
        ),
        (["--auth-file", "{pki}/nope.toml"], "auth file"),
        (["--max-queues", "0"], "max_queues must be positive"),
        (["--max-memory", "lots"], "--max-memory"),
        (["--max-memory", "12XB"], "--max-memory"),
    ],
)
def test_bad_flags_exit_2_naming_the_setting(
    tmp_path: pathlib.Path, pki: pathlib.Path, args: list[str], names: str
) -> None:
    code, output = _serve(tmp_path, *(a.format(pki=pki) for a in args))
    assert code == 2, output
    assert names in output


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[[principal]]\nname = 'a'\ntoken_sha256 = 'abc'\n", "token_sha256"),
        ("[[principal]]\nname = 'a'\nsubject = 'CN=a'\nrole = 'x'\n", "role"),
        (
            "[[principal]]\nname = 'a'\nsubject = 'CN=a'\n[[principal.grant]]\n"
            "actions = ['sned']\nqueues = ['*']\n",
            "actions",
        ),
        ("[[principal]\n", "not valid TOML"),
    ],
)
def test_a_bad_auth_file_exits_2_naming_the_key(
    tmp_path: pathlib.Path, text: str, names: str
) -> None:
    path = tmp_path / "auth.toml"
    path.write_text(text)
    code, output = _serve(tmp_path, "--auth-file", str(path))
    assert code == 2, output
    assert str(path) in output
    assert names in output


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("max_streams = 0\n", "max_streams must be positive"),
        ("max_streams_per_connection = -3\n", "max_streams_per_connection"),
        ("max_memory = -1\n", "max_memory must be >= 0"),
        ("max_request_bytes = 'big'\n", "max_request_bytes"),
        ("auth_file = 5\n", "auth_file"),
        ("tls_certificate = 'x'\n", "tls_certificate"),
    ],
)
def test_bad_config_file_settings_exit_2_naming_the_key(
    tmp_path: pathlib.Path, text: str, names: str
) -> None:
    path = tmp_path / "conveyor.toml"
    path.write_text(text)
    code, output = _serve(tmp_path, "--config", str(path))
    assert code == 2, output
    assert names in output


def test_bad_environment_settings_exit_2_naming_them(tmp_path: pathlib.Path) -> None:
    code, output = _serve(tmp_path, env={"CONVEYOR_MAX_MEMORY": "a lot"})
    assert code == 2
    assert "CONVEYOR_MAX_MEMORY" in output
    code, output = _serve(tmp_path, env={"CONVEYOR_TLS_CERT": "/nonexistent/cert.pem"})
    assert code == 2
    assert "tls_cert and tls_key" in output


def test_sizes_take_units() -> None:
    from broker.cli.serve import SIZE

    assert SIZE.convert("512MiB", None, None) == 512 * 1024 * 1024
    assert SIZE.convert("2G", None, None) == 2_000_000_000
    assert SIZE.convert("1048576", None, None) == 1048576
    assert SIZE.convert(" 3 kib ", None, None) == 3072
