"""Pod classes (audit.classify), owners through ReplicaSets, and the audit of pod dicts against webhooks."""

from __future__ import annotations

import json

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.audit import (
    Auditor,
    audit_pods,
    classify,
    describe_pods,
    format_table,
    template_labels,
)
from ansible_collections.meshops.istio.plugins.module_utils.istio.workload_owner import owner_of, replicaset_owners

from istio_objects import revision_mwc

A, B = "1-27-3", "1-29-2"


@pytest.mark.parametrize("sidecar_rev, has, injected, restart_rev, target, proxy, istiod, restartable, expected", [
    # with a target revision
    (A, True, True, B, B, None, None, True, ("stale", None)),
    (B, True, True, B, B, None, None, True, ("current", None)),
    (A, True, True, A, B, None, None, True, ("stale", None)),        # namespace not moved yet: still stale
    (B, True, True, A, B, None, None, True, ("stale", None)),        # right sidecar, but a restart would go back to A
    (None, False, True, B, B, None, None, True, ("missing", None)),
    (A, True, False, None, B, None, None, True, ("will_lose_sidecar", None)),
    (None, False, False, None, B, None, None, True, ("unmanaged", None)),
    (A, True, True, B, B, None, None, False, ("not_restartable", "stale")),
    (None, False, True, B, B, None, None, False, ("not_restartable", "missing")),
    (B, True, True, B, B, None, None, False, ("current", None)),     # a current bare pod is just current
    (None, False, False, None, B, None, None, False, ("unmanaged", None)),
    # without a target: right when a restart would give the same revision
    (A, True, True, A, None, None, None, True, ("current", None)),
    (A, True, True, B, None, None, None, True, ("stale", None)),
    (None, True, True, A, None, None, None, True, ("stale", None)),  # sidecar of unknown revision
    # same revision, other version (in-place upgrade of istiod)
    ("default", True, True, "default", None, "1.27.3", "1.28.0", True, ("stale", None)),
    ("default", True, True, "default", None, "1.28.0", "1.28.0", True, ("current", None)),
    ("default", True, True, "default", None, None, "1.28.0", True, ("current", None)),
])
def test_classify(sidecar_rev, has, injected, restart_rev, target, proxy, istiod, restartable, expected):
    verdict = classify(sidecar_rev, has, injected, restart_rev, target, proxy, istiod, restartable)
    assert (verdict.pod_class, verdict.needs) == expected
    assert verdict.reason


def test_reason_says_when_a_restart_alone_does_not_help():
    verdict = classify(A, True, True, A, B)
    assert verdict.reason == ("sidecar of revision %s, not of the target %s (a restart would give revision %s, not the target %s: "
                              "point the namespace or the pod at %s first)" % (A, B, A, B, B))


def test_template_labels_drop_what_the_injector_added():
    labels = {"app": "web", "istio.io/rev": A, "security.istio.io/tlsMode": "istio",
              "service.istio.io/canonical-name": "web", "service.istio.io/canonical-revision": "v1"}
    assert template_labels(labels) == {"app": "web", "istio.io/rev": A}


def rs(namespace, name, owner_kind=None, owner_name=None):
    meta = {"namespace": namespace, "name": name}
    if owner_kind:
        meta["ownerReferences"] = [{"kind": owner_kind, "name": owner_name, "controller": True}]
    return {"metadata": meta}


def pod(namespace, name, owner=None, labels=None, revision=None, phase="Running", version="1.27.3", deleting=False, host_network=False):
    meta = {"namespace": namespace, "name": name, "labels": dict(labels or {})}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    containers = [{"name": "app", "image": "nginx:1.27"}]
    if revision:
        meta["annotations"] = {"sidecar.istio.io/status": json.dumps({"containers": ["istio-proxy"], "revision": revision})}
        containers.append({"name": "istio-proxy", "image": "docker.io/istio/proxyv2:%s" % version})
    return {"metadata": meta, "spec": {"containers": containers, "hostNetwork": host_network}, "status": {"phase": phase}}


