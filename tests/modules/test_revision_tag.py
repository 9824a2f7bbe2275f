"""revision_tag against the simulated cluster over HTTPS: tag objects, injection through the tag, request log,
idempotence, refusals before any write, and a real ansible-playbook run."""

from __future__ import annotations

import json

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.sidecar import parse_sidecar
from ansible_collections.meshops.istio.plugins.modules import revision_tag
from tests.simcluster.fixtures import controlplane, mesh

OLD, OLD_VERSION = "1-27-3", "1.27.3"
NEW, NEW_VERSION = "1-29-2", "1.29.2"
TAG = mesh.TAG_NAME
MWCS = "admissionregistration.k8s.io/mutatingwebhookconfigurations"
VWCS = "admissionregistration.k8s.io/validatingwebhookconfigurations"
READS = [("GET", "list", "apps/deployments"), ("GET", "list", MWCS), ("GET", "list", VWCS), ("GET", "list", "services"),
         ("GET", "list", "namespaces")]


@pytest.fixture
def two_revisions(sim):
    """The sample mesh on OLD (tags default and prod-stable -> OLD) with NEW installed and ready; empty request log."""
    sim.load(mesh.sample(OLD, OLD_VERSION) + controlplane.render(NEW, NEW_VERSION))
    assert sim.settle(20)
    sim.clear_requests()
    return sim


def calls(sim):
    return [(r.method, r.verb, r.resource) for r in sim.requests if r.resource]


def mwc(sim, name):
    return sim.store.get(MWCS, None, name)


def new_pod_revision(sim, namespace, labels=None):
    """Create a pod through admission, as a controller would, and return the revision of its sidecar (None if none)."""
    pod = sim.store.create({"apiVersion": "v1", "kind": "Pod",
                            "metadata": {"generateName": "probe-", "namespace": namespace, "labels": labels or {}},
                            "spec": {"containers": [{"name": "app", "image": "docker.io/library/nginx:1.27"}]}})
    sidecar = parse_sidecar(pod)
    return sidecar.revision if sidecar else None


