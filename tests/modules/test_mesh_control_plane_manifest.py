"""mesh_control_plane with the manifest installer, end to end on the simulated cluster."""

from __future__ import annotations

import json

import pytest

from tests.modules.mesh_control_plane_helpers import NEW, NEW_VERSION, OLD, OLD_VERSION, write_manifest, write_summary
from tests.simcluster.fixtures import controlplane, mesh

RECORD = "meshops-istio-manifest-" + NEW


@pytest.fixture
def manifest(tmp_path):
    return write_manifest(tmp_path / "istiod-1-29-2.yaml", controlplane.render(NEW, NEW_VERSION))


def rendered_keys(revision=NEW, version=NEW_VERSION):
    return sorted("%s %s" % (o["kind"], ("%s/%s" % (o["metadata"]["namespace"], o["metadata"]["name"])) if o["metadata"].get("namespace")
                             else o["metadata"]["name"]) for o in controlplane.render(revision, version))


def test_install_beside_the_old_revision_then_idempotent(old_mesh, run, manifest):
    before_old = old_mesh.store.get("apps/deployments", "istio-system", "istiod-" + OLD)
    result = run(version=NEW_VERSION, manifests=[manifest], diff=True)
    assert result["changed"] is True, result
    assert (result["revision"], result["version"], result["action"], result["ready"]) == (NEW, NEW_VERSION, "install", True)
    assert sorted(result["created"]) == rendered_keys()
    assert result["diff"] == {"before": {}, "after": {"revision": NEW, "version": NEW_VERSION, "objects": result["objects"]}}

    deployment = old_mesh.store.get("apps/deployments", "istio-system", "istiod-" + NEW)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "docker.io/istio/pilot:1.29.2"
    assert deployment["status"]["availableReplicas"] == 1
    assert old_mesh.store.get("admissionregistration.k8s.io/mutatingwebhookconfigurations", None, "istio-sidecar-injector-" + NEW)
    record = old_mesh.store.get("configmaps", "istio-system", RECORD)
    assert sorted("%s %s" % (r["kind"], "%s/%s" % (r["namespace"], r["name"]) if r["namespace"] else r["name"])
                  for r in json.loads(record["data"]["objects"])) == rendered_keys()
    # only the new revision's objects and the record were written; the old revision is untouched
    assert all(NEW in line for line in write_summary(old_mesh)), write_summary(old_mesh)
    assert old_mesh.store.get("apps/deployments", "istio-system", "istiod-" + OLD)["metadata"]["resourceVersion"] == \
        before_old["metadata"]["resourceVersion"]

    old_mesh.clear_requests()
    again = run(version=NEW_VERSION, manifests=[manifest])
    assert (again["changed"], again["action"], again["ready"], again["created"]) == (False, "none", True, [])
    assert old_mesh.writes(persisting_only=False) == []


def test_check_mode_writes_nothing(old_mesh, run, manifest):
    result = run(version=NEW_VERSION, manifests=[manifest], check=True, diff=True)
    assert (result["changed"], result["action"], result["ready"]) == (True, "install", False)
    assert sorted(result["diff"]["after"]["objects"]) == rendered_keys()
    assert old_mesh.writes() == []
    assert all(r.dry_run for r in old_mesh.writes(persisting_only=False))
    assert old_mesh.store.get("apps/deployments", "istio-system", "istiod-" + NEW) is None


def test_manifest_of_another_revision_fails_before_any_write(old_mesh, run, tmp_path):
    wrong = write_manifest(tmp_path / "wrong.yaml", controlplane.render("1-29-1", "1.29.2"))
    result = run(revision=NEW, manifests=[wrong])
    assert result["failed"] is True
    assert "the manifest does not belong to revision 1-29-2" in result["msg"]
    assert "Deployment istiod-1-29-1 is labelled istio.io/rev=1-29-1, not 1-29-2" in result["msg"]
    assert old_mesh.writes(persisting_only=False) == []


def test_manifest_content_as_objects_and_version_mismatch(old_mesh, run):
    objects = controlplane.render(NEW, "1.29.1")
    result = run(version=NEW_VERSION, revision=NEW, manifest_content=objects)
    assert result["failed"] is True
    assert "the manifest's istiod runs version 1.29.1, not 1.29.2" in result["msg"]
    assert old_mesh.writes(persisting_only=False) == []


