"""The raw-JSON API layer against the simulated cluster: reads, paginated lists, writes, dry runs and retries."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.api import KubeApi
from ansible_collections.meshops.istio.plugins.module_utils.k8s.args import CONNECTION_SPEC
from ansible_collections.meshops.istio.plugins.module_utils.k8s.client import build_api_client, request_headers
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import KubeApiError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.retry import RetryPolicy
from tests.simcluster.fixtures import mesh


@pytest.fixture
def api(sim, sim_auth):
    params = {name: None for name in CONNECTION_SPEC}
    params.update(sim_auth)
    return KubeApi(build_api_client(params), headers=request_headers(params), retry=RetryPolicy(sleep=lambda _: None))


def configmap(name, data=None):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}, "data": data or {"a": "1"}}


def test_dry_run_create_persists_nothing(sim, api):
    created = api.create(R.CONFIGMAPS.path("default"), configmap("plan"), dry_run=True)
    assert created["metadata"]["name"] == "plan"
    assert api.get_or_none(R.CONFIGMAPS.path("default", "plan")) is None
    post = [r for r in sim.requests if r.method == "POST"]
    assert len(post) == 1 and post[0].dry_run and post[0].query.get("dryRun") == "All"
    assert sim.writes() == []


def test_list_follows_continue_tokens(sim, api):
    sim.load([mesh.namespace("team-%02d" % i) for i in range(7)])
    sim.clear_requests()
    paged = api.list(R.NAMESPACES.path(), limit=3)
    whole = api.list(R.NAMESPACES.path(), limit=500)
    assert [n["metadata"]["name"] for n in paged] == [n["metadata"]["name"] for n in whole]
    assert all(n["kind"] == "Namespace" and n["apiVersion"] == "v1" for n in paged)
    pages = len(paged) // 3 + (1 if len(paged) % 3 else 0)
    assert len(sim.requests) == pages + 1


def test_create_is_not_repeated_after_a_server_error(sim, api):
    sim.add_fault(method="POST", path="/configmaps", status=500, times=1)
    with pytest.raises(KubeApiError) as raised:
        api.create(R.CONFIGMAPS.path("default"), configmap("once"))
    assert raised.value.status == 500
    assert len([r for r in sim.requests if r.method == "POST"]) == 1


def test_create_is_repeated_after_throttling(sim, api):
    sim.add_fault(method="POST", path="/configmaps", status=429, retry_after=0, times=2)
    api.create(R.CONFIGMAPS.path("default"), configmap("throttled"))
    assert [r.status for r in sim.requests if r.method == "POST"] == [429, 429, 201]
    assert api.get(R.CONFIGMAPS.path("default", "throttled"))["data"] == {"a": "1"}


def test_merge_patch_is_repeated_after_unavailability(sim, api):
    api.create(R.CONFIGMAPS.path("default"), configmap("patched"))
    sim.add_fault(method="PATCH", path="/configmaps/patched", status=503, times=2)
    result = api.patch(R.CONFIGMAPS.path("default", "patched"), {"data": {"b": "2"}})
    assert result["data"] == {"a": "1", "b": "2"}
    assert [r.status for r in sim.requests if r.method == "PATCH"] == [503, 503, 200]


def test_json_patch_and_server_side_apply(api):
    path = R.CONFIGMAPS.path("default", "ops")
    api.create(R.CONFIGMAPS.path("default"), configmap("ops"))
    api.patch(path, [{"op": "add", "path": "/data/c", "value": "3"}], patch_type="json")
    applied = api.patch(path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ops", "namespace": "default"},
                               "data": {"d": "4"}}, patch_type="apply", field_manager="meshops", force=True)
    assert applied["data"]["c"] == "3" and applied["data"]["d"] == "4"
    with pytest.raises(ValueError, match="field_manager"):
        api.patch(path, {}, patch_type="apply")


def test_stale_replace_is_a_readable_conflict(api):
    created = api.create(R.CONFIGMAPS.path("default"), configmap("raced"))
    api.patch(R.CONFIGMAPS.path("default", "raced"), {"data": {"x": "y"}})
    with pytest.raises(KubeApiError) as raised:
        api.replace(R.CONFIGMAPS.path("default", "raced"), created)
    assert raised.value.status == 409
    assert raised.value.msg.startswith('conflict: cannot update configmaps "raced" in namespace default:')


def test_invalid_object_lists_the_causes(api):
    with pytest.raises(KubeApiError) as raised:
        api.create(R.CONFIGMAPS.path("default"), configmap("Not_Valid"))
    assert raised.value.status == 422
    assert raised.value.msg.startswith("invalid: cannot create configmaps in namespace default:")
    assert "causes: metadata.name" in raised.value.msg


def test_delete_and_missing_ok(sim, api):
    api.create(R.CONFIGMAPS.path("default"), configmap("gone"))
    api.delete(R.CONFIGMAPS.path("default", "gone"), dry_run=True)
    assert api.get_or_none(R.CONFIGMAPS.path("default", "gone")) is not None
    api.delete(R.CONFIGMAPS.path("default", "gone"))
    assert api.delete(R.CONFIGMAPS.path("default", "gone"), missing_ok=True) is None
    with pytest.raises(KubeApiError) as raised:
        api.delete(R.CONFIGMAPS.path("default", "gone"))
    assert raised.value.msg.startswith('not found: configmaps "gone" in namespace default at %s' % sim.url)
    assert api.request_count == len(sim.requests)
