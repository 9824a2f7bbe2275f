# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a revision or tag that workloads are about to be pointed at: it must exist and its istiod must be ready."""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import ControlPlane


@dataclass(frozen=True)
class Target:
    """The name given (a revision or a tag), the revision it stands for, and the tag when it is one."""

    name: str
    revision: str
    tag: str | None


def resolve_target(plane: ControlPlane, name: str) -> tuple[Target | None, list[str]]:
    """The :class:`Target` for ``name`` and the problems that forbid pointing workloads at it (empty when none)."""
    problems = rev.revision_problems(name)
    if problems:
        return None, problems
    revision = plane.resolve(name)
    tag = name if name in plane.tags else None
    if revision is None:
        return None, ["revision or tag %r not found; %s. Install that revision first, or use one of these" % (name, inventory(plane))]
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


def inventory(plane: ControlPlane) -> str:
    """The revisions (with readiness) and tags that exist, in one phrase."""
    revisions = ", ".join("%s (%s)" % (name, "ready" if plane.revisions[name].ready else "not ready")
                          for name in sorted(plane.revisions)) or "none"
    tags = ", ".join("%s -> %s" % (name, plane.tags[name].revision) for name in sorted(plane.tags)) or "none"
    return "revisions installed: %s; tags: %s" % (revisions, tags)
