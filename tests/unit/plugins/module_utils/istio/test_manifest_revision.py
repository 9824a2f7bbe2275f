"""A rendered istiod manifest must belong to the revision it is installed as."""

from __future__ import annotations

import copy

import pytest

from tests.simcluster.fixtures import controlplane
from ansible_collections.meshops.istio.plugins.module_utils.istio.manifest_revision import (
    istiod_deployment,
    manifest_digest,
    manifest_version,
    object_ref,
    ownership_problems,
    ref_text,
)


def test_a_revision_manifest_belongs_to_its_revision():
    objects = controlplane.render("1-29-2", "1.29.2")
    assert ownership_problems(objects, "1-29-2") == []
    assert manifest_version(objects, "1-29-2") == "1.29.2"
    assert istiod_deployment(objects, "1-29-2")["metadata"]["name"] == "istiod-1-29-2"


def test_the_default_revision_manifest():
    assert ownership_problems(controlplane.render("", "1.27.3"), "default") == []


def test_a_manifest_for_another_namespace():
    objects = controlplane.render("1-29-2", "1.29.2", namespace="mesh")
    assert ownership_problems(objects, "1-29-2", namespace="mesh") == []
    problems = ownership_problems(objects, "1-29-2")
    assert "Deployment istiod-1-29-2 is in namespace mesh, not istio-system: render the manifest for namespace istio-system" in problems


def test_a_manifest_rendered_for_another_revision():
    problems = ownership_problems(controlplane.render("1-28-1", "1.28.1"), "1-29-2")
    assert "Deployment istiod-1-28-1 is labelled istio.io/rev=1-28-1, not 1-29-2: the manifest was rendered for revision 1-28-1" in problems
    assert "Deployment istiod-1-28-1 is an istiod Deployment but revision 1-29-2's is named istiod-1-29-2" in problems
    assert "the manifest has no istiod Deployment istiod-1-29-2: render the istiod chart with revision=1-29-2" in problems
    assert any(p.startswith("MutatingWebhookConfiguration istio-sidecar-injector-1-28-1 is not revision 1-29-2's") for p in problems)


def _edit(objects, kind, change):
    objects = copy.deepcopy(objects)
    for obj in objects:
        if obj["kind"] == kind:
            change(obj)
    return objects


@pytest.mark.parametrize("kind, change, fragment", [
    ("Deployment", lambda o: o["spec"]["template"]["spec"]["containers"][0]["env"].__setitem__(0, {"name": "REVISION", "value": "1-28-1"}),
     "runs with REVISION=1-28-1, not 1-29-2"),
    ("MutatingWebhookConfiguration", lambda o: o["webhooks"][0]["clientConfig"]["service"].__setitem__("name", "istiod-1-28-1"),
     "calls Service istiod-1-28-1, not istiod-1-29-2"),
    ("ValidatingWebhookConfiguration", lambda o: o["metadata"].__setitem__("name", "istio-validator-1-28-1-istio-system"),
     "is not revision 1-29-2's validator istio-validator-1-29-2-istio-system"),
    ("ServiceAccount", lambda o: o["metadata"].pop("name"), "has no apiVersion, kind or metadata.name"),
])
def test_single_wrong_objects(kind, change, fragment):
    problems = ownership_problems(_edit(controlplane.render("1-29-2", "1.29.2"), kind, change), "1-29-2")
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize("extra, fragment", [
    (controlplane.crds()[0], "CRDs belong to the base chart"),
    (controlplane.render_tag("default", "1-29-2", "1.29.2")[0], "revision tag or the default validator"),
    (controlplane.render_default_validator("1-29-2", "1.29.2"), "revision tag or the default validator"),
])
def test_shared_objects_are_refused(extra, fragment):
    problems = ownership_problems(controlplane.render("1-29-2", "1.29.2") + [extra], "1-29-2")
    assert len(problems) == 1 and fragment in problems[0]


def test_digest_ignores_order_and_sees_changes():
    objects = controlplane.render("1-29-2", "1.29.2")
    assert manifest_digest(objects) == manifest_digest(list(reversed(objects)))
    assert manifest_digest(objects) != manifest_digest(controlplane.render("1-29-2", "1.29.2", replicas=2))


def test_refs():
    ref = object_ref(controlplane.render("1-29-2", "1.29.2")[0])
    assert ref == {"apiVersion": "v1", "kind": "ServiceAccount", "namespace": "istio-system", "name": "istiod-1-29-2"}
    assert ref_text(ref) == "ServiceAccount istio-system/istiod-1-29-2"
    assert ref_text({"kind": "ClusterRole", "namespace": None, "name": "x"}) == "ClusterRole x"