def test_moves_a_tag_and_the_injector_follows(two_revisions, sim_auth, run_module, kubectl):
    sim = two_revisions
    labels_before = mwc(sim, "istio-revision-tag-" + TAG)["metadata"]["labels"]
    assert {k: v for k, v in labels_before.items() if "operator.istio.io" in k} == {
        "operator.istio.io/component": "Pilot", "install.operator.istio.io/owning-resource": "unknown"}  # as the chart renders it
    assert new_pod_revision(sim, "tagged") == OLD
    run = run_module(revision_tag.main, dict(sim_auth, tag=TAG, revision=NEW), diff=True)
    assert run.rc == 0 and not run.failed, run.result
    result = run.result
    assert (result["changed"], result["revision"], result["previous_revision"], result["version"]) == (True, NEW, OLD, NEW_VERSION)
    assert result["namespaces"] == ["tagged"]
    assert result["objects"] == [
        {"kind": "MutatingWebhookConfiguration", "name": "istio-revision-tag-" + TAG, "namespace": None, "action": "updated"},
        {"kind": "Service", "name": "istiod-revision-tag-" + TAG, "namespace": "istio-system", "action": "created"},
    ]
    assert result["diff"]["before"] == {"revision": OLD, "objects": ["MutatingWebhookConfiguration/istio-revision-tag-" + TAG]}
    assert result["diff"]["after"]["revision"] == NEW
    assert result["msg"] == ("tag %s moved from %s to %s: MutatingWebhookConfiguration/istio-revision-tag-%s updated, "
                             "Service/istiod-revision-tag-%s created" % (TAG, OLD, NEW, TAG, TAG))

    # the webhook: tag labels, R's injector service, the installer's labels kept (istioctl tag set --overwrite applies
    # server-side and leaves them), only the tag's own webhooks
    config = mwc(sim, "istio-revision-tag-" + TAG)
    meta_labels = config["metadata"]["labels"]
    assert (meta_labels["istio.io/tag"], meta_labels["istio.io/rev"], meta_labels["app"]) == (TAG, NEW, "sidecar-injector")
    assert {k: v for k, v in meta_labels.items() if "operator.istio.io" in k} == {
        k: v for k, v in labels_before.items() if "operator.istio.io" in k}
    assert [h["name"] for h in config["webhooks"]] == ["rev.namespace.sidecar-injector.istio.io", "rev.object.sidecar-injector.istio.io"]
    assert {json.dumps(h["clientConfig"]["service"], sort_keys=True) for h in config["webhooks"]} == {
        json.dumps({"name": "istiod-" + NEW, "namespace": "istio-system", "path": "/inject", "port": 443}, sort_keys=True)}
    service = sim.store.get("services", "istio-system", "istiod-revision-tag-" + TAG)
    assert service["spec"]["selector"] == {"app": "istiod", "istio.io/rev": NEW}

    # one LIST per kind, then the two writes
    assert calls(sim) == READS + [("PUT", "update", MWCS), ("POST", "create", "services")]

    # new pods of the tagged namespace get NEW, and so do the restarted ones; pods labelled with the tag too
    assert new_pod_revision(sim, "tagged") == NEW
    assert new_pod_revision(sim, "batch", {"istio.io/rev": TAG}) == NEW
    kubectl("rollout", "restart", "deployment/api", "-n", "tagged", check=True)
    assert sim.settle(20)
    pods = sim.store.list("pods", "tagged", label_selector="app=api")[0]
    assert pods and {parse_sidecar(pod).revision for pod in pods} == {NEW}

    # a second run reads and writes nothing
    sim.clear_requests()
    again = run_module(revision_tag.main, dict(sim_auth, tag=TAG, revision=NEW)).result
    assert again["changed"] is False and {o["action"] for o in again["objects"]} == {"unchanged"}
    assert again["msg"] == "tag %s points at %s; nothing to change" % (TAG, NEW)
    assert sim.writes(persisting_only=False) == []

    # moving it back to 1.27 (no tag Service before 1.28) deletes the Service and restores injection by OLD
    back = run_module(revision_tag.main, dict(sim_auth, tag=TAG, revision=OLD)).result
    assert back["changed"] is True and [o["action"] for o in back["objects"]] == ["updated", "deleted"]
    assert sim.store.get("services", "istio-system", "istiod-revision-tag-" + TAG) is None
    assert new_pod_revision(sim, "tagged") == OLD
    assert mwc(sim, "istio-revision-tag-" + TAG)["metadata"]["labels"] == labels_before  # issue 8, item 9


def test_default_tag_moves_validator_and_deactivates_the_untagged_default_webhook(sim, sim_auth, run_module):
    # a default (non-revisioned) istiod with its untagged webhook, and a canary revision
    sim.load([mesh.namespace("istio-system"), mesh.namespace("bookinfo", {"istio-injection": "enabled"})]
             + controlplane.render("", "1.28.1") + [controlplane.render_default_validator("", "1.28.1")]
             + controlplane.render(NEW, NEW_VERSION))
    assert sim.settle(20)
    assert new_pod_revision(sim, "bookinfo") == "default"
    sim.clear_requests()

    result = run_module(revision_tag.main, dict(sim_auth, tag="default", revision=NEW), diff=True).result
    assert result["changed"] is True and result["previous_revision"] is None and result["namespaces"] == ["bookinfo"]
    assert [(o["kind"], o["name"], o["action"]) for o in result["objects"]] == [
        ("MutatingWebhookConfiguration", "istio-revision-tag-default", "created"),
        ("ValidatingWebhookConfiguration", "istiod-default-validator", "updated"),
        ("Service", "istiod-revision-tag-default", "created"),
        ("MutatingWebhookConfiguration", "istio-sidecar-injector", "deactivated"),
    ]
    tag_config = mwc(sim, "istio-revision-tag-default")
    assert [h["name"].split(".")[0] for h in tag_config["webhooks"]] == ["rev", "rev", "namespace", "object"]
    untagged = mwc(sim, "istio-sidecar-injector")
    assert all(h["namespaceSelector"] == h["objectSelector"] == {"matchLabels": {"istio.io/deactivated": "never-match"}}
               for h in untagged["webhooks"])
    validator = sim.store.get(VWCS, None, "istiod-default-validator")
    assert validator["metadata"]["labels"]["istio.io/rev"] == NEW and validator["metadata"]["labels"]["istio.io/tag"] == "default"
    assert validator["webhooks"][0]["clientConfig"]["service"] == {"name": "istiod-" + NEW, "namespace": "istio-system",
                                                                   "path": "/validate"}
    # istio-injection=enabled is now injected once, by NEW
    assert new_pod_revision(sim, "bookinfo") == NEW
    assert run_module(revision_tag.main, dict(sim_auth, tag="default", revision=NEW)).result["changed"] is False


