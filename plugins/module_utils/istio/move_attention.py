# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a move of the data plane off a revision needs beyond pointing namespaces at the target and restarting
workloads (pure): what preflight lists before anything moves, so that verify and finalize hold no surprise.

A pod is *on* the revision when it runs a sidecar of it or a restart would give it one. For each pod on it:

* ``not_rebuilt``: no workload restart rebuilds it (a bare pod, a Job's pod, a ReplicaSet without Deployment, another
  owner): it keeps its sidecar until someone deletes and re-creates it;
* ``on_delete``: its StatefulSet or DaemonSet has ``updateStrategy: OnDelete``: a restart changes the template but
  replaces no pod;
* ``pins_revision``: its own ``istio.io/rev`` label names the revision and its namespace has no injection label
  (which would take precedence), so the namespaces moved never move it: its template's label must change.

Entries are grouped per owner (``Pod`` and the pod's name for a bare pod) and issue, sorted, with what to do.
"""

from __future__ import annotations

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio.audit import template_labels
from ansible_collections.meshops.istio.plugins.module_utils.istio.workload_owner import DAEMONSET, STATEFULSET
from ansible_collections.meshops.istio.plugins.module_utils.istio.waves import workload_problem

NOT_REBUILT = "not_rebuilt"
ON_DELETE = "on_delete"
PINS_REVISION = "pins_revision"


def pins_revision(pod: dict, namespace_labels: dict | None, revision: str) -> bool:
    """True when ``pod`` selects ``revision`` by its own ``istio.io/rev`` label, which no namespace label overrides."""
    ns_labels = namespace_labels or {}
    if L.ISTIO_INJECTION in ns_labels or L.REV in ns_labels:
        return False
    return template_labels((pod.get("metadata") or {}).get("labels")).get(L.REV) == revision


def move_attention(audited: list, pods: list[dict], namespace_labels: dict, workloads: dict, revision: str) -> list[dict]:
    """What the pods on ``revision`` need beyond a workload restart to leave it.

    ``audited`` are the audit.PodAudit of ``pods`` (the raw pod dicts, matched by namespace and name);
    ``namespace_labels`` maps a namespace to its labels; ``workloads`` maps ``(namespace, kind, name)`` to the
    StatefulSet or DaemonSet object (missing ones are not checked for OnDelete).
    """
    raw = {((pod.get("metadata") or {}).get("namespace"), (pod.get("metadata") or {}).get("name")): pod for pod in pods or []}
    grouped: dict = {}
    for pod in audited:
        if revision not in (pod.sidecar.revision if pod.sidecar.present else None, pod.restart_revision if pod.restart_injected else None):
            continue
        kind, name = (pod.owner.kind, pod.owner.name) if pod.owner.name else ("Pod", pod.name)
        issues = []
        if not pod.owner.restartable:
            issues.append((NOT_REBUILT, pod.owner.not_restartable_reason()))
        elif pod.owner.kind in (STATEFULSET, DAEMONSET) and (pod.namespace, kind, name) in workloads:
            problem = workload_problem(kind, workloads[(pod.namespace, kind, name)])
            if problem:
                issues.append((ON_DELETE, problem))
        manifest = raw.get((pod.namespace, pod.name)) or {}
        if pins_revision(manifest, namespace_labels.get(pod.namespace), revision):
            issues.append((PINS_REVISION, _pinned_action(manifest, revision, pod.namespace, kind, name)))
        for issue, action in issues:
            entry = grouped.setdefault((pod.namespace, kind, name, issue),
                                       {"namespace": pod.namespace, "kind": kind, "name": name, "issue": issue,
                                        "pods": [], "action": action})
            entry["pods"].append(pod.name)
    return [grouped[key] for key in sorted(grouped)]


def _pinned_action(pod: dict, revision: str, namespace: str, kind: str, name: str) -> str:
    why = ("its own label %s=%s selects revision %s and namespace %s has no injection label to override it, so moving the "
           "namespaces does not move it" % (L.REV, revision, revision, namespace))
    templates = ((pod.get("metadata") or {}).get("annotations") or {}).get(L.INJECT_TEMPLATES) or ""
    if L.GATEWAY_TEMPLATE in [item.strip() for item in templates.split(",")]:
        return "%s: it is a gateway, move it with meshops.istio.gateway_revision (the upgrade's gateways stage)" % why
    return "%s: set %s to the target revision (or a tag) in %s, or label the namespace" % (
        why, L.REV, "the pod" if kind == "Pod" else "the pod template of %s %s" % (kind, name))
