"""Control-plane discovery: revisions, versions, readiness, tags, default revision and validator."""

from __future__ import annotations

from istio_objects import istiod_deployment, revision_mwc, tag_mwc, validator_vwc
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import discover


def test_canary_in_progress():
    plane = discover(
        [istiod_deployment("1-28-1", "1.28.1"), istiod_deployment("1-29-2", "1.29.2", replicas=2, ready=1, variant="distroless")],
        [revision_mwc("1-28-1"), revision_mwc("1-29-2"), tag_mwc("default", "1-28-1"), tag_mwc("canary", "1-29-2")],
        [validator_vwc("1-28-1"), validator_vwc("1-29-2"), validator_vwc("1-28-1", name="istiod-default-validator")],
    )
    old, new = plane.revisions["1-28-1"], plane.revisions["1-29-2"]
    assert (old.version.release, old.ready, old.injector_webhook, old.validator_webhook) == (
        "1.28.1", True, "istio-sidecar-injector-1-28-1", "istio-validator-1-28-1-istio-system")
    assert (new.version.release, new.ready, new.replicas, new.ready_replicas) == ("1.29.2", False, 2, 1)
    assert {t: plane.tags[t].revision for t in plane.tags} == {"default": "1-28-1", "canary": "1-29-2"}
    assert (plane.default_revision, plane.default_revision_source) == ("1-28-1", "tag")
    assert plane.default_validator_revision == "1-28-1"
    assert plane.problems == []
    assert plane.resolve("canary") == "1-29-2"
    assert plane.resolve("default") == "1-28-1"
    assert plane.resolve("1-29-2") == "1-29-2"
    assert plane.resolve("nope") is None


def test_default_install_without_tags():
    plane = discover([istiod_deployment("", "1.27.3")], [revision_mwc("")],
                     [validator_vwc(""), validator_vwc("", name="istiod-default-validator")])
    assert list(plane.revisions) == ["default"]
    assert plane.revisions["default"].deployment == "istiod"
    assert (plane.default_revision, plane.default_revision_source) == ("default", "webhook")
    assert plane.default_validator_revision == "default"


def test_deactivated_untagged_webhook_does_not_make_a_default():
    plane = discover([istiod_deployment("", "1.27.3"), istiod_deployment("1-29-2", "1.29.2")],
                     [revision_mwc("", deactivated=True), revision_mwc("1-29-2")], [])
    assert plane.default_revision is None
    assert plane.default_validator_revision is None


def test_revisions_without_default():
    plane = discover([istiod_deployment("1-29-2", "1.29.2")], [revision_mwc("1-29-2")], [])
    assert plane.default_revision is None and plane.problems == []


def test_inconsistencies_are_problems():
    plane = discover(
        [istiod_deployment("1-29-2", "1.29.2"), istiod_deployment("1-29-2", "1.29.2")],
        [revision_mwc("1-29-2"), revision_mwc("1-27-0"), tag_mwc("prod", "1-28-1")],
        [validator_vwc("1-28-1", name="istiod-default-validator")],
    )
    text = "\n".join(plane.problems)
    assert "revision 1-29-2 has more than one istiod Deployment" in text
    assert "tag prod (istio-revision-tag-prod) points at revision 1-28-1, which has no istiod Deployment" in text
    assert "injector webhook istio-sidecar-injector-1-27-0 belongs to revision 1-27-0" in text
    assert "istiod-default-validator points at revision 1-28-1" in text


def test_deployments_not_labelled_istiod_are_ignored():
    other = istiod_deployment("1-29-2", "1.29.2")
    other["metadata"]["labels"]["app"] = "web"
    assert discover([other], [], []).revisions == {}


def test_as_dict_is_sorted_and_plain():
    plane = discover([istiod_deployment("b", "1.29.2"), istiod_deployment("a", "1.28.1")], [], [])
    result = plane.as_dict()
    assert [r["name"] for r in result["revisions"]] == ["a", "b"]
    assert result["revisions"][0]["version"] == "1.28.1"