def test_check_mode_persists_nothing(two_revisions, sim_auth, run_module):
    sim = two_revisions
    before = mwc(sim, "istio-revision-tag-default")
    run = run_module(revision_tag.main, dict(sim_auth, tag="default", revision=NEW), check_mode=True, diff=True)
    assert run.rc == 0 and run.result["changed"] is True, run.result
    assert run.result["msg"].startswith("tag default would be moved from %s to %s" % (OLD, NEW))
    assert run.result["diff"] == {"before": {"revision": OLD, "objects": ["MutatingWebhookConfiguration/istio-revision-tag-default",
                                                                          "ValidatingWebhookConfiguration/istiod-default-validator"]},
                                  "after": {"revision": NEW, "objects": ["MutatingWebhookConfiguration/istio-revision-tag-default",
                                                                         "Service/istiod-revision-tag-default",
                                                                         "ValidatingWebhookConfiguration/istiod-default-validator"]}}
    assert sim.writes() == []
    assert [r.dry_run for r in sim.writes(persisting_only=False)] == [True] * 3
    assert mwc(sim, "istio-revision-tag-default") == before


@pytest.mark.parametrize("args, message", [
    (dict(tag=TAG, revision="1-30-0"), "cannot point tag %s at revision 1-30-0: no istiod Deployment of that revision is "
                                       "installed (installed revisions: %s, %s)" % (TAG, OLD, NEW)),
    (dict(tag=NEW, revision=OLD), "cannot create revision tag %s: a control plane revision has the same name" % NEW),
    (dict(tag="Prod", revision=NEW), "invalid options for tag Prod: tag 'Prod' is not a DNS-1123 label"),
    (dict(tag=TAG, revision="1.29.2"), "revision '1.29.2' is not a DNS-1123 label"),
    (dict(tag=TAG, revision=NEW, overwrite=False), "revision tag %s already exists and points at revision %s; set overwrite: "
                                                   "true to move it to %s" % (TAG, OLD, NEW)),
    (dict(tag=TAG, revision=NEW, namespace="istio-canary"), "revision %s is installed in namespace istio-system, not istio-canary"
                                                            % NEW),
    (dict(tag=TAG, state="absent"), "cannot remove revision tag %s: still in use by namespace tagged. Move them" % TAG),
    (dict(tag=TAG, state="absent", revision=OLD), "revision is an option of state=present"),
])
def test_refuses_before_any_write(two_revisions, sim_auth, run_module, args, message):
    run = run_module(revision_tag.main, dict(sim_auth, **args))
    assert run.failed and message in run.result["msg"], run.result["msg"]
    assert two_revisions.writes(persisting_only=False) == []


def test_refuses_a_revision_that_is_not_ready_unless_told(two_revisions, sim_auth, run_module):
    sim = two_revisions
    istiod = sim.store.get("apps/deployments", "istio-system", "istiod-" + NEW)
    istiod["spec"]["replicas"] = 0
    sim.store.update(istiod)
    assert sim.settle(20)
    sim.clear_requests()
    run = run_module(revision_tag.main, dict(sim_auth, tag=TAG, revision=NEW))
    assert run.failed and run.result["msg"] == (
        "cannot point tag %s at revision %s: its istiod istio-system/istiod-%s is not ready (0 of 0 replicas); pods "
        "using the tag could not be created. Wait for the rollout, or set require_ready: false" % (TAG, NEW, NEW))
    assert sim.writes(persisting_only=False) == []
    forced = run_module(revision_tag.main, dict(sim_auth, tag=TAG, revision=NEW, require_ready=False)).result
    assert forced["changed"] is True and forced["revision"] == NEW


