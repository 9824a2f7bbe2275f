"""namespace_revision against the simulated cluster over HTTPS: labels, new pods' sidecars, request log, failures."""

from __future__ import annotations

import json

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.sidecar import parse_sidecar
from ansible_collections.meshops.istio.plugins.modules import namespace_revision
from tests.simcluster.fixtures import controlplane, mesh

OLD, OLD_VERSION = "1-27-3", "1.27.3"
NEW, NEW_VERSION = "1-29-2", "1.29.2"
CONTROL_PLANE_LISTS = [
    ("GET", "list", "apps/deployments"),
    ("GET", "list", "admissionregistration.k8s.io/mutatingwebhookconfigurations"),
    ("GET", "list", "admissionregistration.k8s.io/validatingwebhookconfigurations"),
]
NAMESPACE_LIST = ("GET", "list", "namespaces")
INJECTED = ["bookinfo", "payments", "shop", "tagged"]


@pytest.fixture
def two_revisions(sim):
    """The sample mesh on OLD with its workloads running, plus the control plane of NEW (ready); empty request log."""
    sim.load(mesh.sample(OLD, OLD_VERSION) + controlplane.render(NEW, NEW_VERSION))
    assert sim.settle(20)
    sim.clear_requests()
    return sim


def labels_of(sim, name):
    return sim.store.get("namespaces", None, name)["metadata"].get("labels") or {}


def injection_labels(sim):
    """Every namespace's injection labels, from the store."""
    items = sim.store.list("namespaces")[0]
    return {ns["metadata"]["name"]: {k: v for k, v in (ns["metadata"].get("labels") or {}).items()
                                     if k in ("istio-injection", "istio.io/rev")} for ns in items}


def calls(sim):
    return [(r.method, r.verb, r.resource) for r in sim.requests if r.resource]


def new_pod(sim, namespace):
    """Create a plain pod through the API's admission (as a controller would) and return what was stored."""
    return sim.store.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe", "namespace": namespace},
                             "spec": {"containers": [{"name": "app", "image": "docker.io/library/nginx:1.27"}]}})


def test_moves_every_injected_namespace_and_restores_it(two_revisions, sim_auth, run_module, kubectl):
    sim = two_revisions
    before = injection_labels(sim)
    run = run_module(namespace_revision.main, dict(sim_auth, revision=NEW, all_injected=True), diff=True)
    assert run.rc == 0 and not run.failed, run.result
    result = run.result
    assert result["changed"] is True
    assert (result["revision"], result["tag"]) == (NEW, None)

    # labels after: istio.io/rev=NEW, istio-injection removed (also where both were set), other labels untouched
    for name in INJECTED:
        assert labels_of(sim, name) == {"kubernetes.io/metadata.name": name, "istio.io/rev": NEW}, name
    assert labels_of(sim, "legacy")["istio-injection"] == "disabled"
    assert "istio.io/rev" not in labels_of(sim, "legacy")
    disabled = "injection is turned off (istio-injection=disabled); left alone: name it in namespaces to include it"
    assert result["namespaces_skipped"] == [{"name": "legacy", "reason": "disabled", "message": disabled}]

    namespaces = {n["name"]: n for n in result["namespaces"]}
    assert sorted(namespaces) == INJECTED
    assert namespaces["payments"]["before"] == {"istio-injection": "enabled", "istio.io/rev": OLD}
    assert namespaces["tagged"]["before"] == {"istio.io/rev": mesh.TAG_NAME}
    for item in namespaces.values():
        assert (item["after"], item["changed"], item["injected"], item["new_pod_revision"]) == ({"istio.io/rev": NEW}, True, True, NEW)
    assert result["restore"] == {name: before[name] for name in INJECTED}
    assert result["diff"] == {"before": {name: before[name] for name in INJECTED}, "after": {name: {"istio.io/rev": NEW} for name in INJECTED}}
    assert result["msg"] == ("4 namespaces in scope, 4 changed: bookinfo, payments, shop, tagged now on revision %s; "
                             "1 skipped (legacy: disabled)" % NEW)

    # one LIST per kind, then one merge PATCH per namespace that changes
    assert calls(sim) == CONTROL_PLANE_LISTS + [NAMESPACE_LIST] + [("PATCH", "patch", "namespaces")] * 4
    patches = [r for r in sim.requests if r.method == "PATCH"]
    assert sorted(r.name for r in patches) == INJECTED and not any(r.dry_run for r in patches)

    # new pods get NEW: a pod created now, and the pods of a restarted Deployment
    assert parse_sidecar(new_pod(sim, "shop")).revision == NEW
    kubectl("rollout", "restart", "deployment/details", "-n", "bookinfo", check=True)
    assert sim.settle(20)
    pods = sim.store.list("pods", "bookinfo", label_selector="app=details")[0]
    assert pods and {parse_sidecar(pod).revision for pod in pods} == {NEW}

    # a second run changes nothing and writes nothing
    sim.clear_requests()
    again = run_module(namespace_revision.main, dict(sim_auth, revision=NEW, all_injected=True)).result
    assert again["changed"] is False and all(not n["changed"] for n in again["namespaces"])
    assert calls(sim) == CONTROL_PLANE_LISTS + [NAMESPACE_LIST]

    # restore brings back exactly the labels of before, istio-injection=enabled included
    restored = run_module(namespace_revision.main, dict(sim_auth, restore=result["restore"])).result
    assert restored["changed"] is True and restored["revision"] is None
    assert injection_labels(sim) == before
    assert {n["name"]: n["new_pod_revision"] for n in restored["namespaces"]} == {name: OLD for name in INJECTED}
    assert run_module(namespace_revision.main, dict(sim_auth, restore=result["restore"])).result["changed"] is False


