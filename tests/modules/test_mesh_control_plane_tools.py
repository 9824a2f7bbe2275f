"""mesh_control_plane with the helm installer (real helm, tests/simcluster/charts/istiod), the istioctl installer (stand-in
tests/simcluster/bin/istioctl, whose argv is recorded) and a real ansible-playbook run."""

from __future__ import annotations

import json
import os

import pytest

from tests.ansible_runner import REPO_ROOT
from tests.modules.mesh_control_plane_helpers import BASE_CHART, CHART, HELM, write_manifest
from tests.simcluster.fixtures import controlplane

REVISION, VERSION = "1-29-2", "1.29.2"


@pytest.fixture
def cluster(sim):
    sim.load([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}])
    return sim


@pytest.fixture
def istioctl_log(monkeypatch, tmp_path):
    path = tmp_path / "istioctl.jsonl"
    monkeypatch.setenv("MESHOPS_ISTIOCTL_LOG", str(path))

    def calls():
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    return calls


def helm_args(**extra):
    return dict({"version": VERSION, "installer": "helm", "chart_ref": CHART, "helm_binary": HELM}, **extra)


def test_helm_install_idempotence_and_uninstall(cluster, run, helm):
    if not os.access(HELM, os.X_OK):
        pytest.skip("helm is not installed: run 'make tools'")
    helm("install", "istio-base", BASE_CHART, "--namespace", "istio-system", check=True)  # Istio's CRDs, already 1.29.2
    cluster.clear_requests()
    checked = run(check=True, diff=True, **helm_args())
    assert (checked["changed"], checked["action"]) == (True, "install")
    assert "Deployment istio-system/istiod-1-29-2" in checked["created"]
    assert cluster.writes() == []

    result = run(**helm_args(values={"pilot": {"replicaCount": 2}}))
    assert (result["changed"], result["action"], result["ready"]) == (True, "install", True), result
    deployment = cluster.store.get("apps/deployments", "istio-system", "istiod-1-29-2")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "docker.io/istio/pilot:1.29.2"
    assert cluster.store.get("admissionregistration.k8s.io/mutatingwebhookconfigurations", None, "istio-sidecar-injector-1-29-2")
    releases = json.loads(helm("list", "-n", "istio-system", "-o", "json", check=True).stdout)
    assert [(r["name"], r["status"]) for r in releases] == [("istio-base", "deployed"), ("istiod-1-29-2", "deployed")]

    cluster.clear_requests()
    again = run(**helm_args(values={"pilot": {"replicaCount": 2}}))
    assert (again["changed"], again["action"]) == (False, "none")
    assert cluster.writes() == []

    conflicting = run(**helm_args(values={"revision": "canary"}))
    assert conflicting["failed"] is True
    assert "values set revision=canary but the module installs revision 1-29-2" in conflicting["msg"]

    removed = run(revision=REVISION, state="absent", installer="helm", helm_binary=HELM)
    assert (removed["changed"], removed["action"]) == (True, "remove")
    assert "Deployment istio-system/istiod-1-29-2" in removed["deleted"]
    assert cluster.store.get("apps/deployments", "istio-system", "istiod-1-29-2") is None
    assert [r["name"] for r in json.loads(helm("list", "-n", "istio-system", "-o", "json", check=True).stdout)] == ["istio-base"]
    assert run(revision=REVISION, state="absent", installer="helm", helm_binary=HELM)["changed"] is False


