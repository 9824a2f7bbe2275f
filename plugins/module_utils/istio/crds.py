# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Istio's CustomResourceDefinitions in an upgrade: which Istio release a CRD comes from, and which CRDs to apply.

Istio's CRDs (group ``istio.io`` or ``*.istio.io``) are shared by every revision and come from the base chart
(``manifests/charts/base``, ``templates/crds.yaml`` over ``files/crd-all.gen.yaml``). The version marker is the label
``app.kubernetes.io/version``: the base chart's ``templates/crds.yaml`` replaces the generated file's static labels
with the ``istio.labels`` block (``templates/zzz_profile.yaml``), whose ``app.kubernetes.io/version`` is the chart's
``appVersion``, which Istio's release-builder sets to the release. ``istioctl install`` renders the same chart and adds
its owner label ``operator.istio.io/version`` (the istioctl version, ``operator/pkg/install/install.go``), read when
the first is missing. CRDs applied from ``files/crd-all.gen.yaml`` as they are (``kubectl apply``) carry neither
(only ``app: istio-pilot``, ``chart: istio``, ``heritage: Tiller``, ``release: istio``): their release is unknown.

CRDs go forward only: a newer release's CRDs serve an older control plane (fields added, versions kept), an older
release's may drop what the newer one stored. So a CRD is applied when it is missing or its release is older than
the target's, kept when it is the same release or newer, and a CRD whose release cannot be told is refused.
CRDs are never deleted here (deleting one deletes every object of its kind).

Pure: input are plain dicts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.meshops.istio.plugins.module_utils.istio.version import IstioVersion, compare, parse_version

KIND = "CustomResourceDefinition"
VERSION_LABEL = "app.kubernetes.io/version"
ISTIOCTL_VERSION_LABEL = "operator.istio.io/version"
# what a CRD gets in the cluster
CREATE, UPGRADE, SAME, NEWER, UNKNOWN = "create", "upgrade", "same", "newer_in_cluster", "unknown"
APPLIED = (CREATE, UPGRADE)


def is_crd(obj: dict) -> bool:
    """True for a CustomResourceDefinition (any group)."""
    return obj.get("kind") == KIND and str(obj.get("apiVersion") or "").startswith("apiextensions.k8s.io/")


def is_istio_crd(obj: dict) -> bool:
    """True for a CustomResourceDefinition of one of Istio's API groups (``istio.io``, ``*.istio.io``)."""
    group = str((obj.get("spec") or {}).get("group") or "")
    return is_crd(obj) and (group == "istio.io" or group.endswith(".istio.io"))


def crd_name(obj: dict) -> str:
    """``metadata.name`` of a CRD (``<plural>.<group>``)."""
    return str((obj.get("metadata") or {}).get("name") or "")


def crd_version(obj: dict) -> IstioVersion | None:
    """The Istio release a CRD comes from: label ``app.kubernetes.io/version``, else ``operator.istio.io/version``."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for label in (VERSION_LABEL, ISTIOCTL_VERSION_LABEL):
        found = parse_version(labels.get(label))
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class CrdStep:
    """What happens to one CRD: ``action`` is one of create, upgrade, same, newer_in_cluster, unknown."""

    name: str
    action: str
    cluster: str | None  # the cluster's release of the CRD (None when missing or unknown)
    target: str | None  # the target's release of the CRD

    def as_dict(self) -> dict:
        """The step as returned by the module."""
        return {"name": self.name, "action": self.action, "cluster_version": self.cluster, "target_version": self.target}


def crd_step(name: str, cluster: dict | None, target: dict, target_release: IstioVersion | None = None) -> CrdStep:
    """What to do with CRD ``name``: ``cluster`` is the cluster's object (None when missing), ``target`` the target's.

    ``target_release`` stands for the target CRD's release when it carries no marker (the release it ships with).
    """
    wanted = crd_version(target) or target_release
    if wanted is None:
        return CrdStep(name, UNKNOWN, None, None)
    if cluster is None:
        return CrdStep(name, CREATE, None, wanted.release)
    have = crd_version(cluster)
    if have is None:
        return CrdStep(name, UNKNOWN, None, wanted.release)
    order = compare(have, wanted)
    return CrdStep(name, UPGRADE if order < 0 else SAME if order == 0 else NEWER, have.release, wanted.release)


def crd_plan(cluster: list[dict], target: list[dict], target_release: IstioVersion | None = None) -> list[CrdStep]:
    """One step per target CRD (by name, sorted), against the cluster's CRDs."""
    present = {crd_name(obj): obj for obj in cluster}
    return [crd_step(crd_name(obj), present.get(crd_name(obj)), obj, target_release)
            for obj in sorted(target, key=crd_name)]


