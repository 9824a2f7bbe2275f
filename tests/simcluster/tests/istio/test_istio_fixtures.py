"""The fixtures: names, labels and webhooks as Istio's charts render them, and the sample meshes."""

from __future__ import annotations

import json

import yaml

from tests.simcluster import istio
from tests.simcluster.cluster import Settings
from tests.simcluster.controllers.manager import ControllerManager
from tests.simcluster.fixtures import __main__ as cli
from tests.simcluster.fixtures import controlplane, gateway, mesh
from tests.simcluster.store import Store


def by_kind(objs: list[dict]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for obj in objs:
        found.setdefault(obj["kind"], []).append(obj["metadata"]["name"])
    return found


def test_revisioned_control_plane_names():
    kinds = by_kind(controlplane.render("1-28-1", "1.28.1", replicas=2))
    assert kinds["Deployment"] == ["istiod-1-28-1"]
    assert kinds["Service"] == ["istiod-1-28-1"]
    assert kinds["ConfigMap"] == ["istio-1-28-1", "istio-sidecar-injector-1-28-1", "values-1-28-1"]
    assert kinds["MutatingWebhookConfiguration"] == ["istio-sidecar-injector-1-28-1"]
    assert kinds["ValidatingWebhookConfiguration"] == ["istio-validator-1-28-1-istio-system"]
    assert "istiod-clusterrole-1-28-1-istio-system" in kinds["ClusterRole"]
    assert kinds["PodDisruptionBudget"] == ["istiod-1-28-1"] and kinds["HorizontalPodAutoscaler"] == ["istiod-1-28-1"]


def test_revisioned_deployment_labels_and_selector():
    deployment = next(o for o in controlplane.render("1-28-1", "1.28.1") if o["kind"] == "Deployment")
    labels = deployment["metadata"]["labels"]
    assert {k: labels[k] for k in ("app", "istio.io/rev", "istio", "operator.istio.io/component", "release")} == {
        "app": "istiod", "istio.io/rev": "1-28-1", "istio": "pilot", "operator.istio.io/component": "Pilot", "release": "istiod-1-28-1"}
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "istiod", "istio.io/rev": "1-28-1"}}
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert (pod_labels["istio"], pod_labels["sidecar.istio.io/inject"]) == ("istiod", "false")
    discovery = deployment["spec"]["template"]["spec"]["containers"][0]
    assert discovery["image"] == "docker.io/istio/pilot:1.28.1"
    assert {"name": "REVISION", "value": "1-28-1"} in discovery["env"]


def test_default_control_plane_webhooks_and_selectors():
    objs = controlplane.render(None, "1.26.2")
    mwc = next(o for o in objs if o["kind"] == "MutatingWebhookConfiguration")
    assert mwc["metadata"]["name"] == "istio-sidecar-injector"
    assert mwc["metadata"]["labels"]["istio.io/rev"] == "default"
    assert [w["name"] for w in mwc["webhooks"]] == ["rev.namespace.sidecar-injector.istio.io", "rev.object.sidecar-injector.istio.io",
                                                    "namespace.sidecar-injector.istio.io", "object.sidecar-injector.istio.io"]
    assert all(w["clientConfig"]["service"]["name"] == "istiod" and w["failurePolicy"] == "Fail" for w in mwc["webhooks"])
    service = next(o for o in objs if o["kind"] == "Service")
    assert service["spec"]["selector"] == {"app": "istiod", "istio": "pilot"}
    deployment = next(o for o in objs if o["kind"] == "Deployment")
    assert deployment["spec"]["selector"] == {"matchLabels": {"istio": "pilot"}}


def test_tag_service_only_from_1_28():
    assert by_kind(controlplane.render_tag("prod", "1-27-3", "1.27.3")) == {"MutatingWebhookConfiguration": ["istio-revision-tag-prod"]}
    tag = controlplane.render_tag("default", "1-28-1", "1.28.1")
    assert by_kind(tag) == {"MutatingWebhookConfiguration": ["istio-revision-tag-default"], "Service": ["istiod-revision-tag-default"]}
    mwc = tag[0]
    assert (mwc["metadata"]["labels"]["istio.io/tag"], mwc["metadata"]["labels"]["istio.io/rev"]) == ("default", "1-28-1")
    assert [w["name"].split("sidecar-injector")[0] for w in mwc["webhooks"]] == ["rev.namespace.", "rev.object.", "namespace.", "object."]
    assert mwc["webhooks"][0]["namespaceSelector"]["matchExpressions"][0] == {"key": "istio.io/rev", "operator": "In", "values": ["default"]}
    assert mwc["webhooks"][0]["clientConfig"]["service"]["name"] == "istiod-1-28-1"