def test_istioctl_install_and_uninstall_record_their_argv(cluster, run, istioctl_log, sim_kubeconfig, istioctl_standin):
    result = run(version=VERSION, installer="istioctl", istioctl_binary=istioctl_standin)
    assert (result["changed"], result["action"], result["ready"]) == (True, "install", True), result
    deployment = cluster.store.get("apps/deployments", "istio-system", "istiod-1-29-2")
    assert deployment["metadata"]["labels"]["operator.istio.io/component"] == "Pilot"
    assert istioctl_log() == [
        ["version", "--remote=false", "-o", "json", "--kubeconfig", sim_kubeconfig],
        ["manifest", "generate", "--set", "revision=1-29-2", "--kubeconfig", sim_kubeconfig],
        ["install", "--set", "revision=1-29-2", "-y", "--kubeconfig", sim_kubeconfig],
    ]
    assert result["crds"]["created"] == sorted(crd["metadata"]["name"] for crd in controlplane.crds())
    again = run(version=VERSION, installer="istioctl", istioctl_binary=istioctl_standin)
    assert again["changed"] is False
    assert [call[0] for call in istioctl_log()] == ["version", "manifest", "install", "version", "manifest"]

    removed = run(revision=REVISION, state="absent", installer="istioctl", istioctl_binary=istioctl_standin)
    assert removed["changed"] is True, removed
    assert istioctl_log()[-1] == ["uninstall", "--revision", "1-29-2", "-y", "--kubeconfig", sim_kubeconfig]
    assert cluster.store.get("apps/deployments", "istio-system", "istiod-1-29-2") is None
    assert cluster.store.get("admissionregistration.k8s.io/mutatingwebhookconfigurations", None, "istio-sidecar-injector-1-29-2") is None


def test_istioctl_of_another_version_fails_before_any_write(cluster, run, istioctl_log, istioctl_standin):
    result = run(version="1.30.0", installer="istioctl", istioctl_binary=istioctl_standin)
    assert result["failed"] is True
    assert result["msg"] == ("%s is istioctl 1.29.2, which installs Istio 1.29.2, not 1.30.0: set istioctl_binary to istioctl 1.30.0"
                             % istioctl_standin)
    assert [call[0] for call in istioctl_log()] == ["version"]
    assert cluster.writes() == []


def test_istioctl_check_mode_runs_only_reads(cluster, run, istioctl_log, istioctl_standin):
    result = run(version=VERSION, installer="istioctl", istioctl_binary=istioctl_standin, check=True)
    assert (result["changed"], result["action"]) == (True, "install")
    assert [call[:2] for call in istioctl_log()] == [["version", "--remote=false"], ["manifest", "generate"]]
    assert cluster.writes(persisting_only=False) == []


def test_a_token_never_reaches_the_command_line(cluster, run, istioctl_log, tmp_path, istioctl_standin):
    ca = tmp_path / "ca.pem"
    ca.write_bytes(cluster.ca_pem)
    connection = {"host": cluster.url, "api_key": cluster.token, "ca_cert": str(ca)}
    result = run(version=VERSION, installer="istioctl", istioctl_binary=istioctl_standin, connection=connection)
    assert result["changed"] is True, result
    calls = istioctl_log()
    assert all(cluster.token not in " ".join(call) for call in calls)
    kubeconfig = calls[-1][calls[-1].index("--kubeconfig") + 1]
    assert os.path.basename(os.path.dirname(kubeconfig)).startswith("meshops-istio-")
    assert not os.path.exists(kubeconfig)  # the temporary kubeconfig (mode 0600) is removed afterwards


def test_ansible_playbook_installs_and_removes(cluster, sim_kubeconfig, tmp_path, ansible_playbook):
    manifest = write_manifest(tmp_path / "istiod.yaml", controlplane.render(REVISION, VERSION))
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/meshops.istio.istio:
      kubeconfig: {sim_kubeconfig}
  tasks:
    - name: Install
      meshops.istio.mesh_control_plane:
        version: {VERSION}
        manifests: [{manifest}]
        wait_timeout: 20
      register: first
    - name: Remove
      meshops.istio.mesh_control_plane:
        revision: {REVISION}
        state: absent
      register: removed
    - ansible.builtin.assert:
        that:
          - first is changed and first.ready
          - removed is changed and removed.deleted | length == 15
""", encoding="utf-8")
    result = ansible_playbook(playbook, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok=3" in result.stdout and "changed=2" in result.stdout
    assert cluster.store.get("apps/deployments", "istio-system", "istiod-1-29-2") is None
