"""The simulated API server's store: writes, reads, cascade, admission, subscribers and watches."""

from __future__ import annotations

import re
import threading

import pytest

from tests.simcluster.errors import ApiError
from tests.simcluster.store import Store, to_scale


def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def configmap(name, ns="default", labels=None, **meta):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "labels": labels or {}, **meta},
            "data": {"k": "v"}}


def deployment(name, ns="default", replicas=1):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "c:1"}]}}}}


def owned(obj, kind, name, ns="default", api_version="v1"):
    return {"apiVersion": api_version, "kind": kind, "metadata": {
        "name": name, "namespace": ns, "ownerReferences": [{"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                                                            "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
                                                            "controller": True}]}}


@pytest.fixture(name="store")
def fixture_store():
    store = Store()
    store.create(namespace("default"))
    return store


def test_create_fills_metadata_and_get_returns_copy(store):
    created = store.create(configmap("a"))
    meta = created["metadata"]
    assert re.fullmatch(r"[0-9a-f-]{36}", meta["uid"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["creationTimestamp"])
    assert meta["resourceVersion"] == store.resource_version
    assert "generation" not in meta
    fetched = store.get("configmaps", "default", "a")
    fetched["data"]["k"] = "changed"
    assert store.get("configmaps", "default", "a")["data"] == {"k": "v"}
    assert store.get("configmaps", "default", "nope") is None


def test_namespace_defaults_like_the_api_server(store):
    ns = store.get("namespaces", None, "default")
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "default"}
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}


def test_generate_name_and_generation(store):
    created = store.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "web-", "namespace": "default"},
                            "spec": {"containers": [{"name": "c", "image": "i"}]}})
    assert re.fullmatch(r"web-[bcdfghjklmnpqrstvwxz2456789]{5}", created["metadata"]["name"])
    assert created["metadata"]["generation"] == 1
    assert created["status"] == {"phase": "Pending"}


@pytest.mark.parametrize("obj, code, message", [
    (configmap("Bad_Name"), 422, 'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "default"}}, 422,
     'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'),
    (namespace("a.b"), 422, 'Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label'),
    (configmap("a", ns="missing"), 404, 'namespaces "missing" not found'),
    ({"apiVersion": "v9", "kind": "Nope", "metadata": {"name": "a"}}, 404, 'no matches for kind "Nope" in version "v9"'),
])
def test_create_validation(store, obj, code, message):
    with pytest.raises(ApiError) as err:
        store.create(obj)
    assert err.value.code == code
    assert err.value.message.startswith(message) or message in err.value.message


def test_create_existing_is_already_exists(store):
    store.create(deployment("d"))
    with pytest.raises(ApiError) as err:
        store.create(deployment("d"))
    assert err.value.status() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                  "message": 'deployments.apps "d" already exists', "reason": "AlreadyExists",
                                  "details": {"name": "d", "group": "apps", "kind": "deployments"}, "code": 409}


def test_cluster_scoped_kind_ignores_namespace(store):
    created = store.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                            "metadata": {"name": "system:istio:reader", "namespace": "default"}})
    assert "namespace" not in created["metadata"]
    assert store.get("rbac.authorization.k8s.io/clusterroles", None, "system:istio:reader") is not None


def test_update_conflict_generation_and_noop(store):
    created = store.create(deployment("d"))
    assert created["metadata"]["generation"] == 1
    stale = dict(created, metadata=dict(created["metadata"], resourceVersion="1"))
    with pytest.raises(ApiError) as err:
        store.update(stale)
    assert err.value.code == 409
    assert err.value.message == ('Operation cannot be fulfilled on deployments.apps "d": the object has been modified; '
                                 "please apply your changes to the latest version and try again")
    labelled = store.update({**created, "metadata": {**created["metadata"], "labels": {"x": "1"}}})
    assert labelled["metadata"]["generation"] == 1
    scaled = store.update({**labelled, "spec": {**labelled["spec"], "replicas": 3}})
    assert scaled["metadata"]["generation"] == 2
    assert int(scaled["metadata"]["resourceVersion"]) > int(labelled["metadata"]["resourceVersion"])
    unconditional = dict(scaled, metadata={k: v for k, v in scaled["metadata"].items() if k != "resourceVersion"})
    again = store.update(unconditional)
    assert again["metadata"]["resourceVersion"] == scaled["metadata"]["resourceVersion"]


def test_update_missing_is_not_found(store):
    with pytest.raises(ApiError) as err:
        store.update(configmap("ghost"))
    assert (err.value.code, err.value.message) == (404, 'configmaps "ghost" not found')


