"""What the injector writes into a pod: image, addresses, status annotation, labels, native sidecars, re-injection."""

from __future__ import annotations

import json

import pytest

from tests.simcluster.cluster import Settings
from tests.simcluster.fixtures import controlplane
from tests.simcluster.fixtures.mesh import namespace
from tests.simcluster.istio.webhooks import matching_webhooks
from tests.simcluster.tests.istio.helpers import NEW, OLD, Mesh, container, env, ready, status_of

SIDECAR_VOLUMES = ["workload-socket", "credential-socket", "workload-certs", "istio-envoy", "istio-data", "istio-podinfo",
                   "istio-token", "istiod-ca-cert"]


def single_revision(version: str, revision: str = "canary", *, settings: Settings | None = None, **render) -> Mesh:
    objs = [namespace("istio-system"), namespace("apps", {"istio.io/rev": revision})]
    return Mesh(ready(objs + controlplane.render(revision, version, **render)), settings)


def test_sidecar_of_the_namespace_revision(mesh):
    pod = mesh.pod("new-rev", {"app": "cart", "version": "v7"})
    proxy = container(pod, "istio-proxy")
    assert proxy["image"] == "docker.io/istio/proxyv2:1.28.1"
    values = env(proxy)
    assert values["CA_ADDR"] == f"istiod-{NEW}.istio-system.svc:15012"
    assert json.loads(values["PROXY_CONFIG"])["discoveryAddress"] == f"istiod-{NEW}.istio-system.svc:15012"
    assert values["ISTIO_META_CLUSTER_ID"] == "Kubernetes"
    assert values["ISTIO_META_MESH_ID"] == "cluster.local"
    assert values["ISTIO_META_APP_CONTAINERS"] == "app"
    assert values["ISTIO_META_WORKLOAD_NAME"] == pod["metadata"]["name"]
    assert values["ISTIO_META_OWNER"] == f"kubernetes://apis/v1/namespaces/new-rev/pods/{pod['metadata']['name']}"
    assert proxy["readinessProbe"]["httpGet"]["port"] == 15021
    assert proxy["ports"] == [{"containerPort": 15090, "protocol": "TCP", "name": "http-envoy-prom"}]
    labels = pod["metadata"]["labels"]
    assert labels["security.istio.io/tlsMode"] == "istio"
    assert labels["service.istio.io/canonical-name"] == "cart"
    assert labels["service.istio.io/canonical-revision"] == "v7"
    annotations = pod["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/default-container"] == "app"
    assert annotations["kubectl.kubernetes.io/default-logs-container"] == "app"
    assert annotations["prometheus.io/port"] == "15020"
    assert [v["name"] for v in pod["spec"]["volumes"]] == SIDECAR_VOLUMES + ["istio-ca-crl"]


def test_status_annotation_is_istios_json(mesh):
    pod = mesh.pod("old-rev")
    # 1.27 defaults to native sidecars on kubelets >= 1.33 (the simulated kubelet is 1.35)
    assert pod["metadata"]["annotations"]["sidecar.istio.io/status"] == (
        '{"initContainers":["istio-init","istio-proxy"],"containers":null,"volumes":["workload-socket","credential-socket",'
        '"workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert","istio-ca-crl"],'
        '"imagePullSecrets":null,"revision":"1-27-3"}')
    assert pod["metadata"]["annotations"]["istio.io/rev"] == OLD
    assert "istio.io/rev" not in pod["metadata"]["labels"]


def test_status_annotation_without_native_sidecars():
    pod = single_revision("1.26.2", "1-26-2").pod("apps")
    assert pod["metadata"]["annotations"]["sidecar.istio.io/status"] == (
        '{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket",'
        '"workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],'
        '"imagePullSecrets":null,"revision":"1-26-2"}')


def test_workload_from_replicaset_owner(mesh):
    owner = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "reviews-v2-5d8f9c7b6", "uid": "1", "controller": True}]
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": "reviews-v2-5d8f9c7b6-", "namespace": "old-rev", "ownerReferences": owner,
                         "labels": {"pod-template-hash": "5d8f9c7b6"}},
            "spec": {"containers": [{"name": "reviews", "image": "reviews:v2"}]}}
    stored = mesh.store.create(body)
    values = env(container(stored, "istio-proxy"))
    assert values["ISTIO_META_WORKLOAD_NAME"] == "reviews-v2"
    assert values["ISTIO_META_OWNER"] == "kubernetes://apis/apps/v1/namespaces/old-rev/deployments/reviews-v2"
    assert stored["metadata"]["labels"]["service.istio.io/canonical-name"] == "reviews-v2"
    assert stored["metadata"]["labels"]["service.istio.io/canonical-revision"] == "latest"


def test_init_container_first_proxy_last():
    mesh = single_revision("1.26.2")
    pod = mesh.pod("apps", initContainers=[{"name": "migrate", "image": "busybox"}])
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["migrate", "istio-init"]
    assert [c["name"] for c in pod["spec"]["containers"]] == ["app", "istio-proxy"]
    assert [v["name"] for v in pod["spec"]["volumes"]] == SIDECAR_VOLUMES