def test_default_validator_points_at_the_revision():
    validator = controlplane.render_default_validator("1-28-1", "1.28.1")
    assert validator["metadata"]["name"] == "istiod-default-validator"
    assert validator["metadata"]["labels"]["istio.io/rev"] == "1-28-1"
    assert validator["webhooks"][0]["clientConfig"]["service"]["name"] == "istiod-1-28-1"
    assert "objectSelector" not in validator["webhooks"][0]


def test_gateway_chart_shape():
    kinds = by_kind(gateway.render(revision="1-28-1"))
    assert kinds == {"ServiceAccount": ["istio-ingressgateway"], "Role": ["istio-ingressgateway"],
                     "RoleBinding": ["istio-ingressgateway"], "Service": ["istio-ingressgateway"], "Deployment": ["istio-ingressgateway"]}
    deployment = gateway.render(revision="1-28-1")[-1]
    template = deployment["spec"]["template"]
    assert template["metadata"]["annotations"]["inject.istio.io/templates"] == "gateway"
    assert template["metadata"]["labels"]["istio.io/rev"] == "1-28-1"
    assert template["spec"]["containers"][0]["image"] == "auto"


def test_sample_mesh_loads_in_order():
    objs = mesh.sample()
    assert objs[0]["kind"] == "Namespace"
    assert "Pod" not in [o["kind"] for o in objs[:-1]]
    store = Store()
    assert store.load(objs) == len(objs)
    assert store.get("namespaces", "", "payments")["metadata"]["labels"] == {
        "istio-injection": "enabled", "istio.io/rev": "1-27-3", "kubernetes.io/metadata.name": "payments"}
    assert store.list("networking.istio.io/virtualservices", "shop")[0] == []
    assert {o["metadata"]["name"] for o in objs if o["kind"] == "MutatingWebhookConfiguration"} == {
        "istio-sidecar-injector-1-27-3", "istio-revision-tag-default", "istio-revision-tag-prod-stable"}


def test_large_mesh_counts():
    objs = mesh.large(namespaces=3, pods_per_namespace=4)
    pods = [o for o in objs if o["kind"] == "Pod"]
    assert len(pods) == 12
    assert len({p["metadata"]["uid"] for p in pods}) == 12
    assert all('"revision":"1-27-3"' in p["metadata"]["annotations"]["sidecar.istio.io/status"] for p in pods)
    assert Store().load(objs) == len(objs)


def test_cli_prints_yaml(capsys):
    assert cli.main(["tag", "--tag", "canary", "--revision", "1-28-1", "--version", "1.28.1"]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [d["metadata"]["name"] for d in docs] == ["istio-revision-tag-canary", "istiod-revision-tag-canary"]


def test_sample_mesh_under_the_controllers():
    settings = Settings()
    store = Store()
    istio.install(store, settings)
    manager = ControllerManager(store, settings)
    manager.start()
    try:
        objs = mesh.sample()
        store.load([o for o in objs if o["kind"] != "Pod"])
        assert manager.settle(30)
        store.create(next(o for o in objs if o["kind"] == "Pod"))
        assert manager.settle(30)
        pods = store.list("pods")[0]
    finally:
        manager.stop()
    revisions = {}
    for pod in pods:
        status = (pod["metadata"].get("annotations") or {}).get("sidecar.istio.io/status")
        owner = pod["metadata"]["name"].rsplit("-", 2)[0] if pod["metadata"].get("generateName") else pod["metadata"]["name"]
        revisions.setdefault((pod["metadata"]["namespace"], owner), set()).add(json.loads(status)["revision"] if status else None)
    assert revisions[("bookinfo", "productpage")] == {"1-27-3"}
    assert revisions[("payments", "ledger")] == {"1-27-3"}
    assert revisions[("tagged", "api")] == {"1-27-3"} and revisions[("tagged", "debug")] == {"1-27-3"}
    assert revisions[("batch", "worker")] == {"1-27-3"}
    assert revisions[("legacy", "monolith")] == {None}
    assert revisions[("shop", "legacy-reporter")] == {None}
    assert revisions[("istio-ingress", "istio-ingressgateway")] == {"1-27-3"}
    assert revisions[("istio-system", "istiod-1-27-3")] == {None}
    assert len([p for p in pods if p["metadata"]["namespace"] == "shop" and p["metadata"]["name"].startswith("node-agent")]) == 3
