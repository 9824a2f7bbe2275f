"""The gateway template: the ``image: auto`` istio-proxy of an istio/gateway pod filled in by its revision."""

from __future__ import annotations

import json

from tests.simcluster.fixtures import gateway
from tests.simcluster.tests.istio.helpers import NEW, OLD, Mesh, container, env, status_of, two_revisions


def gateway_pod(mesh: Mesh, revision: str | None) -> dict:
    objs = gateway.render(namespace="plain", revision=revision)
    template = next(o for o in objs if o["kind"] == "Deployment")["spec"]["template"]
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "istio-ingressgateway-0", "namespace": "plain", **template["metadata"]},
            "spec": template["spec"]}
    return mesh.store.create(body)


def test_gateway_gets_its_revision_proxy(mesh):
    pod = gateway_pod(mesh, NEW)
    assert [c["name"] for c in pod["spec"]["containers"]] == ["istio-proxy"]
    assert "initContainers" not in pod["spec"]
    proxy = container(pod, "istio-proxy")
    assert proxy["image"] == "docker.io/istio/proxyv2:1.28.1"
    assert proxy["args"][:2] == ["proxy", "router"]
    assert env(proxy)["CA_ADDR"] == f"istiod-{NEW}.istio-system.svc:15012"
    # the chart's container settings win over the template's where both set them
    assert proxy["securityContext"]["runAsNonRoot"] is True and proxy["securityContext"]["runAsUser"] == 1337
    assert proxy["resources"]["limits"]["cpu"] == "2000m"
    assert status_of(pod) == {"initContainers": None, "containers": ["istio-proxy"],
                              "volumes": ["workload-socket", "credential-socket", "workload-certs", "istio-envoy", "istio-data",
                                          "istio-podinfo", "istio-token", "istiod-ca-cert"],
                              "imagePullSecrets": None, "revision": NEW}
    overrides = json.loads(pod["metadata"]["annotations"]["proxy.istio.io/overrides"])
    assert [c["name"] for c in overrides["containers"]] == ["istio-proxy"] and "image" not in overrides["containers"][0]
    assert "security.istio.io/tlsMode" not in pod["metadata"]["labels"]
    assert pod["metadata"]["labels"]["service.istio.io/canonical-name"] == "istio-ingressgateway"
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == "15020"


def test_unrevisioned_gateway_follows_the_default_revision(mesh):
    pod = gateway_pod(mesh, None)
    assert status_of(pod)["revision"] == OLD
    assert container(pod, "istio-proxy")["image"] == "docker.io/istio/proxyv2:1.27.3"


def test_gateway_in_a_disabled_namespace_keeps_image_auto():
    mesh = Mesh(two_revisions())
    template = next(o for o in gateway.render(namespace="disabled") if o["kind"] == "Deployment")["spec"]["template"]
    pod = mesh.store.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gw", "namespace": "disabled", **template["metadata"]},
                             "spec": template["spec"]})
    assert container(pod, "istio-proxy")["image"] == "auto"
