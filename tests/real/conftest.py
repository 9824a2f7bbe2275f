"""Fixtures of the tests on the real cluster (``tests/realcluster``): a fresh cluster per test, with the sample mesh.

Every test here is marked ``real_cluster`` (see the root conftest): ``make test-real`` runs them, the default
pytest run leaves them out. Each test gets a cluster of its own (about 3 s to start once built, 10 to 20 s with
Istio and the sample mesh), so no test sees another's leftovers.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.ansible_runner import BIN, PlaybookRun, ansible_env, run_collection_playbook
from tests.playbooks.conftest import mesh_state
from tests.realcluster import build
from tests.realcluster.cluster import GATEWAY_NAME, INGRESS_NAMESPACE, RealCluster

SOURCE, TARGET = build.SOURCE, build.TARGET


@pytest.fixture
def real_mesh(real_cluster):
    """The real cluster with the sample mesh on the source release, installed with Istio's charts."""
    real_cluster.load_sample_mesh(SOURCE.version)
    return real_cluster


@pytest.fixture
def source_adopted(real_mesh, run_module, tmp_path):
    """The source control plane of ``real_mesh`` (installed with Istio's charts) adopted by the manifest installer, so
    that finalize may remove it."""
    source_manifest = tmp_path / "source.yaml"
    source_manifest.write_text(real_mesh.render_istiod(SOURCE.version), encoding="utf-8")
    rc, output = run_module("mesh_control_plane", revision=SOURCE.revision, version=SOURCE.version, installer="manifest",
                            manifests=[str(source_manifest)])
    assert rc == 0, output
    return real_mesh


@pytest.fixture
def target_manifest(real_cluster, tmp_path) -> str:
    """The target release's istiod chart rendered for its revision: the manifest installer's input."""
    path = tmp_path / "target.yaml"
    path.write_text(real_cluster.render_istiod(TARGET.version), encoding="utf-8")
    return str(path)


@pytest.fixture
def run_playbook(real_cluster, target_manifest, tmp_path):
    """Run playbooks/<name>.yml against the real cluster, the manifest installer for the target, plus ``extra`` variables."""
    def run(name: str, *args: str, **extra) -> PlaybookRun:
        variables = {"istio_target_version": TARGET.version, "istio_manifests": [target_manifest],
                     "istio_k8s_auth": {"kubeconfig": real_cluster.kubeconfig},
                     "istio_gateways": [{"name": GATEWAY_NAME, "namespace": INGRESS_NAMESPACE}],
                     "istio_restart_wait_timeout": 120, "istio_restart_poll_interval": 0.5, "istio_restart_batch_size": 20,
                     "istio_gateway_wait_timeout": 120}
        variables.update(extra)
        return run_collection_playbook(name, variables, tmp_path / "ansible-home", *args)

    return run


@pytest.fixture
def run_module(real_cluster, tmp_path):
    """Run one module of the collection with ``ansible localhost -m`` against the real cluster; return (rc, output)."""
    def run(module: str, **args) -> tuple[int, str]:
        args.setdefault("kubeconfig", real_cluster.kubeconfig)
        command = [os.path.join(BIN, "ansible"), "localhost", "-m", "meshops.istio." + module, "-a", json.dumps(args)]
        done = subprocess.run(command, capture_output=True, text=True, env=ansible_env(tmp_path / "ansible-home"), timeout=600, check=False)
        return done.returncode, done.stdout + done.stderr

    return run


def items(cluster: RealCluster, path: str) -> list[dict]:
    """The items of a LIST."""
    return cluster.get(path)["items"]


def state(cluster: RealCluster) -> dict:
    """``mesh_state`` (tests/playbooks) of the real cluster, read through the API."""
    records = items(cluster, "/api/v1/namespaces/istio-system/configmaps?fieldSelector=metadata.name%3Dmeshops-istio-upgrade")
    return mesh_state(items(cluster, "/api/v1/namespaces"),
                      items(cluster, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations?labelSelector=istio.io%2Ftag"),
                      items(cluster, "/api/v1/pods"),
                      cluster.get(f"/apis/apps/v1/namespaces/{INGRESS_NAMESPACE}/deployments/{GATEWAY_NAME}"),
                      items(cluster, "/apis/apps/v1/namespaces/istio-system/deployments"),
                      records[0] if records else None)
