"""mesh_info against the simulated cluster over HTTPS: returned data, request log, failures, Ansible run."""

from __future__ import annotations

import json

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.sidecar import parse_sidecar
from ansible_collections.meshops.istio.plugins.modules import mesh_info
from tests.simcluster.fixtures import controlplane, mesh

REV = "1-27-3"
CANARY = "1-29-2"


@pytest.fixture
def sample_mesh(sim):
    """The sample mesh on revision 1-27-3 with its workloads running; an empty request log."""
    sim.load(mesh.sample(REV, "1.27.3"))
    assert sim.settle(20)
    sim.clear_requests()
    return sim


def by_name(items):
    return {item["name"]: item for item in items}


def test_describes_the_sample_mesh_in_four_lists(sample_mesh, sim_auth, run_module):
    run = run_module(mesh_info.main, sim_auth)
    assert run.rc == 0 and not run.failed, run.result
    result = run.result
    assert result["changed"] is False

    revision = by_name(result["revisions"])[REV]
    assert (revision["deployment"], revision["namespace"], revision["version"]) == ("istiod-" + REV, "istio-system", "1.27.3")
    assert revision["ready"] is True and revision["ready_replicas"] == revision["replicas"]
    assert revision["injector_webhook"] == "istio-sidecar-injector-" + REV
    assert revision["validator_webhook"] == "istio-validator-%s-istio-system" % REV
    assert {t["name"]: t["revision"] for t in result["tags"]} == {"default": REV, mesh.TAG_NAME: REV}
    assert (result["default_revision"], result["default_revision_source"]) == (REV, "tag")
    assert result["default_validator_revision"] == REV
    assert result["problems"] == []

    namespaces = by_name(result["namespaces"])
    expected = {
        "bookinfo": ("enabled", True, REV, "default"),
        "shop": ("revision", True, REV, None),
        "payments": ("both", True, REV, "default"),
        "legacy": ("disabled", False, None, None),
        "batch": ("none", False, None, None),
        "tagged": ("revision", True, REV, mesh.TAG_NAME),
    }
    for name, (injection, injected, revision_name, tag) in expected.items():
        found = namespaces[name]
        assert (found["injection"], found["injected"], found["revision"], found["tag"]) == (injection, injected, revision_name, tag), found
    assert namespaces["bookinfo"]["webhook"]["webhook"] == "namespace.sidecar-injector.istio.io"
    assert namespaces["bookinfo"]["version"] == "1.27.3"
    assert "kube-system" in namespaces and not namespaces["kube-system"]["injected"]
    assert result["msg"] == "1 revision (%s ready); default revision %s; 2 tags; %d namespaces" % (REV, REV, len(namespaces))

    requests = sample_mesh.requests
    assert [(r.method, r.verb, r.resource) for r in requests] == [
        ("GET", "list", "apps/deployments"),
        ("GET", "list", "admissionregistration.k8s.io/mutatingwebhookconfigurations"),
        ("GET", "list", "admissionregistration.k8s.io/validatingwebhookconfigurations"),
        ("GET", "list", "namespaces"),
    ]
    assert requests[0].query.get("labelSelector") == "app=istiod"
    assert all(r.status == 200 and r.user_agent.startswith("meshops.istio/") for r in requests)


def test_prediction_matches_what_the_injector_did(sample_mesh, sim_auth, run_module):
    """For every pod without injection labels of its own, the sidecar it got is the one predicted for its namespace.

    Only pods made by controllers count: the fixture's bare pod was stored without admission.
    """
    namespaces = by_name(run_module(mesh_info.main, sim_auth).result["namespaces"])
    pods, _unused = sample_mesh.store.list("pods")
    checked = 0
    for pod in pods:
        labels = pod["metadata"].get("labels") or {}
        ns = pod["metadata"]["namespace"]
        if not pod["metadata"].get("ownerReferences") or "istio.io/rev" in labels or "sidecar.istio.io/inject" in labels or ns == mesh.INGRESS_NAMESPACE:
            continue
        sidecar = parse_sidecar(pod)
        predicted = namespaces[ns]
        assert sidecar.present is predicted["injected"], (ns, pod["metadata"]["name"])
        assert sidecar.revision == predicted["revision"], (ns, pod["metadata"]["name"])
        checked += 1
    assert checked >= 10