@pytest.mark.parametrize("args, fragment", [
    ({"revision": "1.29.2"}, "revision '1.29.2' is not a DNS-1123 label"),
    ({"revision": "x" * 57}, "at most 56 are allowed"),
    ({"version": "latest"}, "version 'latest' is not an Istio version"),
    ({"version": NEW_VERSION, "chart_ref": "istio/istiod"}, "option chart_ref is for installer=helm, not manifest"),
    ({"version": NEW_VERSION, "manifests": None}, "installer=manifest with state=present needs manifests or manifest_content"),
])
def test_bad_input_fails_before_any_request(sim, run, manifest, args, fragment):
    result = run(**dict({"manifests": [manifest]}, **args))
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert sim.requests == []


def test_missing_namespace_fails_before_any_write(sim, run, tmp_path):
    path = write_manifest(tmp_path / "m.yaml", controlplane.render(NEW, NEW_VERSION, namespace="mesh"))
    result = run(version=NEW_VERSION, manifests=[path], namespace="mesh")
    assert result["failed"] is True
    assert result["msg"] == "namespace mesh does not exist: create it (istiod's namespace) before installing revision 1-29-2"
    assert sim.writes(persisting_only=False) == []


def test_other_version_under_the_same_name_needs_allow_in_place(old_mesh, run, manifest, tmp_path):
    assert run(version=NEW_VERSION, manifests=[manifest])["changed"] is True
    newer = write_manifest(tmp_path / "newer.yaml", controlplane.render(NEW, "1.29.3"))
    old_mesh.clear_requests()
    refused = run(version="1.29.3", revision=NEW, manifests=[newer])
    assert refused["failed"] is True
    assert "revision 1-29-2 already runs version 1.29.2 (istio-system/istiod-1-29-2), not 1.29.3" in refused["msg"]
    assert old_mesh.writes(persisting_only=False) == []

    changed = run(version="1.29.3", revision=NEW, manifests=[newer], allow_in_place=True, diff=True)
    assert (changed["changed"], changed["action"], changed["ready"]) == (True, "in_place", True)
    assert (changed["diff"]["before"]["image"], changed["diff"]["after"]["image"]) == (
        "docker.io/istio/pilot:1.29.2", "docker.io/istio/pilot:1.29.3")
    image = old_mesh.store.get("apps/deployments", "istio-system", "istiod-" + NEW)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "docker.io/istio/pilot:1.29.3"


def test_absent_refuses_while_in_use_then_removes_exactly_what_was_applied(old_mesh, run, manifest):
    assert run(version=NEW_VERSION, manifests=[manifest])["changed"] is True
    old_mesh.load(controlplane.render_tag("canary", NEW, NEW_VERSION)
                  + [mesh.namespace("web", {"istio.io/rev": NEW}), mesh.deployment("web", "site", replicas=1)])
    old_mesh.settle()
    old_mesh.clear_requests()

    refused = run(revision=NEW, state="absent")
    assert refused["failed"] is True
    assert refused["msg"].startswith("revision 1-29-2 is in use, nothing was removed: namespaces web (istio.io/rev=1-29-2); pods web/site-")
    assert "; tags canary." in refused["msg"]
    usage = refused["in_use"]
    assert usage["namespaces"] == [{"name": "web", "label": "istio.io/rev=1-29-2", "through": "revision"}]
    assert [(p["namespace"], p["gateway"]) for p in usage["pods"]] == [("web", False)]
    assert (usage["tags"], usage["default_validator"], usage["gateways"]) == (["canary"], False, [])
    assert old_mesh.writes(persisting_only=False) == []
    # one LIST per kind: 3 for the control plane, 3 for the in-use report
    assert sorted(r.resource for r in old_mesh.requests if r.verb == "list") == sorted([
        "apps/deployments", "admissionregistration.k8s.io/mutatingwebhookconfigurations",
        "admissionregistration.k8s.io/validatingwebhookconfigurations", "namespaces", "pods", "apps/deployments"])

    old_mesh.store.delete("namespaces", None, "web")
    old_mesh.store.delete("admissionregistration.k8s.io/mutatingwebhookconfigurations", None, "istio-revision-tag-canary")
    old_mesh.store.delete("services", "istio-system", "istiod-revision-tag-canary")
    old_mesh.settle()
    old_mesh.clear_requests()
    removed = run(revision=NEW, state="absent", diff=True)
    assert (removed["changed"], removed["action"]) == (True, "remove")
    assert sorted(removed["deleted"]) == rendered_keys()
    assert removed["diff"]["after"] == {}
    deletes = sorted("%s %s" % (r.resource, r.name) for r in old_mesh.writes() if r.verb == "delete")
    assert len(deletes) == len(rendered_keys()) + 1 and "configmaps " + RECORD in deletes
    assert old_mesh.store.get("apps/deployments", "istio-system", "istiod-" + NEW) is None
    assert old_mesh.store.get("apps/deployments", "istio-system", "istiod-" + OLD) is not None
    assert old_mesh.store.get("configmaps", "istio-system", RECORD) is None

    old_mesh.clear_requests()
    twice = run(revision=NEW, state="absent")
    assert (twice["changed"], twice["msg"]) == (False, "revision 1-29-2 is already absent")
    assert old_mesh.writes(persisting_only=False) == []


