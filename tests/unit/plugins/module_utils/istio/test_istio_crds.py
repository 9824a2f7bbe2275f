"""Istio's CRDs in an upgrade: the version marker, and which CRD is created, upgraded or kept (only ever forward)."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio import crds as C
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import parse_version

STATIC = {"app": "istio-pilot", "chart": "istio", "heritage": "Tiller", "release": "istio"}


def crd(name="gateways.networking.istio.io", group="networking.istio.io", labels=None, kind=C.KIND,
        api_version="apiextensions.k8s.io/v1"):
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "labels": dict(labels or {})},
            "spec": {"group": group}}


def helm(version):
    """Labels of a CRD rendered by Istio's base chart (``istio.labels``) of ``version``."""
    return {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "istio-base",
            "app.kubernetes.io/part-of": "istio", "app.kubernetes.io/version": version, "helm.sh/chart": "base-" + version}


@pytest.mark.parametrize("obj, istio", [
    (crd(), True),
    (crd(name="wasmplugins.extensions.istio.io", group="extensions.istio.io"), True),
    (crd(name="things.istio.io", group="istio.io"), True),
    (crd(name="gateways.gateway.networking.k8s.io", group="gateway.networking.k8s.io"), False),
    (crd(name="foos.notistio.io", group="notistio.io"), False),
    (crd(kind="ConfigMap", api_version="v1"), False),
])
def test_is_istio_crd(obj, istio):
    assert C.is_istio_crd(obj) is istio


@pytest.mark.parametrize("labels, version", [
    (helm("1.29.1"), "1.29.1"),  # helm: the base chart's appVersion
    ({"operator.istio.io/version": "1.28.2"}, "1.28.2"),  # only istioctl's owner label
    (dict(helm("1.29.1"), **{"operator.istio.io/version": "1.29.0"}), "1.29.1"),  # the chart's label first
    ({"app.kubernetes.io/version": "latest", "operator.istio.io/version": "1.28.2"}, "1.28.2"),  # not a version: next
    ({"app.kubernetes.io/version": "1.30.0-rc.1"}, "1.30.0-rc.1"),
    (STATIC, None),  # crd-all.gen.yaml applied as it is
    ({}, None),
])
def test_crd_version(labels, version):
    found = C.crd_version(crd(labels=labels))
    assert (found.release if found else None) == version


@pytest.mark.parametrize("cluster, target, fallback, action, versions", [
    (None, helm("1.29.1"), None, C.CREATE, (None, "1.29.1")),
    (helm("1.28.2"), helm("1.29.1"), None, C.UPGRADE, ("1.28.2", "1.29.1")),
    (helm("1.29.0"), helm("1.29.1"), None, C.UPGRADE, ("1.29.0", "1.29.1")),  # patch releases go forward too
    (helm("1.29.1-rc.1"), helm("1.29.1"), None, C.UPGRADE, ("1.29.1-rc.1", "1.29.1")),  # a release candidate is older
    (helm("1.29.1"), helm("1.29.1"), None, C.SAME, ("1.29.1", "1.29.1")),
    (helm("1.30.0"), helm("1.29.1"), None, C.NEWER, ("1.30.0", "1.29.1")),  # never downgraded
    (helm("1.29.1"), helm("1.28.2"), None, C.NEWER, ("1.29.1", "1.28.2")),  # e.g. the source's CRDs on a rollback
    ({"operator.istio.io/version": "1.28.2"}, helm("1.29.1"), None, C.UPGRADE, ("1.28.2", "1.29.1")),
    (STATIC, helm("1.29.1"), None, C.UNKNOWN, (None, "1.29.1")),  # the cluster's release cannot be told
    (helm("1.28.2"), STATIC, "1.29.1", C.UPGRADE, ("1.28.2", "1.29.1")),  # a target without marker: its release
    (helm("1.29.1"), STATIC, "1.29.1", C.SAME, ("1.29.1", "1.29.1")),
    (helm("1.28.2"), STATIC, None, C.UNKNOWN, (None, None)),
    (helm("1.28.2"), helm("1.29.1"), "1.28.2", C.UPGRADE, ("1.28.2", "1.29.1")),  # the CRD's own marker wins
])
def test_crd_step(cluster, target, fallback, action, versions):
    step = C.crd_step("gateways.networking.istio.io", None if cluster is None else crd(labels=cluster), crd(labels=target),
                      parse_version(fallback))
    assert (step.action, (step.cluster, step.target)) == (action, versions)


def test_plan_is_by_name_and_keeps_cluster_crds_the_target_lacks():
    cluster = [crd("b.networking.istio.io", labels=helm("1.28.2")), crd("z.networking.istio.io", labels=helm("1.28.2"))]
    target = [crd("c.networking.istio.io", labels=helm("1.29.1")), crd("b.networking.istio.io", labels=helm("1.29.1"))]
    steps = C.crd_plan(cluster, target)
    assert [(s.name, s.action) for s in steps] == [("b.networking.istio.io", C.UPGRADE), ("c.networking.istio.io", C.CREATE)]
    assert C.applies(steps) and C.summary(steps) == "CRDs: 1 upgraded, 1 created"
    assert C.versions(steps, "cluster") == {"b.networking.istio.io": "1.28.2"}
    assert C.versions(steps, "after") == {"b.networking.istio.io": "1.29.1", "c.networking.istio.io": "1.29.1"}


def steps_of(*pairs):
    return [C.crd_step("%s.networking.istio.io" % index, None if have is None else crd(labels=helm(have)), crd(labels=helm(want)))
            for index, (have, want) in enumerate(pairs)]


@pytest.mark.parametrize("steps, tool, problems", [
    (steps_of(("1.28.2", "1.29.1")), None, []),
    (steps_of(("1.28.2", "1.29.1")), "helm upgrade of the base chart", []),
    (steps_of(("1.30.0", "1.29.1")), "helm upgrade of the base chart", []),  # nothing to apply: nothing runs
    (steps_of(("1.30.0", "1.29.1"), ("1.28.2", "1.29.1")), None, []),  # one by one: the newer one is kept
    (steps_of(("1.30.0", "1.29.1"), (None, "1.29.1")), "istioctl install",
     ["istioctl install applies all of the target's CRDs at once, and would replace 0.networking.istio.io (1.30.0)"]),
    ([C.crd_step("a.networking.istio.io", crd(labels=STATIC), crd(labels=helm("1.29.1")))], None,
     ["the cluster's CRDs a.networking.istio.io carry no Istio version"]),
    ([C.crd_step("a.networking.istio.io", crd(labels=helm("1.28.2")), crd(labels=STATIC))], None,
     ["the target's CRDs a.networking.istio.io carry no Istio version"]),
])
def test_plan_problems(steps, tool, problems):
    found = C.plan_problems(steps, tool)
    assert len(found) == len(problems)
    assert all(text.startswith(prefix) for text, prefix in zip(found, problems))
