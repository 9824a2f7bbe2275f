"""Restart planning: which workloads, in which waves, what cannot be restarted, what is skipped."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.audit import PodAudit, Verdict
from ansible_collections.meshops.istio.plugins.module_utils.istio.workload_owner import Owner
from ansible_collections.meshops.istio.plugins.module_utils.istio.sidecar import Sidecar
from ansible_collections.meshops.istio.plugins.module_utils.istio.waves import Workload, plan_restarts, workload_problem

NO_SIDECAR = Sidecar(False, False, None, None, None, False)


def audited(namespace, name, kind, owner, pod_class, needs=None):
    return PodAudit(namespace, name, "Running", Owner(namespace, kind, owner), NO_SIDECAR, True, "b",
                    Verdict(pod_class, needs, "because"))


def objects(*keys, **specs):
    return {key: {"spec": specs.get(key[2], {})} for key in keys}


PODS = [
    audited("shop", "web-1", "Deployment", "web", "stale"),
    audited("shop", "web-2", "Deployment", "web", "stale"),
    audited("bank", "api-1", "Deployment", "api", "missing"),
    audited("shop", "db-0", "StatefulSet", "db", "stale"),
    audited("shop", "agent-x", "DaemonSet", "agent", "current"),
    audited("bank", "ok-1", "Deployment", "ok", "current"),
    audited("off", "old-1", "Deployment", "old", "will_lose_sidecar"),
    audited("bank", "debug", None, None, "not_restartable", "missing"),
    audited("bank", "report-1", "Job", "report", "not_restartable", "stale"),
    audited("bank", "report-2", "Job", "report", "not_restartable", "stale"),
    audited("bank", "gone-1", "Job", "gone", "not_restartable", "will_lose_sidecar"),
]
ALL = objects(("shop", "Deployment", "web"), ("bank", "Deployment", "api"), ("shop", "StatefulSet", "db"),
              ("off", "Deployment", "old"))


@pytest.mark.parametrize("batch_size, waves", [
    (1, [["bank/Deployment/api"], ["shop/Deployment/web"], ["shop/StatefulSet/db"]]),
    (2, [["bank/Deployment/api", "shop/Deployment/web"], ["shop/StatefulSet/db"]]),
    (5, [["bank/Deployment/api", "shop/Deployment/web", "shop/StatefulSet/db"]]),
])
def test_waves_in_namespace_kind_name_order(batch_size, waves):
    plan = plan_restarts(PODS, ["stale", "missing"], ALL, batch_size)
    assert [[w.key for w in wave] for wave in plan.waves] == waves
    assert plan.pods[Workload("shop", "Deployment", "web")] == [{"name": "web-1", "class": "stale"}, {"name": "web-2", "class": "stale"}]
    assert [(b["kind"], b["name"], b["pods"]) for b in plan.not_restartable] == [
        ("Job", "report", ["report-1", "report-2"]), ("Pod", "debug", ["debug"])]
    assert plan.skipped == [] and plan.warnings == []


def test_only_the_classes_asked_for():
    plan = plan_restarts(PODS, ["missing"], ALL, 5)
    assert [w.key for w in plan.workloads] == ["bank/Deployment/api"]
    assert [b["name"] for b in plan.not_restartable] == ["debug"]


@pytest.mark.parametrize("allow, restarted, skipped", [(False, [], ["off/Deployment/old"]), (True, ["off/Deployment/old"], [])])
def test_will_lose_sidecar_needs_permission(allow, restarted, skipped):
    plan = plan_restarts(PODS, ["will_lose_sidecar"], ALL, 5, allow_sidecar_removal=allow)
    assert [w.key for w in plan.workloads] == restarted
    assert ["%s/%s/%s" % (s["namespace"], s["kind"], s["name"]) for s in plan.skipped] == skipped
    assert len(plan.warnings) == 1 and "old-1" in plan.warnings[0]
    assert [b["name"] for b in plan.not_restartable] == ["gone"]


@pytest.mark.parametrize("kind, spec, problem", [
    ("StatefulSet", {"updateStrategy": {"type": "OnDelete"}}, "updateStrategy OnDelete"),
    ("DaemonSet", {"updateStrategy": {"type": "OnDelete"}}, "updateStrategy OnDelete"),
    ("StatefulSet", {"updateStrategy": {"type": "RollingUpdate"}}, ""),
    ("StatefulSet", {}, ""),
    ("Deployment", {"paused": True}, "the Deployment is paused"),
    ("Deployment", {"strategy": {"type": "Recreate"}}, ""),
])
def test_workload_problems(kind, spec, problem):
    found = workload_problem(kind, {"spec": spec})
    assert found.startswith(problem) and bool(found) == bool(problem)


def test_unrestartable_workloads_are_listed_not_planned():
    found = dict(ALL)
    found[("shop", "StatefulSet", "db")] = {"spec": {"updateStrategy": {"type": "OnDelete"}}}
    found[("bank", "Deployment", "api")] = None
    plan = plan_restarts(PODS, ["stale", "missing"], found, 5)
    assert [w.key for w in plan.workloads] == ["shop/Deployment/web"]
    reasons = {b["name"]: b["reason"] for b in plan.not_restartable}
    assert reasons["db"].startswith("updateStrategy OnDelete") and reasons["api"].startswith("Deployment not found")


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        plan_restarts(PODS, ["stale"], ALL, 0)