def test_absent_in_check_mode_and_force(old_mesh, run, manifest):
    assert run(version=NEW_VERSION, manifests=[manifest])["changed"] is True
    old_mesh.load([mesh.namespace("web", {"istio.io/rev": NEW})])
    old_mesh.clear_requests()
    checked = run(revision=NEW, state="absent", force=True, check=True)
    assert checked["changed"] is True and checked["msg"] == "revision 1-29-2 would be removed with manifest: 15 objects"
    assert [warning["event"]["msg"] for warning in checked["warnings"]] == [
        "removing revision 1-29-2 although it is in use (force=true): namespaces web (istio.io/rev=1-29-2)"]
    assert old_mesh.writes() == []
    assert old_mesh.store.get("apps/deployments", "istio-system", "istiod-" + NEW) is not None


def test_absent_of_a_revision_not_installed_by_the_manifest_installer(old_mesh, run):
    result = run(revision=OLD, state="absent", force=True)
    assert result["failed"] is True
    assert result["msg"] == ("revision 1-28-1 runs in istio-system, but installer=manifest has no record of it (no ConfigMap "
                             "istio-system/meshops-istio-manifest-1-28-1): remove it with the installer that installed it")
    assert old_mesh.writes(persisting_only=False) == []


def test_wait_timeout_reports_what_it_saw(old_mesh, run, manifest):
    old_mesh.settings.rollout_delay = 30  # istiod's pod stays unready for longer than the wait
    result = run(version=NEW_VERSION, manifests=[manifest], wait_timeout=1)
    assert result["failed"] is True, result
    assert result["msg"].startswith("istiod revision 1-29-2 was not ready within 1 seconds: Deployment istio-system/istiod-1-29-2:")


def test_wait_fails_at_once_when_istiod_is_past_its_progress_deadline(old_mesh, run, tmp_path):
    """The wait reads istiod's rollout as kubectl rollout status does (k8s/rollout.py): a Deployment whose progress
    deadline passed will not finish by itself, so the module fails with kubectl's message instead of waiting out
    wait_timeout."""
    old_mesh.settings.rollout_delay = 60  # istiod's pod stays unready past its 1 second progress deadline
    objects = controlplane.render(NEW, NEW_VERSION)
    istiod = next(o for o in objects if o["kind"] == "Deployment")
    istiod["spec"]["progressDeadlineSeconds"] = 1
    result = run(version=NEW_VERSION, manifests=[write_manifest(tmp_path / "istiod.yaml", objects)], wait_timeout=60)
    assert result["failed"] is True, result
    assert result["msg"].startswith('istiod revision 1-29-2 failed to roll out: Deployment istio-system/istiod-1-29-2: '
                                    'deployment "istiod-1-29-2" exceeded its progress deadline'), result["msg"]


def test_reapply_leaves_istiods_webhook_fields_to_istiod(old_mesh, run, manifest, tmp_path):
    """istiod patches its webhooks' caBundle and turns its validator's failurePolicy to Fail once it serves (the
    simulated cluster does it too: simcluster/istio/istiod_writes.py). Applying a changed manifest must not write
    them back: with force, the chart's failurePolicy Ignore would switch validation off until istiod noticed."""
    key = "admissionregistration.k8s.io/validatingwebhookconfigurations"
    name = f"istio-validator-{NEW}-istio-system"
    assert run(version=NEW_VERSION, manifests=[manifest])["changed"] is True
    assert old_mesh.settle()
    validator = old_mesh.store.get(key, None, name)
    assert validator["webhooks"][0]["failurePolicy"] == "Fail" and validator["webhooks"][0]["clientConfig"]["caBundle"]

    objects = controlplane.render(NEW, NEW_VERSION)
    for obj in objects:
        obj["metadata"].setdefault("labels", {})["example.com/owner"] = "platform"
    watch = old_mesh.store.watch(key, field_selector="metadata.name=" + name, resource_version=validator["metadata"]["resourceVersion"])
    try:
        result = run(version=NEW_VERSION, manifests=[write_manifest(tmp_path / "labelled.yaml", objects)])
        assert result["changed"] is True, result
        seen = []
        while (event := watch.next(timeout=1)) is not None:
            seen.append((event[1]["webhooks"][0]["failurePolicy"], (event[1]["metadata"].get("labels") or {}).get("example.com/owner")))
    finally:
        watch.close()
    assert ("Fail", "platform") in seen and all(policy == "Fail" for policy, _owner in seen), seen
    injector = old_mesh.store.get("admissionregistration.k8s.io/mutatingwebhookconfigurations", None, "istio-sidecar-injector-" + NEW)
    assert all(hook["clientConfig"].get("caBundle") for hook in injector["webhooks"])