@pytest.mark.parametrize("reference, expected", [
    (None, (None, None)),
    (("ReplicaSet", "web-abc"), ("Deployment", "web")),
    (("ReplicaSet", "orphan-rs"), ("ReplicaSet", "orphan-rs")),
    (("ReplicaSet", "gone-rs"), ("ReplicaSet", "gone-rs")),
    (("StatefulSet", "db"), ("StatefulSet", "db")),
    (("Job", "report"), ("Job", "report")),
    (("Rollout", "canary"), ("Rollout", "canary")),
])
def test_owner_through_replicasets(reference, expected):
    owners = replicaset_owners([rs("ns", "web-abc", "Deployment", "web"), rs("ns", "orphan-rs")])
    owner = owner_of(pod("ns", "p", reference), owners)
    assert (owner.kind, owner.name) == expected
    assert owner.restartable == (expected[0] in ("Deployment", "StatefulSet", "DaemonSet"))
    assert bool(owner.not_restartable_reason()) != owner.restartable


def test_audit_of_pods_against_the_webhooks():
    namespaces = [{"metadata": {"name": "shop", "labels": {"istio.io/rev": B}}},
                  {"metadata": {"name": "off", "labels": {"istio-injection": "disabled"}}},
                  {"metadata": {"name": "plain"}}]
    hooks = [revision_mwc(A), revision_mwc(B)]
    auditor = Auditor(namespaces, hooks, [rs("shop", "web-abc", "Deployment", "web")],
                      {A: "1.27.3", B: "1.29.2"}, target=B)
    pods = [
        pod("shop", "web-abc-1", ("ReplicaSet", "web-abc"), revision=A),
        pod("shop", "web-abc-2", ("ReplicaSet", "web-abc"), revision=B, version="1.29.2"),
        pod("shop", "opt-out", ("ReplicaSet", "web-abc"), labels={"sidecar.istio.io/inject": "false"}),
        pod("shop", "host", ("DaemonSet", "agent"), host_network=True),
        pod("shop", "job-1", ("Job", "report"), phase="Succeeded", revision=A),
        pod("shop", "old", ("ReplicaSet", "web-abc"), revision=A, deleting=True),
        pod("off", "kept", ("StatefulSet", "db"), revision=A),
        pod("plain", "pinned", ("StatefulSet", "cache"), labels={"istio.io/rev": B}),
        pod("plain", "bare", revision=A),
        pod("elsewhere", "ignored", revision=A),
    ]
    result = audit_pods(pods, auditor)
    assert {p.name: (p.pod_class, p.restart_revision) for p in result.pods} == {
        "web-abc-1": ("stale", B), "web-abc-2": ("current", B), "opt-out": ("unmanaged", None), "host": ("unmanaged", None),
        "kept": ("will_lose_sidecar", None), "pinned": ("missing", B), "bare": ("not_restartable", None)}
    assert [(f["name"], f["phase"]) for f in result.finished] == [("job-1", "Succeeded"), ("old", "Terminating")]
    assert "namespace has istio-injection=disabled" in next(p for p in result.pods if p.name == "kept").verdict.reason

    summary = result.summary()
    assert summary["by_class"] == {"current": 1, "stale": 1, "missing": 1, "will_lose_sidecar": 1, "unmanaged": 2,
                                   "not_restartable": 1}
    assert summary["by_revision"] == {A: 3, B: 1, "none": 3}
    assert summary["by_version"] == {"1.27.3": 3, "1.29.2": 1, "none": 3}
    assert summary["by_namespace"]["off"] == {"will_lose_sidecar": 1} and summary["finished"] == 2
    table = format_table(result).splitlines()
    assert table[0].split()[0] == "NAMESPACE" and [line.split()[0] for line in table[1:]] == ["off", "plain", "shop"]
    assert describe_pods(result.blocking(["stale", "missing"]), limit=1).endswith("; ... and 1 more")


def test_decisions_are_computed_once_per_distinct_input():
    namespaces = [{"metadata": {"name": "shop", "labels": {"istio.io/rev": B}}}]
    auditor = Auditor(namespaces, [revision_mwc(B)], [])
    audit_pods([pod("shop", "p%d" % i, ("StatefulSet", "db"), labels={"app": "db", "idx": str(i)}) for i in range(50)], auditor)
    assert len(auditor._decisions) == 1  # pylint: disable=protected-access