def names(steps: list[CrdStep], *actions: str) -> list[str]:
    """The names of the steps with one of ``actions``."""
    return [step.name for step in steps if step.action in actions]


def plan_problems(steps: list[CrdStep], all_or_nothing: str | None = None, runs_anyway: bool = False) -> list[str]:
    """Why the plan cannot be carried out safely (an empty list when it can).

    A CRD whose release is unknown (in the cluster or in the target) is refused. ``all_or_nothing`` names a tool that
    applies every CRD of the target at once (``helm upgrade`` of the base chart, ``istioctl install``): it may not run
    while any cluster CRD is newer than the target's, since it would replace that CRD with the older one. It runs when
    some CRD is to be created or upgraded, or always when ``runs_anyway`` (``istioctl install`` of the revision).
    """
    problems = []
    unknown_target = [step.name for step in steps if step.action == UNKNOWN and step.target is None]
    unknown_cluster = [step.name for step in steps if step.action == UNKNOWN and step.target is not None]
    if unknown_target:
        problems.append("the target's CRDs %s carry no Istio version (label %s) and no version was given: set version, "
                        "or render them with Istio's base chart" % (", ".join(unknown_target), VERSION_LABEL))
    if unknown_cluster:
        problems.append("the cluster's CRDs %s carry no Istio version (label %s or %s), so it cannot be told whether the "
                        "target's are newer (CRDs applied from crd-all.gen.yaml as they are have none): check their "
                        "release, label each with %s=<its release> and run again, or leave the CRDs alone (crds=skip)"
                        % (", ".join(unknown_cluster), VERSION_LABEL, ISTIOCTL_VERSION_LABEL, VERSION_LABEL))
    newer = [step for step in steps if step.action == NEWER]
    if all_or_nothing and newer and (runs_anyway or applies(steps)):
        problems.append("%s applies all of the target's CRDs at once, and would replace %s with older ones (the "
                        "target's %s): bring the cluster's Istio CRDs to one release first, or leave them alone "
                        "(crds=skip)" % (all_or_nothing, ", ".join("%s (%s)" % (s.name, s.cluster) for s in newer),
                                         newer[0].target))
    return problems


def applies(steps: list[CrdStep]) -> bool:
    """True when some CRD is created or upgraded."""
    return any(step.action in APPLIED for step in steps)


def summary(steps: list[CrdStep]) -> str:
    """A short text: ``2 CRDs upgraded to 1.29.1, 1 created, 3 newer in the cluster kept`` (verbs of a done run)."""
    counts = [(len(names(steps, UPGRADE)), "upgraded"), (len(names(steps, CREATE)), "created"),
              (len(names(steps, SAME)), "already at the target's release"),
              (len(names(steps, NEWER)), "newer in the cluster, kept")]
    text = ", ".join("%d %s" % (count, what) for count, what in counts if count)
    return "CRDs: %s" % (text or "none in the target")


def versions(steps: list[CrdStep], side: str) -> dict:
    """``{name: release}`` of the cluster (``side="cluster"``) or after the run (``side="after"``), for the diff."""
    if side == "cluster":
        return {step.name: step.cluster for step in steps if step.action != CREATE}
    return {step.name: step.target if step.action in APPLIED else step.cluster for step in steps}