def test_no_access_fails_with_the_api_reason(two_revisions, sim_auth, run_module):
    two_revisions.add_fault(method="PUT", path="^/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/", status=403,
                            message="user cannot update mutatingwebhookconfigurations")
    run = run_module(revision_tag.main, dict(sim_auth, tag=TAG, revision=NEW))
    assert run.failed and run.result["msg"].startswith("forbidden: cannot update mutatingwebhookconfigurations.admissionregistration.k8s.io")
    assert two_revisions.writes() == []


def test_remove_a_tag(two_revisions, sim_auth, run_module):
    sim = two_revisions
    sim.store.create(mesh.namespace("spare", {"istio.io/rev": "spare"}))
    # a new tag on NEW (1.29: with its Service), used by one namespace
    created = run_module(revision_tag.main, dict(sim_auth, tag="spare", revision=NEW)).result
    assert created["changed"] is True and created["previous_revision"] is None and created["namespaces"] == ["spare"]
    assert new_pod_revision(sim, "spare") == NEW

    refused = run_module(revision_tag.main, dict(sim_auth, tag="spare", state="absent"))
    assert refused.failed and "still in use by namespace spare" in refused.result["msg"]
    sim.clear_requests()
    removed = run_module(revision_tag.main, dict(sim_auth, tag="spare", state="absent", force=True)).result
    assert removed["changed"] is True and removed["revision"] is None and removed["previous_revision"] == NEW
    assert sorted((o["kind"], o["action"]) for o in removed["objects"]) == [
        ("MutatingWebhookConfiguration", "deleted"), ("Service", "deleted")]
    assert [(w.method, w.resource) for w in sim.writes()] == [("DELETE", MWCS), ("DELETE", "services")]
    assert mwc(sim, "istio-revision-tag-spare") is None and new_pod_revision(sim, "spare") is None
    again = run_module(revision_tag.main, dict(sim_auth, tag="spare", state="absent")).result
    assert again["changed"] is False and again["msg"] == "tag spare does not exist; nothing to remove"


def test_a_namespace_labelled_istio_injection_does_not_use_the_tag(two_revisions, sim_auth, run_module):
    """istio-injection wins over istio.io/rev (every rev.namespace. webhook requires istio-injection DoesNotExist): a
    namespace labelled with both does not use the tag its istio.io/rev names, so it neither blocks the tag's removal
    nor is listed as a user of it."""
    sim = two_revisions
    sim.store.create(mesh.namespace("both", {"istio.io/rev": "spare", "istio-injection": "enabled"}))
    sim.store.create(mesh.namespace("off", {"istio.io/rev": "spare", "istio-injection": "disabled"}))
    created = run_module(revision_tag.main, dict(sim_auth, tag="spare", revision=NEW)).result
    assert created["changed"] is True and created["namespaces"] == []
    assert new_pod_revision(sim, "both") == OLD and new_pod_revision(sim, "off") is None

    removed = run_module(revision_tag.main, dict(sim_auth, tag="spare", state="absent")).result
    assert removed["changed"] is True and removed["namespaces"] == [], removed
    assert mwc(sim, "istio-revision-tag-spare") is None


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
    - name: Move the tag
      meshops.istio.revision_tag:
        tag: {TAG}
        revision: {NEW}
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
    assert "-    \"revision\": \"%s\"" % OLD in checked.stdout or "-revision: %s" % OLD in checked.stdout, checked.stdout
    assert two_revisions.writes() == []

    completed = ansible_playbook(playbook)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(out.read_text())
    assert result["changed"] is True and result["revision"] == NEW
    assert mwc(two_revisions, "istio-revision-tag-" + TAG)["metadata"]["labels"]["istio.io/rev"] == NEW