def test_canary_revision_and_tag_move(sim, sim_auth, run_module):
    sim.load(mesh.sample(REV, "1.27.3") + controlplane.render(CANARY, "1.29.2"))
    sim.load(controlplane.render_tag(mesh.TAG_NAME, CANARY, "1.29.2"))
    sim.settle(20)
    result = run_module(mesh_info.main, dict(sim_auth, namespaces=["tagged", "shop", "nowhere"])).result
    assert sorted(r["name"] for r in result["revisions"]) == [REV, CANARY]
    assert by_name(result["revisions"])[CANARY]["version"] == "1.29.2"
    assert {t["name"]: t["revision"] for t in result["tags"]} == {"default": REV, mesh.TAG_NAME: CANARY}
    namespaces = by_name(result["namespaces"])
    assert sorted(namespaces) == ["shop", "tagged"]
    assert (namespaces["tagged"]["revision"], namespaces["tagged"]["version"]) == (CANARY, "1.29.2")
    assert namespaces["shop"]["revision"] == REV
    assert result["namespaces_not_found"] == ["nowhere"]


def test_namespace_selector_is_sent_to_the_server(sample_mesh, sim_auth, run_module):
    result = run_module(mesh_info.main, dict(sim_auth, namespace_selector=["istio.io/rev", "!istio-injection"])).result
    assert sorted(n["name"] for n in result["namespaces"]) == ["shop", "tagged"]
    assert sample_mesh.requests[-1].query.get("labelSelector") == "istio.io/rev,!istio-injection"


def test_kubeconfig_path_and_check_mode(sample_mesh, sim_kubeconfig, run_module):
    run = run_module(mesh_info.main, {"kubeconfig": sim_kubeconfig}, check_mode=True)
    assert run.rc == 0 and run.result["default_revision"] == REV
    assert len(sample_mesh.requests) == 4 and sample_mesh.writes(persisting_only=False) == []


def test_wrong_token_names_the_host(sample_mesh, sim_auth, run_module):
    run = run_module(mesh_info.main, dict(sim_auth, api_key="not-the-token"))
    assert run.rc == 1 and run.failed
    assert run.result["msg"] == ("authentication failed at %s: check the token or client certificate (HTTP 401 Unauthorized)"
                                 % sample_mesh.url)
    assert "not-the-token" not in json.dumps(run.result)
    assert len(sample_mesh.requests) == 1


def test_unreachable_host(sim_auth, closed_port, run_module):
    host = "https://127.0.0.1:%d" % closed_port
    run = run_module(mesh_info.main, dict(sim_auth, host=host))
    assert run.failed
    assert run.result["msg"].startswith("cannot reach the Kubernetes API at %s: connection refused" % host)
    assert run.result["error"]["attempts"] == 4


def test_untrusted_certificate(sample_mesh, sim_auth, run_module):
    run = run_module(mesh_info.main, dict(sim_auth, ca_cert=None))
    assert run.failed
    assert run.result["msg"].startswith("cannot reach the Kubernetes API at %s: TLS failed" % sample_mesh.url)
    assert "Check ca_cert" in run.result["msg"] and run.result["error"]["attempts"] == 1


def test_server_errors_are_retried(sample_mesh, sim_auth, run_module):
    rule = sample_mesh.add_fault(path="^/api/v1/namespaces$", status=503, times=2)
    run = run_module(mesh_info.main, sim_auth)
    assert run.rc == 0 and rule.fired == 2
    namespace_lists = [r for r in sample_mesh.requests if r.resource == "namespaces"]
    assert [r.status for r in namespace_lists] == [503, 503, 200]
    assert len(sample_mesh.requests) == 6


def test_throttling_honours_retry_after_and_gives_up(sample_mesh, sim_auth, run_module):
    sample_mesh.add_fault(path="mutatingwebhookconfigurations", status=429, retry_after=0)
    run = run_module(mesh_info.main, sim_auth)
    assert run.failed
    assert run.result["msg"].startswith("the Kubernetes API at %s answered HTTP 429" % sample_mesh.url)
    assert run.result["msg"].endswith("(after 4 attempts)")
    assert run.result["error"]["status"] == 429


def test_forbidden_says_what_was_refused(sample_mesh, sim_auth, run_module):
    sample_mesh.add_fault(path="validatingwebhookconfigurations", status=403,
                          message='validatingwebhookconfigurations.admissionregistration.k8s.io is forbidden: User "ci" cannot '
                                  'list resource "validatingwebhookconfigurations" in API group "admissionregistration.k8s.io" '
                                  'at the cluster scope')
    run = run_module(mesh_info.main, sim_auth)
    assert run.failed
    assert run.result["msg"].startswith("forbidden: cannot list validatingwebhookconfigurations.admissionregistration.k8s.io "
                                        "(cluster-wide) at %s: validatingwebhookconfigurations" % sample_mesh.url)
    assert len(sample_mesh.requests) == 3


