"""mesh_control_plane's CRD step (crds=upgrade|skip) on the simulated cluster: Istio's CRDs go to the target's release,
only ever forward, with check mode, diff and idempotence, for the manifest, helm (real helm, tests/simcluster/charts/base) and
istioctl (stand-in tests/simcluster/bin/istioctl) installers; a removal (rollback) never touches them."""

from __future__ import annotations

import json
import os

import pytest

from tests.modules.mesh_control_plane_helpers import BASE_CHART, CHART, HELM, NEW, NEW_VERSION, OLD_VERSION, write_manifest, write_summary
from tests.simcluster.fixtures import controlplane

CRDS = "apiextensions.k8s.io/customresourcedefinitions"
NAMES = sorted(crd["metadata"]["name"] for crd in controlplane.crds())


def crd_versions(sim) -> dict:
    return {crd["metadata"]["name"]: crd["metadata"]["labels"].get("app.kubernetes.io/version")
            for crd in sim.store.list(CRDS)[0] if crd["spec"]["group"].endswith("istio.io")}


def crd_writes(sim) -> list[str]:
    return [line for line in write_summary(sim) if "customresourcedefinitions" in line]


def manifest_with_crds(tmp_path, crds) -> str:
    return write_manifest(tmp_path / "istiod-1-29-2.yaml", crds + controlplane.render(NEW, NEW_VERSION))


def test_manifest_upgrades_the_crds_first_check_diff_idempotent_and_removal_keeps_them(old_mesh, run, tmp_path):
    manifest = manifest_with_crds(tmp_path, controlplane.crds(NEW_VERSION))

    checked = run(version=NEW_VERSION, manifests=[manifest], check=True, diff=True)
    assert checked["changed"] is True, checked
    assert (checked["crds"]["upgraded"], checked["crds"]["created"], checked["crds"]["kept_newer"]) == (NAMES, [], [])
    assert checked["crds"]["msg"] == "CRDs: 5 would be upgraded"
    assert checked["diff"]["before"]["crds"] == {name: OLD_VERSION for name in NAMES}
    assert checked["diff"]["after"]["crds"] == {name: NEW_VERSION for name in NAMES}
    assert old_mesh.writes() == []  # check mode: every write was a dry run
    assert set(crd_versions(old_mesh).values()) == {OLD_VERSION}

    result = run(version=NEW_VERSION, manifests=[manifest])
    assert (result["changed"], result["action"], result["ready"]) == (True, "install", True), result
    assert result["msg"].endswith("; CRDs: 5 upgraded")
    assert crd_versions(old_mesh) == {name: NEW_VERSION for name in NAMES}
    # the CRDs went first (Istio's upgrade procedure), then the revision; they are not the revision's objects
    writes = write_summary(old_mesh)
    assert writes[:5] == crd_writes(old_mesh) and len(crd_writes(old_mesh)) == 5, writes
    record = old_mesh.store.get("configmaps", "istio-system", "meshops-istio-manifest-" + NEW)
    assert not any(ref["kind"] == "CustomResourceDefinition" for ref in json.loads(record["data"]["objects"]))
    assert not any(text.startswith("CustomResourceDefinition") for text in result["objects"])

    old_mesh.clear_requests()
    again = run(version=NEW_VERSION, manifests=[manifest], diff=True)
    assert (again["changed"], again["crds"]["changed"]) == (False, False), again
    assert {step["action"] for step in again["crds"]["steps"]} == {"same"}
    assert old_mesh.writes() == []

    removed = run(revision=NEW, state="absent", force=True)
    assert removed["changed"] is True
    assert crd_versions(old_mesh) == {name: NEW_VERSION for name in NAMES}  # a rollback never downgrades them
    assert crd_writes(old_mesh) == []


def test_manifest_keeps_newer_crds_and_applies_only_the_older_ones(sim, run, tmp_path):
    sim.load([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}])
    cluster = controlplane.crds("1.30.0")
    cluster[0]["metadata"]["labels"]["app.kubernetes.io/version"] = OLD_VERSION  # one older than the target
    sim.load(cluster)
    sim.clear_requests()
    result = run(version=NEW_VERSION, manifests=[manifest_with_crds(tmp_path, controlplane.crds(NEW_VERSION))])
    assert result["changed"] is True, result
    older = cluster[0]["metadata"]["name"]
    assert result["crds"]["upgraded"] == [older]
    assert result["crds"]["kept_newer"] == sorted(set(NAMES) - {older})
    assert crd_writes(sim) == ["patch apiextensions.k8s.io/customresourcedefinitions /%s" % older]
    assert crd_versions(sim) == dict({name: "1.30.0" for name in NAMES}, **{older: NEW_VERSION})


def test_manifest_refuses_crds_whose_release_cannot_be_told_before_any_write(sim, run, tmp_path):
    sim.load([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}] + controlplane.crds())
    sim.clear_requests()
    result = run(version=NEW_VERSION, manifests=[manifest_with_crds(tmp_path, controlplane.crds(NEW_VERSION))])
    assert result["failed"] is True
    assert result["msg"].startswith("Istio's CRDs cannot be brought to the target's, nothing was changed: the cluster's "
                                    "CRDs %s carry no Istio version" % ", ".join(NAMES)), result["msg"]
    assert "label each with app.kubernetes.io/version=<its release>" in result["msg"]
    assert sim.writes() == []
    # crds=skip leaves them, and installs the revision
    skipped = run(version=NEW_VERSION, manifests=[manifest_with_crds(tmp_path, controlplane.crds(NEW_VERSION))], crds="skip")
    assert (skipped["changed"], skipped["crds"]["mode"]) == (True, "skip"), skipped
    assert set(crd_versions(sim).values()) == {None} and crd_writes(sim) == []