def test_check_mode_persists_nothing(two_revisions, sim_auth, run_module):
    sim = two_revisions
    before = injection_labels(sim)
    run = run_module(namespace_revision.main, dict(sim_auth, revision=NEW, all_injected=True), check_mode=True, diff=True)
    assert run.rc == 0 and run.result["changed"] is True
    assert run.result["msg"].startswith("4 namespaces in scope, 4 changed: bookinfo, payments, shop, tagged would be on revision")
    assert set(run.result["diff"]["after"]) == set(INJECTED)
    assert sim.writes() == []
    assert [r.dry_run for r in sim.writes(persisting_only=False)] == [True] * 4
    assert injection_labels(sim) == before


def test_named_namespaces_tag_and_disabled(two_revisions, sim_auth, run_module):
    """A tag as the target; a namespace with istio-injection=disabled is taken when it is named."""
    sim = two_revisions
    sim.store.load(controlplane.render_tag("canary", NEW, NEW_VERSION))
    run = run_module(namespace_revision.main, dict(sim_auth, revision="canary", namespaces=["legacy", "shop"], exclude=["shop"]))
    assert run.rc == 0, run.result
    result = run.result
    assert (result["revision"], result["tag"]) == (NEW, "canary")
    assert labels_of(sim, "legacy") == {"kubernetes.io/metadata.name": "legacy", "istio.io/rev": "canary"}
    assert labels_of(sim, "shop")["istio.io/rev"] == OLD
    (item,) = result["namespaces"]
    assert (item["name"], item["new_pod_revision"], item["new_pod_tag"]) == ("legacy", NEW, "canary")
    assert result["namespaces_skipped"] == [{"name": "shop", "reason": "excluded", "message": "named in exclude"}]
    assert parse_sidecar(new_pod(sim, "legacy")).revision == NEW


def test_selector_is_sent_with_the_one_namespace_list(two_revisions, sim_auth, run_module):
    sim = two_revisions
    sim.store.load([mesh.namespace("team-%02d" % i, {"team": "blue", "istio.io/rev": OLD}) for i in range(30)])
    run = run_module(namespace_revision.main, dict(sim_auth, revision=NEW, namespace_selector="team=blue,istio.io/rev"))
    assert run.rc == 0 and len(run.result["namespaces"]) == 30
    namespace_reads = [r for r in sim.requests if r.resource == "namespaces" and r.method == "GET"]
    assert len(namespace_reads) == 1 and namespace_reads[0].query["labelSelector"] == "team=blue,istio.io/rev"
    assert calls(sim) == CONTROL_PLANE_LISTS + [NAMESPACE_LIST] + [("PATCH", "patch", "namespaces")] * 30


