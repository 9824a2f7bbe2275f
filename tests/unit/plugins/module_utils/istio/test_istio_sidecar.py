"""Reading a pod's sidecar: revision from sidecar.istio.io/status, version from the proxy image."""

from __future__ import annotations

import json

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.sidecar import parse_sidecar, parse_status

STATUS = json.dumps({"initContainers": ["istio-init"], "containers": ["istio-proxy"], "volumes": ["istio-envoy"],
                     "imagePullSecrets": None, "revision": "1-29-2"})


def pod(containers=(), init_containers=(), annotations=None):
    return {"metadata": {"name": "web-1", "annotations": annotations or {}},
            "spec": {"containers": list(containers), "initContainers": list(init_containers)}}


APP = {"name": "app", "image": "example/web:2.0"}
PROXY = {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.29.2"}


def test_classic_sidecar():
    found = parse_sidecar(pod([APP, PROXY], [{"name": "istio-init"}], {"sidecar.istio.io/status": STATUS}))
    assert (found.present, found.native, found.revision, found.version.release) == (True, False, "1-29-2", "1.29.2")
    assert found.problems == ()


def test_native_sidecar_in_init_containers():
    native = dict(PROXY, restartPolicy="Always", image="docker.io/istio/proxyv2:1.29.2-distroless")
    found = parse_sidecar(pod([APP], [native], {"sidecar.istio.io/status": STATUS}))
    assert (found.present, found.native, found.revision, found.version.release) == (True, True, "1-29-2", "1.29.2")


def test_no_sidecar():
    found = parse_sidecar(pod([APP]))
    assert (found.present, found.revision, found.version) == (False, None, None)
    assert found.as_dict()["present"] is False


def test_revision_falls_back_to_the_rev_annotation():
    found = parse_sidecar(pod([APP, PROXY], annotations={"istio.io/rev": "canary"}))
    assert found.revision == "canary"


@pytest.mark.parametrize("text, problem", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not a JSON object"),
])
def test_malformed_status_is_tolerated(text, problem):
    found = parse_sidecar(pod([APP, PROXY], annotations={"sidecar.istio.io/status": text, "istio.io/rev": "1-28-1"}))
    assert found.present and found.revision == "1-28-1"
    assert len(found.problems) == 1 and problem in found.problems[0]
    status, message = parse_status(text)
    assert status is None and problem in message


def test_status_without_revision_field():
    found = parse_sidecar(pod([APP, PROXY], annotations={"sidecar.istio.io/status": json.dumps({"containers": ["istio-proxy"]})}))
    assert found.revision is None and found.problems == ()


def test_unreadable_proxy_image_is_reported():
    found = parse_sidecar(pod([APP, dict(PROXY, image="registry.local/proxyv2:latest")]))
    assert found.version is None
    assert "cannot read an Istio version" in found.problems[0]


def test_gateway_with_image_auto():
    gateway = pod([dict(PROXY, image="auto")], annotations={"inject.istio.io/templates": "gateway"})
    found = parse_sidecar(gateway)
    assert found.gateway and found.present and found.version is None and found.problems == ()
