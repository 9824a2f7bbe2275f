"""revision_tag's decisions (istio/tags.py): option problems, istioctl's refusals, the writes that set or remove a tag,
and the refusal to remove a tag still in use."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio import tags
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import discover
from tests.simcluster.fixtures import controlplane

OLD, OLD_VERSION = "1-27-3", "1.27.3"
NEW, NEW_VERSION = "1-29-2", "1.29.2"


def rendered(revision, version, kind):
    return [o for o in controlplane.render(revision, version) if o["kind"] == kind]


def cluster(new_ready=1, tag_to=OLD):
    """OLD and NEW installed (NEW ready unless told), tag prod -> ``tag_to``: (plane, mutating, validating)."""
    deployments = rendered(OLD, OLD_VERSION, "Deployment") + rendered(NEW, NEW_VERSION, "Deployment")
    for deployment in deployments:
        replicas = deployment["spec"].get("replicas", 1)
        ready = new_ready if NEW in deployment["metadata"]["name"] else replicas
        deployment["metadata"]["generation"] = 1
        deployment["status"] = {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": ready}
    mutating = rendered(OLD, OLD_VERSION, "MutatingWebhookConfiguration") + rendered(NEW, NEW_VERSION, "MutatingWebhookConfiguration")
    own = {OLD: mutating[0], NEW: mutating[1]}
    if tag_to:
        mutating.append(tags.render_tag_webhook("prod", tag_to, own[tag_to]))
    validating = rendered(OLD, OLD_VERSION, "ValidatingWebhookConfiguration")
    return discover(deployments, mutating, validating), mutating, validating


@pytest.mark.parametrize("tag, revision, state, fragments", [
    ("prod", NEW, "present", []),
    ("Prod", NEW, "present", ["tag 'Prod' is not a DNS-1123 label"]),
    ("prod", "1.29.2", "present", ["revision '1.29.2' is not a DNS-1123 label"]),
    ("prod", None, "absent", []),
    ("prod", OLD, "absent", ["revision is an option of state=present; remove it to delete the tag"]),
])
def test_option_problems(tag, revision, state, fragments):
    problems = tags.option_problems(tag, revision, state)
    assert len(problems) == len(fragments) and all(f in p for f, p in zip(fragments, problems)), problems


@pytest.mark.parametrize("tag, revision, namespace, options, fragment", [
    (NEW, OLD, "istio-system", {}, "cannot create revision tag %s: a control plane revision has the same name" % NEW),
    ("prod", "1-30-0", "istio-system", {}, "cannot point tag prod at revision 1-30-0: no istiod Deployment of that revision "
                                           "is installed (installed revisions: %s, %s)" % (OLD, NEW)),
    ("prod", NEW, "istio-canary", {}, "revision %s is installed in namespace istio-system, not istio-canary" % NEW),
    ("prod", NEW, "istio-system", {"overwrite": False}, "revision tag prod already exists and points at revision %s; set "
                                                        "overwrite: true to move it to %s" % (OLD, NEW)),
])
def test_plan_present_refusals(tag, revision, namespace, options, fragment):
    plane, mutating, validating = cluster()
    plan, problem = tags.plan_present(tag, revision, namespace, plane, mutating, validating, [], **options)
    assert plan is None and problem.startswith(fragment), problem


def test_plan_present_needs_a_ready_revision_unless_told():
    plane, mutating, validating = cluster(new_ready=0)
    plan, problem = tags.plan_present("prod", NEW, "istio-system", plane, mutating, validating, [])
    assert plan is None and "its istiod istio-system/istiod-%s is not ready (0 of 1 replicas)" % NEW in problem
    plan, problem = tags.plan_present("prod", NEW, "istio-system", plane, mutating, validating, [], require_ready=False)
    assert problem is None and plan.changed


def test_plan_present_moves_a_tag_and_is_unchanged_the_second_time():
    plane, mutating, validating = cluster()
    plan, problem = tags.plan_present("prod", NEW, "istio-system", plane, mutating, validating, [])
    assert problem is None
    assert [(o["kind"], o["name"], o["action"]) for o in plan.objects()] == [
        ("MutatingWebhookConfiguration", "istio-revision-tag-prod", "updated"),
        ("Service", "istiod-revision-tag-prod", "created")]
    moved = [body for _action, _kind, _existing, body in plan.steps]
    plane, mutating, validating = cluster(tag_to=NEW)
    again, problem = tags.plan_present("prod", NEW, "istio-system", plane, mutating, validating, [moved[1]])
    assert problem is None and not again.changed and [step[0] for step in again.steps] == [tags.UNCHANGED, tags.UNCHANGED]


def test_plan_present_on_a_revision_before_1_28_has_no_service_and_removes_one():
    plane, mutating, validating = cluster()
    service = tags.render_tag_service("prod", NEW)
    plan = tags.plan_present("prod", OLD, "istio-system", plane, mutating, validating, [service])[0]
    assert [(o["kind"], o["action"]) for o in plan.objects()] == [
        ("MutatingWebhookConfiguration", "unchanged"), ("Service", "deleted")]


def test_plan_present_default_tag_takes_the_validator():
    plane, mutating, validating = cluster(tag_to=None)
    plan = tags.plan_present("default", NEW, "istio-system", plane, mutating, validating, [])[0]
    kinds = [(o["kind"], o["name"], o["action"]) for o in plan.objects()]
    assert kinds[:2] == [("MutatingWebhookConfiguration", "istio-revision-tag-default", "created"),
                         ("ValidatingWebhookConfiguration", "istiod-default-validator", "created")]


def test_plan_absent_deletes_what_carries_the_tag_label():
    plane, mutating, validating = cluster()
    service = tags.render_tag_service("prod", OLD)
    other = tags.render_tag_service("stable", OLD)
    plan = tags.plan_absent("prod", mutating, validating, [service, other])
    assert [(o["kind"], o["name"], o["action"]) for o in plan.objects()] == [
        ("MutatingWebhookConfiguration", "istio-revision-tag-prod", "deleted"),
        ("Service", "istiod-revision-tag-prod", "deleted")]
    assert tags.plan_absent("gone", mutating, validating, [service]).steps == []


def pod(name):
    return {"metadata": {"namespace": "shop", "name": name}}


@pytest.mark.parametrize("namespaces, pods, expected", [
    ([], [], None),
    (["tagged"], [], "cannot remove revision tag prod: still in use by namespace tagged. Move them to a revision first "
                     "(meshops.istio.namespace_revision), or set force: true"),
    ([], [pod("a")], "cannot remove revision tag prod: still in use by pod shop/a. Move them"),
    ([], [pod("p%02d" % i) for i in range(12)], "pod shop/p09, 2 more pods. Move them"),
])
def test_removal_problem(namespaces, pods, expected):
    problem = tags.removal_problem("prod", namespaces, pods)
    assert problem is None if expected is None else expected in problem, problem