def test_status_subresource_and_main_update_keep_apart(store):
    created = store.create(deployment("d"))
    with_status = store.update({**created, "status": {"replicas": 1}, "spec": {**created["spec"], "replicas": 5}},
                               subresource="status")
    assert with_status["status"] == {"replicas": 1}
    assert with_status["spec"]["replicas"] == 1
    assert with_status["metadata"]["generation"] == 1
    main = store.update({**with_status, "status": {}, "spec": {**with_status["spec"], "replicas": 2}})
    assert main["status"] == {"replicas": 1}
    scaled = store.update(main, subresource="scale")
    assert scaled == main
    scaled = store.update({**main, "spec": {**main["spec"], "replicas": 4}}, subresource="scale")
    scale = to_scale(store.registry.by_key("apps/deployments"), scaled)
    assert scale["spec"] == {"replicas": 4} and scale["status"] == {"replicas": 1, "selector": "app=d"}
    scale["spec"]["replicas"] = 6
    assert store.update(scale, subresource="scale", key="apps/deployments")["spec"]["replicas"] == 6


def test_immutable_selector(store):
    created = store.create(deployment("d"))
    changed = {**created, "spec": {**created["spec"], "selector": {"matchLabels": {"app": "other"}}}}
    with pytest.raises(ApiError) as err:
        store.update(changed)
    assert err.value.code == 422
    assert err.value.message.startswith('Deployment.apps "d" is invalid: spec.selector: Invalid value: ')
    assert err.value.message.endswith("field is immutable")


def test_delete_cascades_to_owned_objects_and_orphan_keeps_them(store):
    parent = store.create(deployment("d"))
    rs = store.create(owned(parent, "ReplicaSet", "d-1", api_version="apps/v1") | {"spec": deployment("x")["spec"]})
    store.create(owned(rs, "Pod", "d-1-a") | {"spec": {"containers": [{"name": "c", "image": "i"}]}})
    deleted = store.delete("apps/deployments", "default", "d")
    assert deleted["metadata"]["name"] == "d"
    assert store.get("apps/replicasets", "default", "d-1") is None
    assert store.get("pods", "default", "d-1-a") is None

    parent = store.create(deployment("e"))
    store.create(owned(parent, "ConfigMap", "keep"))
    store.delete("apps/deployments", "default", "e", propagation="Orphan")
    assert "ownerReferences" not in store.get("configmaps", "default", "keep")["metadata"]


def test_namespace_delete_removes_its_objects(store):
    store.create(namespace("team"))
    store.create(configmap("a", ns="team"))
    store.create(configmap("b"))
    store.delete("namespaces", None, "team")
    assert store.list("configmaps", "team")[0] == []
    assert [c["metadata"]["name"] for c in store.list("configmaps")[0]] == ["b"]


def test_finalizers_delay_deletion_until_emptied(store):
    store.create(configmap("f", finalizers=["example.com/hold"]))
    marked = store.delete("configmaps", "default", "f")
    assert marked["metadata"]["deletionTimestamp"]
    assert store.get("configmaps", "default", "f") is not None
    store.update({**marked, "metadata": {**marked["metadata"], "finalizers": []}})
    assert store.get("configmaps", "default", "f") is None


def test_delete_missing_and_preconditions(store):
    with pytest.raises(ApiError) as err:
        store.delete("pods", "default", "ghost")
    assert err.value.status()["details"] == {"name": "ghost", "kind": "pods"}
    store.create(configmap("a"))
    with pytest.raises(ApiError) as err:
        store.delete("configmaps", "default", "a", preconditions={"uid": "other"})
    assert err.value.code == 409


def test_dry_run_stores_nothing(store):
    events = []
    store.subscribe(lambda *event: events.append(event))
    created = store.create(configmap("dry"), dry_run=True)
    assert created["metadata"]["uid"] and "resourceVersion" not in created["metadata"]
    assert store.get("configmaps", "default", "dry") is None
    real = store.create(configmap("real"))
    events.clear()
    before = store.resource_version
    store.update({**real, "data": {"k": "new"}}, dry_run=True)
    store.delete("configmaps", "default", "real", dry_run=True)
    assert store.get("configmaps", "default", "real")["data"] == {"k": "v"}
    assert store.resource_version == before
    assert events == []


def test_admission_hook_mutates_and_refuses(store):
    calls = []

    def hook(operation, key, obj, old, dry_run):
        calls.append((operation, key, old is not None, dry_run))
        if obj["metadata"]["name"] == "refused":
            raise ApiError(403, "Forbidden", "admission webhook denied the request")
        obj["metadata"].setdefault("annotations", {})["hooked"] = "yes"
        return obj

    store.add_admission_hook(hook)
    created = store.create(configmap("a"), dry_run=True)
    assert created["metadata"]["annotations"] == {"hooked": "yes"}
    store.update(store.create(configmap("b")))
    with pytest.raises(ApiError):
        store.create(configmap("refused"))
    assert calls == [("CREATE", "configmaps", False, True), ("CREATE", "configmaps", False, False),
                     ("UPDATE", "configmaps", True, False), ("CREATE", "configmaps", False, False)]
    assert store.get("configmaps", "default", "refused") is None


