# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where every pod stands against a target revision: the sidecar it has, the one a restart would give it, a class.

Pure: input are plain dicts (pods, ReplicaSets, namespaces, MutatingWebhookConfigurations) and the
:class:`~controlplane.ControlPlane` found in them. For each running pod:

* its owner workload (a Deployment through its ReplicaSet, a StatefulSet, DaemonSet, Job, or none);
* its sidecar (``istio-proxy`` in containers or as a native sidecar), the revision that injected it
  (``sidecar.istio.io/status``) and the proxy version (image tag);
* the revision a restart would give it: the webhooks present evaluated over the namespace's labels and the pod's
  labels minus those the injector adds (a pod's labels are its template's plus these), as the API server does;
* its class.

Classes. A sidecar is *expected* when a restart would inject one. The sidecar is *right* when it comes from the
revision a restart would give and, when a target ``revision`` is given, that is the target revision; and when its
proxy version is the version of that revision's istiod (an in-place upgrade changes the version, not the revision).

* ``current``: a sidecar is expected and the one there is right.
* ``stale``: a sidecar is expected and the one there is not right (restart needed; the reason says when a
  restart alone does not help because the namespace still points at another revision).
* ``missing``: a sidecar is expected and none is there.
* ``will_lose_sidecar``: a sidecar is there and a restart would give none (injection was turned off after the
  pod was injected).
* ``unmanaged``: no sidecar is expected and none is there.
* ``not_restartable``: the pod would be ``stale``, ``missing`` or ``will_lose_sidecar`` (``needs`` says which),
  but no workload restart can rebuild it: a bare pod, a Job's pod, a ReplicaSet without Deployment.

Each pod that is neither ``current`` nor ``unmanaged`` has an ``action``: what rebuilds it (restart its workload, or
for a ``not_restartable`` pod what its owner calls for, such as deleting and recreating a bare pod).

Gates. A pod is *off revision* when it runs another sidecar than the one it should (another revision or proxy
version: ``stale``), none where one is expected (``missing``), or a sidecar of another revision than the target where
a restart would give none (``will_lose_sidecar``), whatever its class: a ``not_restartable`` pod counts by what it
needs. :meth:`Audit.blocking` is the one rule every gate applies (``fail_on`` classes, and the gate).

Pods that have finished (phase Succeeded or Failed) or are being deleted are reported apart and never classed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio.workload_owner import Owner, owner_of, replicaset_owners
from ansible_collections.meshops.istio.plugins.module_utils.istio.sidecar import Sidecar, parse_sidecar
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import evaluate_injection, injector_webhooks

CURRENT = "current"
STALE = "stale"
MISSING = "missing"
WILL_LOSE_SIDECAR = "will_lose_sidecar"
UNMANAGED = "unmanaged"
NOT_RESTARTABLE = "not_restartable"
CLASSES = (CURRENT, STALE, MISSING, WILL_LOSE_SIDECAR, UNMANAGED, NOT_RESTARTABLE)
# The classes a restart changes (and a not_restartable pod "needs").
NEEDS_RESTART = (STALE, MISSING, WILL_LOSE_SIDECAR)
FINISHED_PHASES = ("Succeeded", "Failed")
# Labels the injector adds to a pod; without them a pod's labels are its template's (plus pod-template-hash & co).
INJECTED_LABELS = frozenset((L.TLS_MODE, L.CANONICAL_NAME, L.CANONICAL_REVISION))


@dataclass(frozen=True)
class Verdict:
    """A pod's class, what it would need if it cannot be restarted, and why."""

    pod_class: str
    needs: str | None
    reason: str


