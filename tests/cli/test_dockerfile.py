"""The image's start and health commands, taken from the Dockerfile itself, work as written.

No Docker engine runs here, so this runs the Dockerfile's CMD and HEALTHCHECK with its ENV (the
listen address and data directory pointed at a free port and a temporary folder).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shlex
import signal
import socket
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instruction(name: str) -> str:
    """The last ``name`` instruction's arguments, continuation lines joined."""
    text = DOCKERFILE.replace("\\\n", " ")
    return re.findall(rf"^{name}\s+(.*)$", text, re.MULTILINE)[-1]


def _exec_form(args: str) -> list[str]:
    return list(json.loads(args))


def _conveyor(argv: list[str]) -> list[str]:
    assert argv[0] == "conveyor"
    return [sys.executable, "-m", "broker", *argv[1:]]


def test_image_runs_as_non_root_and_declares_a_health_check() -> None:
    assert _instruction("USER") != "root"
    assert "conveyor" in _instruction("HEALTHCHECK")
    assert _instruction("STOPSIGNAL") == "SIGTERM"


def test_cmd_serves_with_the_image_environment_and_healthcheck_passes(
    tmp_path: pathlib.Path,
) -> None:
    env_words = shlex.split(_instruction("ENV"))
    image_env = dict(word.split("=", 1) for word in env_words)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    image_env["CONVEYOR_LISTEN"] = f"127.0.0.1:{port}"
    image_env["CONVEYOR_DATA_DIR"] = str(tmp_path)
    image_env.pop("PATH")
    env = {**os.environ, **image_env}
    cmd = _conveyor(_exec_form(_instruction("CMD")))
    health = _exec_form(_instruction("HEALTHCHECK").split("CMD", 1)[1].strip())
    health = [w.replace("127.0.0.1:50051", f"127.0.0.1:{port}") for w in health]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            probe = subprocess.run(_conveyor(health), capture_output=True, text=True, check=False)
            if probe.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert probe.returncode == 0, probe.stderr
        assert probe.stdout.strip() == "SERVING"
        assert (tmp_path / "wal").is_dir()
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
        assert server.stdout is not None
        server.stdout.close()
