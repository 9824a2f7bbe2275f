# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The revision or tag a module is given: what it stands for, whether it can be used, and whether new pods reach it.

:func:`resolve_target` is the one resolution of a revision-or-tag name against the control plane found. Pointing
workloads at it (namespace_revision, gateway_revision, workload_restart) needs an istiod that exists and is ready;
auditing against it (sidecar_audit, workload_restart's audit) needs only that the name is a revision or a tag.
:func:`reaches_target` is the one answer to "are new pods injected by the target", read from the injection decision
that webhooks.evaluate_injection makes for a namespace (and pod template).
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import ControlPlane
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import InjectionDecision


@dataclass(frozen=True)
class Target:
    """The name given (a revision or a tag), the revision it stands for, and the tag when it is one."""

    name: str
    revision: str
    tag: str | None


def resolve_target(plane: ControlPlane, name: str, require_ready: bool = True) -> tuple[Target | None, list[str]]:
    """The :class:`Target` for ``name`` and the problems that forbid using it (empty when none).

    With ``require_ready`` (workloads are about to be pointed at it), the revision must have an istiod Deployment
    that is ready; without (an audit compares pods with it), ``name`` must only be a revision or a tag.
    """
    problems = rev.revision_problems(name)
    if problems:
        return None, problems
    revision = plane.resolve(name)
    tag = name if name in plane.tags else None
    if revision is None:
        if not require_ready:
            return None, ["revision %r is neither an installed revision (%s) nor a revision tag (%s): install it first, or "
                          "give one of these" % (name, ", ".join(sorted(plane.revisions)) or "none",
                                                 ", ".join(sorted(plane.tags)) or "none")]
        return None, ["revision or tag %r not found; %s. Install that revision first, or use one of these" % (name, inventory(plane))]
    if not require_ready:
        return Target(name, revision, tag), []
    found = plane.revisions.get(revision)
    if found is None:
        via = "tag %r points at" % name if tag else "%r stands for" % name
        return None, ["%s revision %s, which has no istiod Deployment; %s" % (via, revision, inventory(plane))]
    if not found.ready:
        problem = ("revision %s (Deployment %s/%s) is not ready: %d of %d replicas ready; wait for its rollout to finish or fix it "
                   "before pointing workloads at %r" % (revision, found.namespace, found.deployment, found.ready_replicas,
                                                        found.replicas, name))
        return None, [problem]
    return Target(name, revision, tag), []


def reaches_target(decision: InjectionDecision, target: Target) -> bool:
    """Whether new pods, as ``decision`` (webhooks.evaluate_injection) says, get their sidecar from the target's
    revision: injected, and by that revision (a tag counts as the revision it points at, as in the pod's
    ``sidecar.istio.io/status``)."""
    return decision.injected and decision.revision == target.revision


def inventory(plane: ControlPlane) -> str:
    """The revisions (with readiness) and tags that exist, in one phrase."""
    revisions = ", ".join("%s (%s)" % (name, "ready" if plane.revisions[name].ready else "not ready")
                          for name in sorted(plane.revisions)) or "none"
    tags = ", ".join("%s -> %s" % (name, plane.tags[name].revision) for name in sorted(plane.tags)) or "none"
    return "revisions installed: %s; tags: %s" % (revisions, tags)