def test_paginates_big_lists(sim, sim_auth, run_module):
    sim.load([mesh.namespace("ns-%04d" % i, {"istio.io/rev": REV}) for i in range(1200)] + mesh.sample(REV, "1.27.3"))
    sim.settle(20)
    sim.clear_requests()
    result = run_module(mesh_info.main, sim_auth).result
    assert len(result["namespaces"]) > 1200
    namespace_pages = [r for r in sim.requests if r.resource == "namespaces"]
    assert len(namespace_pages) == 3
    assert [bool(r.query.get("continue")) for r in namespace_pages] == [False, True, True]


def test_as_ansible_runs_it_with_the_action_group(sample_mesh, sim_kubeconfig, tmp_path, ansible_playbook):
    out = tmp_path / "result.json"
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/meshops.istio.istio:
      kubeconfig: {sim_kubeconfig}
  tasks:
    - name: Describe the mesh
      meshops.istio.mesh_info:
        namespaces: [bookinfo, legacy]
      register: mesh
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{{{ mesh | to_json }}}}"
        dest: {out}
        mode: "0600"
""")
    completed = ansible_playbook(playbook)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(out.read_text())
    assert result["default_revision"] == REV
    assert {n["name"]: n["revision"] for n in result["namespaces"]} == {"bookinfo": REV, "legacy": None}
    assert len([r for r in sample_mesh.requests if r.resource != ""]) == 4


def test_checks_find_what_istioctl_would(sample_mesh, sim_auth, run_module):
    """The sample mesh on the simulated cluster (Kubernetes v1.35.0), then a leftover non-revisioned injector, a
    namespace on a revision that does not run and a pod that cannot be scheduled."""
    run = run_module(mesh_info.main, dict(sim_auth, checks=True, target_version="1.28.1"))
    assert run.rc == 0, run.result
    assert run.result["kubernetes_version"] == "v1.35.0"
    assert [(f["code"], f["severity"]) for f in run.result["findings"]] == [("kubernetes_version", "warning")]
    assert "1.30 to 1.34" in run.result["findings"][0]["message"]
    paths = [record.path for record in sample_mesh.requests]
    assert "/version" in paths and "/api/v1/pods" in paths and "/apis/apps/v1/deployments" in paths

    leftover = controlplane.injector_webhooks("", "istio-system", "default", True)
    sample_mesh.load([
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": {"name": "istio-sidecar-injector", "labels": {"istio.io/rev": "default", "app": "sidecar-injector"}},
         "webhooks": leftover},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "stray", "labels": {"istio.io/rev": "1-20-0"}}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stuck", "namespace": "batch"},
         "spec": {"nodeSelector": {"no-such": "node"}, "containers": [{"name": "app", "image": "busybox"}]}},
    ])
    run = run_module(mesh_info.main, dict(sim_auth, checks=True, target_version="1.29.1"))
    findings = run.result["findings"]
    assert [f["severity"] for f in findings] == sorted((f["severity"] for f in findings), key=lambda s: s != "error")
    codes = {(f["code"], f["severity"]) for f in findings}
    assert ("IST0139", "error") in codes and ("revision_missing", "warning") in codes and ("pods_not_ready", "warning") in codes
    assert not any(f["code"] == "kubernetes_version" for f in findings)  # 1.35 is within 1.29's 1.31 to 1.35
    assert any("istio-sidecar-injector/namespace.sidecar-injector.istio.io" in f["objects"] for f in findings)
    assert any(f["objects"] == ["stray (1-20-0)"] for f in findings)
    assert any(f["objects"] == ["batch/stuck (Pending)"] for f in findings)
    assert "checks: " in run.result["msg"]


@pytest.mark.parametrize("args, fragment", [
    ({"target_version": "1.29.1"}, "set checks: true"),
    ({"checks": True, "target_version": "latest"}, "is not an Istio version"),
])
def test_checks_refuse_bad_input(sim, sim_auth, run_module, args, fragment):
    run = run_module(mesh_info.main, dict(sim_auth, **args))
    assert run.failed and fragment in run.result["msg"]
    assert sim.requests == []