def test_subscribers_get_events_in_commit_order_outside_the_lock(store):
    seen = []

    def subscriber(event_type, key, obj):
        seen.append((event_type, key, obj["metadata"]["name"]))
        if obj["metadata"]["name"] == "a" and event_type == "ADDED":
            store.create(configmap("from-subscriber"))  # writing from a subscriber must not deadlock

    store.subscribe(subscriber)
    store.create(configmap("a"))
    store.create(configmap("b"))
    store.delete("configmaps", "default", "b")
    assert seen == [("ADDED", "configmaps", "a"), ("ADDED", "configmaps", "from-subscriber"),
                    ("ADDED", "configmaps", "b"), ("DELETED", "configmaps", "b")]


def test_concurrent_writers_get_unique_resource_versions(store):
    def write(prefix):
        for i in range(50):
            store.create(configmap(f"{prefix}-{i}"))

    threads = [threading.Thread(target=write, args=(p,)) for p in "abcd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    items, rv = store.list("configmaps", "default")
    assert len(items) == 200
    assert len({i["metadata"]["resourceVersion"] for i in items}) == 200
    assert max(int(i["metadata"]["resourceVersion"]) for i in items) == int(rv)


def test_list_order_selectors_and_resource_version(store):
    store.create(namespace("b-ns"))
    store.create(namespace("a-ns"))
    for ns in ("b-ns", "a-ns", "default"):
        store.create(configmap("z", ns=ns, labels={"app": "x"}))
        store.create(configmap("m", ns=ns, labels={"app": "y"}))
    items, rv = store.list("configmaps")
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items] == [
        ("a-ns", "m"), ("a-ns", "z"), ("b-ns", "m"), ("b-ns", "z"), ("default", "m"), ("default", "z")]
    assert rv == store.resource_version
    assert [i["metadata"]["namespace"] for i in store.list("configmaps", label_selector="app=x")[0]] == ["a-ns", "b-ns", "default"]
    assert [i["metadata"]["name"] for i in store.list("configmaps", "b-ns", field_selector="metadata.name!=z")[0]] == ["m"]


def test_pagination_over_2000_objects(store):
    objs = [configmap(f"cm-{i:04d}", ns=f"ns-{i % 20:02d}", labels={"even": str(i % 2 == 0).lower()}) for i in range(2000)]
    store.load(objs, create_namespaces=True)
    names, token, pages = [], None, 0
    while True:
        page = store.list("configmaps", limit=150, continue_after=token)
        names += [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in page.items]
        pages += 1
        token = page.continue_token
        if not token:
            break
        assert page.remaining_item_count == 2000 - len(names)
    assert pages == 14
    assert names == sorted(names) and len(set(names)) == 2000
    first = store.list("configmaps", "ns-03", label_selector="even=false", limit=10)
    rest = store.list("configmaps", "ns-03", label_selector="even=false", continue_after=first.continue_token)
    assert len(first.items) == 10 and len(rest.items) == 90 and rest.continue_token == ""
    assert rest.resource_version == first.resource_version
    with pytest.raises(ApiError) as err:
        store.list("configmaps", continue_after="not-a-token")
    assert err.value.code == 400


def test_watch_delivers_in_order_with_selector_transitions(store):
    watch = store.watch("configmaps", "default", label_selector="app=web")
    a = store.create(configmap("a", labels={"app": "web"}))
    store.create(configmap("other", labels={"app": "db"}))
    moved = store.update({**a, "metadata": {**a["metadata"], "labels": {"app": "db"}}})
    back = store.update({**moved, "metadata": {**moved["metadata"], "labels": {"app": "web"}}})
    store.update({**back, "data": {"k": "2"}})
    store.delete("configmaps", "default", "a")
    events = [watch.next(1) for _unused in range(5)]
    assert [(t, o["metadata"]["name"]) for t, o in events] == [("ADDED", "a"), ("DELETED", "a"), ("ADDED", "a"),
                                                               ("MODIFIED", "a"), ("DELETED", "a")]
    assert events[1][1]["metadata"]["labels"] == {"app": "web"}
    assert events[1][1]["metadata"]["resourceVersion"] == moved["metadata"]["resourceVersion"]
    rvs = [int(o["metadata"]["resourceVersion"]) for _unused, o in events]
    assert rvs == sorted(rvs)
    assert watch.next(0.01) is None
    watch.close()