@dataclass(frozen=True)
class PodAudit:
    """One running pod: owner, sidecar, what a restart would give, and the verdict."""

    namespace: str
    name: str
    phase: str
    owner: Owner
    sidecar: Sidecar
    restart_injected: bool
    restart_revision: str | None
    verdict: Verdict
    target: str | None = None

    @property
    def pod_class(self) -> str:
        """The pod's class (one of CLASSES)."""
        return self.verdict.pod_class

    @property
    def key(self) -> str:
        """``namespace/name``."""
        return "%s/%s" % (self.namespace, self.name)

    @property
    def state(self) -> str:
        """The class a rebuild acts on: the class, or for a ``not_restartable`` pod the class it needs."""
        return self.verdict.needs or self.verdict.pod_class

    @property
    def off_revision(self) -> bool:
        """Whether the pod fails a gate requiring its target (without one: the revision a restart gives), whatever
        its class: it runs another sidecar than the one it should or none where one is expected (``stale``,
        ``missing``), or still runs a sidecar of another revision where a restart would give none.
        """
        if self.state in (STALE, MISSING):
            return True
        return self.state == WILL_LOSE_SIDECAR and (self.target is None or self.sidecar.revision != self.target)

    @property
    def action(self) -> str | None:
        """What the pod needs to be rebuilt as it should be; None when it is ``current`` or ``unmanaged``."""
        if self.state not in NEEDS_RESTART:
            return None
        rebuild = self.owner.action()
        if self.state == WILL_LOSE_SIDECAR:
            return "%s (injection is off for it: it comes back without a sidecar)" % rebuild
        if self.target is not None and self.restart_revision != self.target:
            return "point its namespace, tag or own %s label at %s first; %s" % (L.REV, self.target, rebuild)
        return rebuild

    def as_dict(self) -> dict:
        """A plain dict for module results."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "phase": self.phase,
            "owner": {"kind": self.owner.kind, "name": self.owner.name},
            "sidecar": self.sidecar.present,
            "native_sidecar": self.sidecar.native,
            "revision": self.sidecar.revision,
            "version": self.sidecar.version.release if self.sidecar.version else None,
            "restart_injected": self.restart_injected,
            "restart_revision": self.restart_revision,
            "class": self.verdict.pod_class,
            "needs": self.verdict.needs,
            "reason": self.verdict.reason,
            "action": self.action,
        }


@dataclass
class Audit:
    """The result of :func:`audit_pods`: running pods (sorted by namespace and name) and finished ones apart."""

    target: str | None
    pods: list = field(default_factory=list)
    finished: list = field(default_factory=list)

    def blocking(self, fail_on=(), gate: bool = False) -> list[PodAudit]:
        """The pods a gate refuses: those in a class of ``fail_on`` and, with ``gate``, every pod off the target
        revision (:meth:`PodAudit.off_revision`), whatever its class."""
        wanted = frozenset(fail_on or ())
        return [pod for pod in self.pods if pod.pod_class in wanted or (gate and pod.off_revision)]

    def summary(self) -> dict:
        """Counts by class, namespace (class counts), sidecar revision and proxy version; finished pods apart."""
        by_class = dict.fromkeys(CLASSES, 0)
        by_namespace: dict = {}
        by_revision: dict = {}
        by_version: dict = {}
        for pod in self.pods:
            by_class[pod.pod_class] += 1
            counts = by_namespace.setdefault(pod.namespace, {})
            counts[pod.pod_class] = counts.get(pod.pod_class, 0) + 1
            revision = pod.sidecar.revision if pod.sidecar.present else "none"
            by_revision[revision or "unknown"] = by_revision.get(revision or "unknown", 0) + 1
            version = (pod.sidecar.version.release if pod.sidecar.version else "unknown") if pod.sidecar.present else "none"
            by_version[version] = by_version.get(version, 0) + 1
        return {"pods": len(self.pods), "finished": len(self.finished), "by_class": by_class,
                "by_namespace": by_namespace, "by_revision": by_revision, "by_version": by_version}


def template_labels(pod_labels: dict | None) -> dict:
    """A pod's labels without those the injector added: a fine stand-in for its template's labels."""
    return {key: value for key, value in (pod_labels or {}).items() if key not in INJECTED_LABELS}


def classify(sidecar_revision: str | None, has_sidecar: bool, restart_injected: bool, restart_revision: str | None,
             target: str | None = None, proxy_version: str | None = None, istiod_version: str | None = None,
             restartable: bool = True) -> Verdict:
    """The class of a pod from the facts about it (see the module docstring for the definitions).

    ``proxy_version`` is the sidecar's version and ``istiod_version`` the version of the istiod of the sidecar's
    revision (both releases such as ``1.29.2``; None when unknown, which skips the version check).
    """
    if has_sidecar:
        shown = sidecar_revision or "unknown"
        if not restart_injected:
            verdict = Verdict(WILL_LOSE_SIDECAR, None, "has a sidecar of revision %s, but a restart would give it none" % shown)
        elif target is not None and sidecar_revision != target:
            verdict = Verdict(STALE, None, "sidecar of revision %s, not of the target %s%s"
                              % (shown, target, _restart_note(restart_revision, target)))
        elif sidecar_revision != restart_revision:
            verdict = Verdict(STALE, None, "sidecar of revision %s; a restart would give revision %s%s"
                              % (shown, restart_revision, _restart_note(restart_revision, target)))
        elif proxy_version and istiod_version and proxy_version != istiod_version:
            verdict = Verdict(STALE, None, "proxy version %s, but istiod of revision %s runs %s: a restart updates it"
                              % (proxy_version, shown, istiod_version))
        else:
            return Verdict(CURRENT, None, "sidecar of revision %s, as a restart would give" % shown)
    elif restart_injected:
        verdict = Verdict(MISSING, None, "no sidecar; a restart would give one of revision %s%s"
                          % (restart_revision, _restart_note(restart_revision, target)))
    else:
        return Verdict(UNMANAGED, None, "no sidecar, and a restart would give none")
    if restartable:
        return verdict
    return Verdict(NOT_RESTARTABLE, verdict.pod_class, verdict.reason)


def _restart_note(restart_revision: str | None, target: str | None) -> str:
    if target is None or restart_revision == target:
        return ""
    return (" (a restart would give revision %s, not the target %s: point the namespace or the pod at %s first)"
            % (restart_revision, target, target))


class Auditor:
    """Classifies pods of the given namespaces; injection decisions are computed once per distinct input."""

    def __init__(self, namespaces: list[dict], mutating_webhooks: list[dict], replicasets: list[dict],
                 istiod_versions: dict | None = None, target: str | None = None) -> None:
        self.namespace_labels = {(ns.get("metadata") or {}).get("name"): (ns.get("metadata") or {}).get("labels") or {}
                                 for ns in namespaces or []}
        self.mutating_webhooks = mutating_webhooks or []
        self.rs_owners = replicaset_owners(replicasets)
        self.istiod_versions = istiod_versions or {}
        self.target = target
        # Only these pod labels can change what the injector webhooks select.
        keys = set()
        for hook in injector_webhooks(self.mutating_webhooks):
            selector = hook.object_selector or {}
            keys.update((selector.get("matchLabels") or {}).keys())
            keys.update(expr.get("key") for expr in selector.get("matchExpressions") or [])
        self.selector_keys = tuple(sorted(key for key in keys if key))
        self._decisions: dict = {}

    def in_scope(self, pod: dict) -> bool:
        """True when the pod's namespace is one of the audited namespaces."""
        return (pod.get("metadata") or {}).get("namespace") in self.namespace_labels

    def restart_decision(self, pod: dict):
        """What a re-created copy of ``pod`` would get (an InjectionDecision), cached per distinct input."""
        meta = pod.get("metadata") or {}
        namespace = meta.get("namespace", "")
        labels = template_labels(meta.get("labels"))
        annotations = meta.get("annotations") or {}
        host_network = bool((pod.get("spec") or {}).get("hostNetwork"))
        key = (namespace, tuple(labels.get(k) for k in self.selector_keys), labels.get(L.SIDECAR_INJECT),
               annotations.get(L.SIDECAR_INJECT), host_network)
        decision = self._decisions.get(key)
        if decision is None:
            decision = evaluate_injection(self.mutating_webhooks, namespace, self.namespace_labels.get(namespace),
                                          labels, annotations, host_network)
            self._decisions[key] = decision
        return decision

    def audit_pod(self, pod: dict) -> PodAudit:
        """Classify one running pod."""
        meta = pod.get("metadata") or {}
        owner = owner_of(pod, self.rs_owners)
        sidecar = parse_sidecar(pod)
        decision = self.restart_decision(pod)
        proxy_version = sidecar.version.release if sidecar.version else None
        verdict = classify(sidecar.revision, sidecar.present, decision.injected, decision.revision, self.target,
                           proxy_version, self.istiod_versions.get(sidecar.revision), owner.restartable)
        if not decision.injected and WILL_LOSE_SIDECAR in (verdict.pod_class, verdict.needs):
            verdict = Verdict(verdict.pod_class, verdict.needs, "%s: %s" % (verdict.reason, decision.reason))
        return PodAudit(meta.get("namespace", ""), meta.get("name", ""), (pod.get("status") or {}).get("phase") or "Unknown",
                        owner, sidecar, decision.injected, decision.revision, verdict, self.target)