@pytest.fixture
def default_on_old(sim, run, manifest):
    """OLD (adopted by the manifest installer) and NEW installed; the tag default and the validator point at OLD; the
    namespace bookinfo (istio-injection=enabled) follows the default revision. Nothing else uses OLD."""
    sim.load([mesh.namespace("istio-system"), mesh.namespace("bookinfo", {"istio-injection": "enabled"})]
             + controlplane.render_tag("default", OLD, OLD_VERSION) + [controlplane.render_default_validator(OLD, OLD_VERSION)])
    assert run(version=OLD_VERSION, manifest_content=controlplane.render(OLD, OLD_VERSION))["changed"] is True
    assert run(version=NEW_VERSION, manifests=[manifest])["changed"] is True
    sim.settle()
    sim.clear_requests()
    return sim


def test_absent_assuming_the_default_moved_plans_what_the_real_run_does_after_the_move(default_on_old, run):
    """Finalize proves, before it moves the default, that the source can be removed once it has moved (issue 8, 2-3)."""
    plain = run(revision=OLD, state="absent", check=True)
    assert plain["failed"] is True and plain["msg"].startswith(
        "revision 1-28-1 is in use, nothing was removed: namespaces bookinfo (istio-injection=enabled); tags default; "
        "istiod-default-validator points at it"), plain["msg"]

    planned = run(revision=OLD, state="absent", assume_default_revision=NEW, check=True, diff=True)
    assert (planned.get("failed"), planned["changed"], planned["action"]) == (None, True, "remove"), planned
    assert planned["msg"] == ("revision 1-28-1 would be removed with manifest: 15 objects (once the tag default and "
                              "istiod-default-validator point at 1-29-2)")
    assert planned["in_use"] == {"namespaces": [], "pods": [], "gateways": [], "tags": [], "default_validator": False}
    assert default_on_old.writes() == []
    assert {r.verb for r in default_on_old.writes(persisting_only=False)} == {"delete"}  # dry runs of every delete

    default_on_old.clear_requests()
    refused = run(revision=OLD, state="absent", assume_default_revision=NEW)
    assert refused["failed"] is True and refused["msg"] == (
        "revision 1-28-1 was not removed: assume_default_revision=1-29-2, but the default revision is 1-28-1 and "
        "istiod-default-validator points at 1-28-1, not both at 1-29-2. Point the tag default at 1-29-2 first "
        "(meshops.istio.revision_tag), or leave the option out")
    assert default_on_old.writes(persisting_only=False) == []

    default_on_old.load(controlplane.render_tag("default", NEW, NEW_VERSION) + [controlplane.render_default_validator(NEW, NEW_VERSION)])
    removed = run(revision=OLD, state="absent", assume_default_revision=NEW)
    assert (removed["changed"], removed["msg"]) == (True, "revision 1-28-1 removed with manifest: 15 objects"), removed
    assert default_on_old.store.get("apps/deployments", "istio-system", "istiod-" + OLD) is None


@pytest.mark.parametrize("args, fragment", [
    ({"version": NEW_VERSION, "assume_default_revision": OLD}, "assume_default_revision is an option of state=absent"),
    ({"revision": OLD, "state": "absent", "assume_default_revision": "1.29.2"},
     "assume_default_revision: revision '1.29.2' is not a DNS-1123 label"),
])
def test_assume_default_revision_bad_input_fails_before_any_request(sim, run, manifest, args, fragment):
    result = run(**dict({"manifests": [manifest]} if "version" in args else {}, **args))
    assert result["failed"] is True and fragment in result["msg"], result
    assert sim.requests == []


@pytest.mark.parametrize("assumed, fragment", [
    (OLD, "assume_default_revision=1-28-1 is the revision to remove"),
    ("1-30-0", "assume_default_revision=1-30-0 is not installed (installed revisions: 1-28-1, 1-29-2)"),
])
def test_assume_default_revision_must_be_another_installed_revision(default_on_old, run, assumed, fragment):
    result = run(revision=OLD, state="absent", assume_default_revision=assumed, check=True)
    assert result["failed"] is True and fragment in result["msg"], result
    assert default_on_old.writes(persisting_only=False) == []
