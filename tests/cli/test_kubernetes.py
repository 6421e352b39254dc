"""``deploy/kubernetes``: every manifest valid against the Kubernetes API schema (strict: no
unknown fields), and in step with the server and the Dockerfile: the config file loads, ports,
paths, user and grace period agree, and the probes' health check answers on a real server
started with the ConfigMap's own config file."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import grpc
import kubernetes_validate
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc
from server_helpers import start_server

from broker.config import load_config

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
K8S_VERSION = "1.33.0"
"""The API version checked against (a release clusters run; the schemas ship in the package)."""


def _documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _one(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in _documents() if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


@pytest.mark.parametrize("doc", _documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_manifest_is_valid_for_the_kubernetes_api(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_a_manifest_with_a_typo_is_caught() -> None:
    doc = _one("StatefulSet")
    broken = yaml.safe_load(yaml.safe_dump(doc))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["grcp"] = {"port": 1}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())["resources"]
    present = sorted(p.name for p in DEPLOY.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == present


def _container() -> dict[str, Any]:
    [container] = _one("StatefulSet")["spec"]["template"]["spec"]["containers"]
    return container


def _config_text() -> str:
    return str(_one("ConfigMap", "conveyor-config")["data"]["conveyor.toml"])


def test_the_statefulset_agrees_with_the_config_file_and_the_image(tmp_path: pathlib.Path) -> None:
    (tmp_path / "conveyor.toml").write_text(_config_text())
    config = load_config(tmp_path / "conveyor.toml", env={})
    sts = _one("StatefulSet")
    pod = sts["spec"]["template"]["spec"]
    container = _container()
    port = int(config.listen.rpartition(":")[2])
    assert config.listen.startswith("0.0.0.0:")
    assert [p["containerPort"] for p in container["ports"]] == [port]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == port, probe
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["data"] == config.data_dir
    assert [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]] == ["data"]
    assert container["command"] == [
        "conveyor",
        "serve",
        "--config",
        f"{mounts['config']}/conveyor.toml",
    ]
    # Grace: the server's drain, then its flush, fit before Kubernetes sends SIGKILL.
    grace = pod["terminationGracePeriodSeconds"]
    assert config.shutdown_grace_s + 5 <= grace <= config.shutdown_grace_s + 30
    # The image's user and data directory.
    dockerfile = (ROOT / "Dockerfile").read_text()
    uid = re.search(r"--uid (\d+)", dockerfile)
    assert uid is not None
    assert pod["securityContext"]["runAsUser"] == int(uid.group(1))
    assert f"CONVEYOR_DATA_DIR={config.data_dir}" in dockerfile
    assert re.search(r"^STOPSIGNAL SIGTERM$", dockerfile, re.MULTILINE)
    services = [d for d in _documents() if d["kind"] == "Service"]
    assert {s["spec"]["ports"][0]["targetPort"] for s in services} == {"grpc"}
    assert sts["spec"]["serviceName"] in {s["metadata"]["name"] for s in services}
    labels = sts["spec"]["selector"]["matchLabels"]
    assert all(s["spec"]["selector"] == labels for s in services)


def test_the_probes_health_checks_answer_on_a_server_run_with_the_configmap(
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / "conveyor.toml").write_text(_config_text())
    srv = start_server(tmp_path / "data", "--config", str(tmp_path / "conveyor.toml"))
    try:
        with grpc.insecure_channel(srv.address) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                service = _container()[probe]["grpc"].get("service", "")
                reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING, probe
    finally:
        assert srv.stop() == 0