def finished_entry(pod: dict) -> dict | None:
    """The report of a pod that has finished or is being deleted; None for a running (or pending) pod."""
    meta = pod.get("metadata") or {}
    phase = (pod.get("status") or {}).get("phase")
    if phase in FINISHED_PHASES:
        state = phase
    elif meta.get("deletionTimestamp"):
        state = "Terminating"
    else:
        return None
    return {"namespace": meta.get("namespace", ""), "name": meta.get("name", ""), "phase": state}


def audit_pods(pods: list[dict], auditor: Auditor) -> Audit:
    """Classify every pod of the auditor's namespaces; pods of other namespaces are ignored."""
    result = Audit(target=auditor.target)
    for pod in pods or []:
        if not auditor.in_scope(pod):
            continue
        finished = finished_entry(pod)
        if finished is not None:
            result.finished.append(finished)
        else:
            result.pods.append(auditor.audit_pod(pod))
    result.pods.sort(key=lambda item: (item.namespace, item.name))
    result.finished.sort(key=lambda item: (item["namespace"], item["name"]))
    return result


def revision_versions(control_plane) -> dict:
    """Map each installed revision to its istiod's version (release string), for the version check."""
    return {name: revision.version.release for name, revision in control_plane.revisions.items() if revision.version}


def format_table(audit: Audit, limit: int = 20) -> str:
    """A short text table of class counts per namespace (namespaces needing action first, at most ``limit``)."""
    summary = audit.summary()
    columns = CLASSES
    rows = sorted(summary["by_namespace"].items(),
                  key=lambda item: (not any(item[1].get(c) for c in (STALE, MISSING, WILL_LOSE_SIDECAR, NOT_RESTARTABLE)),
                                    item[0]))
    shown = rows[:limit]
    width = max([len("NAMESPACE")] + [len(row[0]) for row in shown])
    lines = ["  ".join(["NAMESPACE".ljust(width)] + [c.upper() for c in columns])]
    for name, counts in shown:
        lines.append("  ".join([name.ljust(width)] + [str(counts.get(c, 0)).rjust(len(c)) for c in columns]))
    if len(rows) > limit:
        lines.append("... and %d more namespaces" % (len(rows) - limit))
    return "\n".join(lines)


def describe_pods(pods: list[PodAudit], limit: int = 20) -> str:
    """``ns/pod (action; class: reason)`` for the first ``limit`` pods, and how many more there are."""
    text = "; ".join("%s (%s%s: %s)" % (pod.key, "%s; " % pod.action if pod.action else "",
                                        pod.pod_class if pod.verdict.needs is None
                                        else "%s, needs %s" % (pod.pod_class, pod.verdict.needs), pod.verdict.reason)
                     for pod in pods[:limit])
    if len(pods) > limit:
        text += "; ... and %d more" % (len(pods) - limit)
    return text