@pytest.mark.parametrize("args, fragment", [
    ({"revision": "1.29.2", "all_injected": True}, "revision '1.29.2' is not a DNS-1123 label"),
    ({"revision": NEW}, "no namespaces chosen: give namespaces"),
    ({"revision": NEW, "namespaces": ["shop"], "all_injected": True}, "namespaces and all_injected are mutually exclusive"),
    ({"all_injected": True}, "give revision (to point namespaces at it) or restore"),
    ({"revision": NEW, "restore": {"shop": {}}}, "revision and restore are mutually exclusive"),
    ({"restore": {"shop": {}}, "all_injected": True}, "restore chooses the namespaces itself (the keys of the map): leave out all_injected"),
    ({"restore": {"shop": "enabled"}}, "restore[shop] must be a dict of labels"),
    ({"revision": NEW, "namespace_selector": "team in blue"}, "the values for 'team' must be in parentheses"),
])
def test_bad_options_fail_before_any_request(two_revisions, sim_auth, run_module, args, fragment):
    run = run_module(namespace_revision.main, dict(sim_auth, **args))
    assert run.failed and fragment in run.result["msg"], run.result["msg"]
    assert two_revisions.requests == []


def test_unknown_revision_lists_what_exists(two_revisions, sim_auth, run_module):
    run = run_module(namespace_revision.main, dict(sim_auth, revision="1-30-0", all_injected=True))
    assert run.failed
    assert run.result["msg"] == ("revision or tag '1-30-0' not found; revisions installed: %s (ready), %s (ready); tags: "
                                 "default -> %s, prod-stable -> %s. Install that revision first, or use one of these" % (OLD, NEW, OLD, OLD))
    assert calls(two_revisions) == CONTROL_PLANE_LISTS and two_revisions.writes(persisting_only=False) == []


def test_revision_whose_istiod_is_not_ready(two_revisions, sim_auth, run_module):
    sim = two_revisions
    istiod = sim.store.get("apps/deployments", "istio-system", "istiod-" + NEW)
    istiod["spec"]["replicas"] = 0
    sim.store.update(istiod)
    assert sim.settle(20)
    sim.clear_requests()
    run = run_module(namespace_revision.main, dict(sim_auth, revision=NEW, namespaces=["shop"]))
    assert run.failed
    assert run.result["msg"].startswith("revision %s (Deployment istio-system/istiod-%s) is not ready: 0 of 0 replicas ready" % (NEW, NEW))
    assert sim.writes(persisting_only=False) == [] and labels_of(sim, "shop")["istio.io/rev"] == OLD


def test_missing_namespace_fails_before_any_write(two_revisions, sim_auth, run_module):
    run = run_module(namespace_revision.main, dict(sim_auth, revision=NEW, namespaces=["shop", "nowhere", "gone"]))
    assert run.failed
    assert run.result["msg"] == "namespaces not found: gone, nowhere; nothing was changed. Create them, or leave them out (exclude)"
    assert calls(two_revisions) == CONTROL_PLANE_LISTS + [NAMESPACE_LIST]
    assert labels_of(two_revisions, "shop")["istio.io/rev"] == OLD


def test_forbidden_patch_says_what_was_refused(two_revisions, sim_auth, run_module):
    two_revisions.add_fault(method="PATCH", path="^/api/v1/namespaces/shop$", status=403,
                            message='namespaces "shop" is forbidden: User "ci" cannot patch resource "namespaces"')
    run = run_module(namespace_revision.main, dict(sim_auth, revision=NEW, namespaces=["shop"]))
    assert run.failed
    assert run.result["msg"].startswith('forbidden: cannot patch namespaces "shop" at %s' % two_revisions.url)


def test_as_ansible_runs_it_with_check_and_diff(two_revisions, sim_kubeconfig, tmp_path, ansible_playbook):
    out = tmp_path / "result.json"
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/meshops.istio.istio:
      kubeconfig: {sim_kubeconfig}
  tasks:
    - name: Move the injected namespaces
      meshops.istio.namespace_revision:
        revision: {NEW}
        all_injected: true
        exclude: [tagged]
      register: moved
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{{{ moved | to_json }}}}"
        dest: {out}
        mode: "0600"
      check_mode: false
""")
    checked = ansible_playbook(playbook, "--check", "--diff")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "-    istio-injection: enabled" in checked.stdout or '-        "istio-injection": "enabled"' in checked.stdout, checked.stdout
    assert two_revisions.writes() == []

    completed = ansible_playbook(playbook)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(out.read_text())
    assert result["changed"] is True and [n["name"] for n in result["namespaces"]] == ["bookinfo", "payments", "shop"]
    assert labels_of(two_revisions, "bookinfo").get("istio.io/rev") == NEW
    assert labels_of(two_revisions, "tagged")["istio.io/rev"] == mesh.TAG_NAME