def test_manifest_crds_without_marker_take_the_revision_version_and_get_the_label(old_mesh, run, tmp_path):
    result = run(version=NEW_VERSION, manifests=[manifest_with_crds(tmp_path, controlplane.crds())])  # crd-all.gen.yaml
    assert result["crds"]["upgraded"] == NAMES, result
    assert crd_versions(old_mesh) == {name: NEW_VERSION for name in NAMES}
    assert run(version=NEW_VERSION, manifests=[manifest_with_crds(tmp_path, controlplane.crds())])["changed"] is False


def test_manifest_refuses_crds_of_other_groups(old_mesh, run, tmp_path):
    other = controlplane.crds(NEW_VERSION)[0]
    other["metadata"]["name"], other["spec"]["group"] = "gateways.gateway.networking.k8s.io", "gateway.networking.k8s.io"
    result = run(version=NEW_VERSION, manifests=[manifest_with_crds(tmp_path, [other])])
    assert result["failed"] is True
    assert ("CustomResourceDefinition gateways.gateway.networking.k8s.io is not one of Istio's CRDs (group istio.io or "
            "*.istio.io): apply it separately") in result["msg"]
    assert old_mesh.writes() == []


@pytest.fixture
def helm_base(sim, helm, tmp_path):
    """A cluster with Istio's base chart installed as release istio-base at 1.28.1 (a packaged tests/simcluster/charts/base)."""
    if not os.access(HELM, os.X_OK):
        pytest.skip("helm is not installed: run 'make tools'")
    sim.load([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}])
    helm("package", BASE_CHART, "--version", OLD_VERSION, "--app-version", OLD_VERSION, "--destination", str(tmp_path), check=True)
    helm("install", "istio-base", str(tmp_path / ("base-%s.tgz" % OLD_VERSION)), "--namespace", "istio-system", check=True)
    sim.clear_requests()
    return sim


def helm_args(**extra):
    return dict({"version": NEW_VERSION, "installer": "helm", "chart_ref": CHART, "helm_binary": HELM}, **extra)


def base_release(helm) -> dict:
    releases = json.loads(helm("list", "-n", "istio-system", "-o", "json", check=True).stdout)
    return next(r for r in releases if r["name"] == "istio-base")


def test_helm_upgrades_the_base_release_as_the_docs_do(helm_base, run, helm):
    assert set(crd_versions(helm_base).values()) == {OLD_VERSION}
    checked = run(check=True, diff=True, **helm_args())
    assert (checked["changed"], checked["crds"]["upgraded"]) == (True, NAMES), checked
    assert checked["diff"]["after"]["crds"] == {name: NEW_VERSION for name in NAMES}
    assert helm_base.writes() == [] and int(base_release(helm)["revision"]) == 1

    result = run(**helm_args())
    assert (result["changed"], result["action"], result["crds"]["upgraded"]) == (True, "install", NAMES), result
    assert crd_versions(helm_base) == {name: NEW_VERSION for name in NAMES}
    release = base_release(helm)
    assert (int(release["revision"]), release["chart"], release["app_version"]) == (2, "base-1.29.2", NEW_VERSION)

    helm_base.clear_requests()
    again = run(**helm_args())
    assert (again["changed"], again["crds"]["changed"]) == (False, False), again
    assert helm_base.writes() == [] and int(base_release(helm)["revision"]) == 2


def test_helm_refuses_without_a_base_release_or_over_newer_crds(helm_base, run, helm, kubectl):
    missing = run(base_release_name="istio-crds", **helm_args())
    assert missing["failed"] is True
    assert "there is no Helm release istio-crds in namespace istio-system to upgrade" in missing["msg"], missing["msg"]
    # one CRD newer than the chart: helm upgrade would replace it with the older one
    newer = NAMES[0]
    kubectl("label", "--overwrite", "crd", newer, "app.kubernetes.io/version=1.30.0", check=True)
    helm_base.clear_requests()
    refused = run(**helm_args())
    assert refused["failed"] is True
    assert ("helm upgrade of the base chart applies all of the target's CRDs at once, and would replace %s (1.30.0) with "
            "older ones" % newer) in refused["msg"], refused["msg"]
    assert helm_base.writes() == [] and int(base_release(helm)["revision"]) == 1


def test_istioctl_applies_its_crds_and_refuses_over_newer_ones(sim, run, tmp_path, monkeypatch, istioctl_standin):
    sim.load([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}] + controlplane.crds("1.28.1", "istioctl"))
    result = run(version=NEW_VERSION, installer="istioctl", istioctl_binary=istioctl_standin)
    assert (result["changed"], result["crds"]["upgraded"]) == (True, NAMES), result
    labels = sim.store.get(CRDS, None, NAMES[0])["metadata"]["labels"]
    assert (labels["app.kubernetes.io/version"], labels["operator.istio.io/version"]) == (NEW_VERSION, NEW_VERSION)

    monkeypatch.setenv("MESHOPS_ISTIOCTL_VERSION", "1.28.1")
    sim.clear_requests()
    older = run(version="1.28.1", installer="istioctl", istioctl_binary=istioctl_standin)
    assert older["failed"] is True
    assert "istioctl install applies all of the target's CRDs at once, and would replace" in older["msg"], older["msg"]
    assert sim.writes() == []
    assert run(version=NEW_VERSION, installer="istioctl", istioctl_binary=istioctl_standin, crds="skip")["msg"].startswith(
        "invalid options, nothing was read or changed: installer=istioctl applies its CRDs with every install")