NATIVE_CASES = [
    # (id, version, ENABLE_NATIVE_SIDECARS, kubelet, pod annotation, native?)
    ("1.26-default-off", "1.26.2", None, "v1.35.0", None, False),
    ("1.26-env-true", "1.26.2", True, "v1.30.1", None, True),
    ("1.26-annotation-true", "1.26.2", None, "v1.35.0", "true", True),
    ("1.27-auto-new-kubelet", "1.27.3", None, "v1.33.0", None, True),
    ("1.27-auto-old-kubelet", "1.27.3", None, "v1.32.4", None, False),
    ("1.28-env-false", "1.28.1", False, "v1.35.0", None, False),
    ("1.28-annotation-false", "1.28.1", None, "v1.35.0", "false", False),
    ("1.28-env-true-old-kubelet", "1.28.1", True, "v1.30.0", None, True),
]


@pytest.mark.parametrize("version,setting,kubelet,annotation,native", [c[1:] for c in NATIVE_CASES], ids=[c[0] for c in NATIVE_CASES])
def test_native_sidecar(version, setting, kubelet, annotation, native):
    mesh = single_revision(version, native_sidecars=setting, settings=Settings(kubelet_version=kubelet))
    pod = mesh.pod("apps", annotations={"sidecar.istio.io/nativeSidecar": annotation} if annotation else None)
    init_names = [c["name"] for c in pod["spec"].get("initContainers", [])]
    names = [c["name"] for c in pod["spec"]["containers"]]
    status = status_of(pod)
    if native:
        assert init_names == ["istio-init", "istio-proxy"] and names == ["app"]
        assert container(pod, "istio-proxy")["restartPolicy"] == "Always"
        assert status["initContainers"] == ["istio-init", "istio-proxy"] and status["containers"] is None
    else:
        assert init_names == ["istio-init"] and names == ["app", "istio-proxy"]
        assert "restartPolicy" not in container(pod, "istio-proxy")
        assert status["containers"] == ["istio-proxy"]


def test_native_auto_reads_node_objects():
    mesh = single_revision("1.28.1", settings=Settings(kubelet_version="v1.35.0"))
    mesh.store.load([{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "old-node"},
                      "status": {"nodeInfo": {"kubeletVersion": "v1.31.2"}}},
                     {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "new-node"},
                      "status": {"nodeInfo": {"kubeletVersion": "v1.34.0"}}}])
    unscheduled = mesh.pod("apps")
    assert [c["name"] for c in unscheduled["spec"]["containers"]] == ["app", "istio-proxy"]
    on_new_node = mesh.pod("apps", nodeName="new-node")
    assert [c["name"] for c in on_new_node["spec"]["initContainers"]] == ["istio-init", "istio-proxy"]


def test_cni_writes_istio_validation():
    pod = single_revision("1.28.1", cni=True).pod("apps")
    validation = container(pod, "istio-validation")
    assert container(pod, "istio-init") is None
    assert "--run-validation" in validation["args"]
    assert validation["securityContext"]["runAsUser"] == 1337
    assert pod["metadata"]["annotations"]["traffic.sidecar.istio.io/excludeInboundPorts"] == "15020"


def test_prometheus_merge_keeps_app_settings_for_the_agent(mesh):
    pod = mesh.pod("old-rev", annotations={"prometheus.io/scrape": "true", "prometheus.io/port": "9090", "prometheus.io/path": "/metrics"})
    annotations = pod["metadata"]["annotations"]
    assert (annotations["prometheus.io/port"], annotations["prometheus.io/path"]) == ("15020", "/stats/prometheus")
    assert env(container(pod, "istio-proxy"))["ISTIO_PROMETHEUS_ANNOTATIONS"] == '{"scrape":"true","path":"/metrics","port":"9090"}'


def test_prometheus_scrape_false_is_left_alone(mesh):
    pod = mesh.pod("old-rev", annotations={"prometheus.io/scrape": "false"})
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "false"
    assert "prometheus.io/port" not in pod["metadata"]["annotations"]


def test_already_injected_pod_is_reinjected_not_doubled(mesh):
    first = mesh.pod("old-rev")
    again = {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "copy", "namespace": "new-rev", "labels": first["metadata"]["labels"],
                          "annotations": first["metadata"]["annotations"]},
             "spec": {k: v for k, v in first["spec"].items() if k in ("containers", "initContainers", "volumes")}}
    stored = mesh.store.create(again)
    assert [c["name"] for c in stored["spec"]["containers"]] == ["app"]
    assert [c["name"] for c in stored["spec"]["initContainers"]] == ["istio-init", "istio-proxy"]
    assert len(stored["spec"]["volumes"]) == len(first["spec"]["volumes"])
    assert status_of(stored)["revision"] == NEW
    assert container(stored, "istio-proxy")["image"] == "docker.io/istio/proxyv2:1.28.1"


def test_overlapping_webhooks_inject_once():
    objs = [namespace("istio-system"), namespace("apps", {"istio-injection": "enabled"})]
    objs += controlplane.render("", "1.27.3") + controlplane.render_tag("default", "", "1.27.3")
    mesh = Mesh(ready(objs))
    probe = {"metadata": {"namespace": "apps", "labels": {}}}
    assert [name for name, _unused in matching_webhooks(mesh.store, "CREATE", probe)] == ["istio-revision-tag-default", "istio-sidecar-injector"]
    pod = mesh.pod("apps")
    assert [c["name"] for c in pod["spec"]["containers"]] == ["app"]
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["istio-init", "istio-proxy"]
    assert status_of(pod)["revision"] == "default"


def test_dry_run_injects_and_stores_nothing(mesh):
    pod = mesh.pod("old-rev", dry_run=True)
    assert status_of(pod)["revision"] == OLD
    assert mesh.store.list("pods", "old-rev")[0] == []