def test_watch_from_resource_version_replays_and_old_is_gone():
    store = Store(history_size=5)
    store.create(namespace("default"))
    start = store.resource_version
    for i in range(3):
        store.create(configmap(f"c{i}"))
    watch = store.watch("configmaps", resource_version=start)
    assert [watch.next(0)[1]["metadata"]["name"] for _unused in range(3)] == ["c0", "c1", "c2"]
    for i in range(3, 8):
        store.create(configmap(f"c{i}"))
    with pytest.raises(ApiError) as err:
        store.watch("configmaps", resource_version=start)
    assert err.value.code == 410 and err.value.reason == "Expired"
    assert err.value.message.startswith(f"too old resource version: {start} (")
    store.reset()
    with pytest.raises(ApiError) as err:
        watch.next(0)
    assert err.value.code == 410


def test_crd_serves_its_kind_and_deleting_it_removes_objects(store):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "gateways.networking.istio.io"},
           "spec": {"group": "networking.istio.io", "scope": "Namespaced",
                    "names": {"kind": "Gateway", "plural": "gateways", "singular": "gateway", "shortNames": ["gw"]},
                    "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}}},
                                 {"name": "v1beta1", "served": True, "storage": False}]}}
    created = store.create(crd)
    assert {c["type"] for c in created["status"]["conditions"]} == {"NamesAccepted", "Established"}
    rt = store.registry.get("networking.istio.io", "v1beta1", "gateways")
    assert rt.key == "networking.istio.io/gateways" and rt.short_names == ("gw",) and rt.namespaced
    gw = store.create({"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
                       "metadata": {"name": "gw", "namespace": "default"}, "spec": {}})
    assert gw["metadata"]["generation"] == 1
    store.delete("apiextensions.k8s.io/customresourcedefinitions", None, "gateways.networking.istio.io")
    assert store.registry.by_key("networking.istio.io/gateways") is None
    assert "networking.istio.io/gateways" not in store.dump()


def test_crd_update_keeps_status_records_stored_versions_and_refuses_dropping_one(store):
    """As apiextensions' strategy: status comes from the stored CRD, a new storage version is added to
    status.storedVersions, and a version once stored may not leave spec.versions (a CRD downgrade that drops it)."""
    def crd(*versions, storage):
        return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": "telemetries.telemetry.istio.io"},
                "spec": {"group": "telemetry.istio.io", "scope": "Namespaced",
                         "names": {"kind": "Telemetry", "plural": "telemetries"},
                         "versions": [{"name": v, "served": True, "storage": v == storage} for v in versions]}}
    store.create(crd("v1alpha1", storage="v1alpha1"))
    newer = crd("v1alpha1", "v1", storage="v1")
    newer["status"] = {"storedVersions": ["v9"]}  # ignored: status is not the client's on this path
    updated = store.update(newer)
    assert updated["status"]["storedVersions"] == ["v1alpha1", "v1"]
    assert {c["type"] for c in updated["status"]["conditions"]} == {"NamesAccepted", "Established"}
    with pytest.raises(ApiError) as err:
        store.update(crd("v1alpha1", storage="v1alpha1"))
    assert err.value.code == 422
    assert "status.storedVersions[1]" in str(err.value) and "missing from spec.versions" in str(err.value)


def test_load_reset_and_dump(store):
    count = store.load([configmap("a", ns="loaded"), deployment("d", ns="loaded")], create_namespaces=True)
    assert count == 2
    dump = store.dump()
    assert [o["metadata"]["name"] for o in dump["configmaps"]] == ["a"]
    assert "loaded" in [n["metadata"]["name"] for n in dump["namespaces"]]
    with pytest.raises(ApiError) as err:
        store.load([configmap("b", ns="absent")])
    assert err.value.code == 404
    store.reset()
    assert store.dump() == {}


def test_service_gets_cluster_ip_and_keeps_it_on_update(store):
    svc = store.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "istiod", "namespace": "default"},
                        "spec": {"type": "LoadBalancer", "ports": [{"port": 15012}]}})
    spec = svc["spec"]
    assert re.fullmatch(r"10\.96\.\d+\.\d+", spec["clusterIP"]) and spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["ports"][0]["protocol"] == "TCP" and 30000 <= spec["ports"][0]["nodePort"] <= 32767
    updated = store.update({**svc, "spec": {"type": "LoadBalancer", "ports": [{"port": 15012}]}})
    assert updated["spec"]["clusterIP"] == spec["clusterIP"]
    assert updated["spec"]["ports"][0]["nodePort"] == spec["ports"][0]["nodePort"]


def test_list_without_copy_returns_snapshots_that_later_writes_do_not_change(store):
    created = store.create(configmap("a"))
    snapshot, _unused = store.list("configmaps", copy=False)
    assert snapshot == store.list("configmaps")[0]
    store.update({**created, "data": {"k": "new"}})
    assert snapshot[0]["data"] == {"k": "v"}