@pytest.mark.parametrize("target, expected", [
    # a gate to B refuses every pod off B, whatever its class (issue 8, item 4), and names what each needs
    (B, {"web-abc-1": "restart Deployment shop/web", "bare-old": "bare pod, not rebuilt by a restart: delete and recreate it",
         "bare-none": "bare pod, not rebuilt by a restart: delete and recreate it",
         "job-run": "pod of Job report, not rebuilt by a restart: let it finish (the Job's next pods get the new sidecar) or "
                    "delete it (the Job creates a new pod)",
         "orphan": "pod of ReplicaSet orphan-rs, which no Deployment owns, not rebuilt by a restart: delete it (the "
                   "ReplicaSet re-creates it)",
         "kept-a": "restart StatefulSet off/db (injection is off for it: it comes back without a sidecar)",
         "bare-off": "bare pod, not rebuilt by a restart: delete and recreate it (injection is off for it: it comes back "
                     "without a sidecar)"}),
    # a gate to A (the rollback's) while shop still points at B: every pod there is refused, even those on A
    (A, {"web-abc-1": "point its namespace, tag or own istio.io/rev label at %s first; restart Deployment shop/web" % A,
         "bare-old": "point its namespace, tag or own istio.io/rev label at %s first; bare pod, not rebuilt by a restart: "
                     "delete and recreate it" % A,
         "web-abc-2": "point its namespace, tag or own istio.io/rev label at %s first; restart Deployment shop/web" % A,
         "bare-new": "point its namespace, tag or own istio.io/rev label at %s first; bare pod, not rebuilt by a restart: "
                     "delete and recreate it" % A,
         "bare-none": "point its namespace, tag or own istio.io/rev label at %s first; bare pod, not rebuilt by a restart: "
                      "delete and recreate it" % A,
         "job-run": "point its namespace, tag or own istio.io/rev label at %s first; pod of Job report, not rebuilt by a "
                    "restart: let it finish (the Job's next pods get the new sidecar) or delete it (the Job creates a new "
                    "pod)" % A,
         "orphan": "point its namespace, tag or own istio.io/rev label at %s first; pod of ReplicaSet orphan-rs, which no "
                   "Deployment owns, not rebuilt by a restart: delete it (the ReplicaSet re-creates it)" % A,
         "kept-b": "restart StatefulSet off/db (injection is off for it: it comes back without a sidecar)"}),
])
def test_gate_refuses_every_pod_off_the_target_whatever_its_class(target, expected):
    namespaces = [{"metadata": {"name": "shop", "labels": {"istio.io/rev": B}}},
                  {"metadata": {"name": "off", "labels": {"istio-injection": "disabled"}}}]
    auditor = Auditor(namespaces, [revision_mwc(A), revision_mwc(B)],
                      [rs("shop", "web-abc", "Deployment", "web"), rs("shop", "orphan-rs")], {A: "1.27.3", B: "1.29.2"}, target)
    pods = [
        pod("shop", "web-abc-1", ("ReplicaSet", "web-abc"), revision=A),
        pod("shop", "web-abc-2", ("ReplicaSet", "web-abc"), revision=B, version="1.29.2"),
        pod("shop", "opt-out", ("ReplicaSet", "web-abc"), labels={"sidecar.istio.io/inject": "false"}),
        pod("shop", "bare-old", revision=A),
        pod("shop", "bare-new", revision=B, version="1.29.2"),
        pod("shop", "bare-none"),
        pod("shop", "job-run", ("Job", "report")),
        pod("shop", "orphan", ("ReplicaSet", "orphan-rs"), revision=A if target == B else B, version="1.27.3" if target == B else "1.29.2"),
        pod("off", "kept-a", ("StatefulSet", "db"), revision=A),
        pod("off", "kept-b", ("StatefulSet", "db"), revision=B, version="1.29.2"),
        pod("off", "bare-off", revision=A),
        pod("off", "plain", ("StatefulSet", "db")),
    ]
    result = audit_pods(pods, auditor)
    blocking = result.blocking(gate=True)
    assert {p.name: p.action for p in blocking} == expected
    # fail_on alone matches classes as they are: every not_restartable pod gets through [stale, missing]
    assert not any(p.pod_class == "not_restartable" for p in result.blocking(["stale", "missing"]))
    assert result.blocking(["stale", "missing"]) == [p for p in blocking if p.pod_class in ("stale", "missing")]
    assert describe_pods(blocking[:1]).startswith("%s (%s; " % (blocking[0].key, blocking[0].action))
