# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``istioctl x precheck`` and ``istioctl analyze`` would flag before an upgrade, over objects already read.

Each check returns findings: a code, a severity, what is wrong, the objects concerned and what to do.

* ``kubernetes_version``: the API server's Kubernetes minor against the target release. Below the minimum that
  istioctl's precheck enforces for that release (``MinK8SVersion`` of istioctl/pkg/install/k8sversion) it is an
  error; outside the versions Istio's support table lists for the release it is a warning.
* ``IST0139``: two Istio webhooks would inject the same pod, found as istioctl analyze's webhook analyzer finds it:
  every combination of the namespace labels (none, ``istio-injection`` enabled or disabled, each with and without
  ``istio.io/rev`` of each revision) and pod labels (none, ``sidecar.istio.io/inject`` true or false, the same with
  ``istio.io/rev``) must match at most one webhook of the configurations that name a revision or hold an
  ``*istio.io`` webhook.
* ``revision_missing``: a gateway or a namespace that selects, by ``istio.io/rev``, a revision that neither runs nor
  is a tag (its new pods get no sidecar, or the gateway's pods pull the image ``auto``); the control plane's own
  problems (a tag or a validator pointing at a revision without istiod) come under the same code.
* ``pods_not_ready``: running or pending pods that are not Ready before anything moves, so that a failure later is
  not blamed on the upgrade.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from ansible_collections.meshops.istio.plugins.module_utils.istio import gateway as G
from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio.selector import matches
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import parse_version

ERROR = "error"
WARNING = "warning"
CODES = ("kubernetes_version", "IST0139", "revision_missing", "pods_not_ready")

# Istio minor -> (the minimum Kubernetes minor istioctl's precheck enforces, the Kubernetes minors Istio's support
# table lists for it). A release not listed is not checked (the finding says so).
KUBERNETES_SUPPORT = {
    (1, 26): (29, (29, 33)),
    (1, 27): (29, (29, 33)),
    (1, 28): (29, (30, 34)),
    (1, 29): (30, (31, 35)),
    (1, 30): (32, (32, 36)),
}
ISTIO_WEBHOOK_SUFFIX = "istio.io"
# how many objects a finding names in its message (all of them are in ``objects``)
SHOWN = 10


@dataclass(frozen=True)
class Finding:
    """One thing a precheck found: ``code``, ``severity`` (error or warning), the message and the objects concerned."""

    code: str
    severity: str
    message: str
    objects: tuple = field(default_factory=tuple)

    def as_dict(self) -> dict:
        """A plain dict for module results."""
        return {"code": self.code, "severity": self.severity, "message": self.message, "objects": list(self.objects)}


def kubernetes_version(server_git_version: str, target_version: str) -> list[Finding]:
    """The API server's version (``/version``'s gitVersion, such as ``v1.35.2``) against the target Istio release."""
    server = re.match(r"^v?(\d+)\.(\d+)", server_git_version or "")
    target = parse_version(target_version)
    if server is None or target is None:
        return []
    major, minor = int(server.group(1)), int(server.group(2))
    support = KUBERNETES_SUPPORT.get((target.major, target.minor))
    if support is None:
        return [Finding("kubernetes_version", WARNING, "Istio %s is not in the collection's table of supported Kubernetes "
                        "versions; check Kubernetes %d.%d against Istio's supported releases yourself"
                        % (target.minor_version, major, minor))]
    minimum, (first, last) = support
    if major == 1 and minor < minimum:
        return [Finding("kubernetes_version", ERROR, "Kubernetes %d.%d is older than 1.%d, the oldest Istio %s installs on "
                        "(istioctl x precheck refuses it): upgrade the cluster first, or choose an older Istio release"
                        % (major, minor, minimum, target.minor_version))]
    if major != 1 or not first <= minor <= last:
        message = "Kubernetes %d.%d is outside the versions Istio %s supports (1.%d to 1.%d); it may work, but Istio " \
                  "does not test it" % (major, minor, target.minor_version, first, last)
        return [Finding("kubernetes_version", WARNING, message)]
    return []


def webhook_overlaps(mutating_configurations: list[dict]) -> list[Finding]:
    """IST0139: webhooks that would both inject the same pod (see the module docstring for the combinations)."""
    hooks, revisions = [], set()
    for config in sorted(mutating_configurations or [], key=lambda c: (c.get("metadata") or {}).get("name", "")):
        name = (config.get("metadata") or {}).get("name", "")
        found = _named_revisions(config)
        webhooks = config.get("webhooks") or []
        if not found and not any((hook.get("name") or "").endswith(ISTIO_WEBHOOK_SUFFIX) for hook in webhooks):
            continue
        revisions |= found
        hooks.extend(("%s/%s" % (name, hook.get("name", "")), hook) for hook in webhooks)
    overlapping = {}
    for namespace_labels, pod_labels in itertools.product(_combinations(L.ISTIO_INJECTION, L.INJECTION_ENABLED,
                                                                        L.INJECTION_DISABLED, revisions),
                                                          _combinations(L.SIDECAR_INJECT, "true", "false", revisions)):
        matched = tuple(name for name, hook in hooks if _selects(hook.get("namespaceSelector"), namespace_labels)
                        and _selects(hook.get("objectSelector"), pod_labels))
        if len(matched) > 1:
            overlapping.setdefault(matched, (namespace_labels, pod_labels))
    if not overlapping:
        return []
    cases = ["%s (a pod labelled %s in a namespace labelled %s)" % (" + ".join(matched), _show(pod_labels), _show(namespace_labels))
             for matched, (namespace_labels, pod_labels) in sorted(overlapping.items())]
    webhooks = tuple(sorted({name for matched in overlapping for name in matched}))
    return [Finding("IST0139", ERROR, "webhooks overlap, so a pod would be injected more than once: %s. Remove or narrow "
                    "the webhook that should not inject there (often a leftover istio-sidecar-injector beside a tag "
                    "default, or two tags selecting the same namespaces)" % _first(cases), webhooks)]


def missing_revisions(control_plane, namespaces: list[dict], deployments: list[dict]) -> list[Finding]:
    """Gateways and namespaces that select by ``istio.io/rev`` a revision that neither runs nor is a tag, plus the
    control plane's own problems (tags or validators pointing at a revision without istiod)."""
    known = set(control_plane.revisions) | set(control_plane.tags)
    findings = [Finding("revision_missing", ERROR, problem + ": fix it before the upgrade") for problem in
                control_plane.problems]
    stray_namespaces = sorted(
        "%s (%s)" % (ns["metadata"]["name"], (ns["metadata"].get("labels") or {})[L.REV]) for ns in namespaces or []
        if (ns["metadata"].get("labels") or {}).get(L.REV) not in (None, "", *known)
        and (ns["metadata"].get("labels") or {}).get(L.ISTIO_INJECTION) is None)
    if stray_namespaces:
        findings.append(Finding("revision_missing", WARNING, "namespaces select a revision that neither runs nor is a "
                                "tag, so their new pods get no sidecar: %s. Point them at a running revision or tag"
                                % _first(stray_namespaces), tuple(stray_namespaces)))
    stray_gateways = []
    for deployment in deployments or []:
        kind, _reason = G.gateway_kind(deployment)
        selected = G.selected_revision(G.template_labels(deployment), G.template_annotations(deployment))
        if kind == G.INJECTED and selected not in (None, "", "default", *known):
            meta = deployment.get("metadata") or {}
            stray_gateways.append("%s/%s (%s)" % (meta.get("namespace"), meta.get("name"), selected))
    if stray_gateways:
        findings.append(Finding("revision_missing", ERROR, "gateways select a revision that neither runs nor is a tag, "
                                "so a restarted gateway pod gets no proxy: %s. Point them at a running revision"
                                % _first(sorted(stray_gateways)), tuple(sorted(stray_gateways))))
    return findings


def pods_not_ready(pods: list[dict]) -> list[Finding]:
    """Pods that should serve but are not Ready (finished pods apart), with the reason a container gives."""
    found = []
    for pod in pods or []:
        status = pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            continue
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        if not ready:
            meta = pod.get("metadata") or {}
            found.append("%s/%s (%s)" % (meta.get("namespace"), meta.get("name"), _not_ready_reason(status)))
    if not found:
        return []
    found.sort()
    counted = "1 pod is" if len(found) == 1 else "%d pods are" % len(found)
    return [Finding("pods_not_ready", WARNING, "%s not Ready before the upgrade: %s. Fix them first, or know that they "
                    "were not Ready before anything moved" % (counted, _first(found)), tuple(found))]


def _named_revisions(config: dict) -> set:
    revisions = set()
    label = ((config.get("metadata") or {}).get("labels") or {}).get(L.REV)
    if label is not None:
        revisions.add(label)
    for hook in config.get("webhooks") or []:
        for selector in (hook.get("namespaceSelector"), hook.get("objectSelector")):
            selector = selector or {}
            if L.REV in (selector.get("matchLabels") or {}):
                revisions.add(selector["matchLabels"][L.REV])
            for expression in selector.get("matchExpressions") or []:
                if expression.get("key") == L.REV:
                    revisions.update(expression.get("values") or [])
    return revisions


def _combinations(key: str, yes: str, no: str, revisions: set) -> list[dict]:
    bases = [{}, {key: yes}, {key: no}]
    return bases + [dict(base, **{L.REV: revision}) for revision in sorted(revisions) for base in bases]


def _selects(selector: dict | None, labels: dict) -> bool:
    try:
        return matches(selector, labels)
    except ValueError:
        return False  # a selector the API server would not take selects nothing, as in istioctl analyze


def _show(labels: dict) -> str:
    return ",".join("%s=%s" % item for item in sorted(labels.items())) or "(no labels)"


def _first(names: list) -> str:
    return ", ".join(names[:SHOWN]) + (" and %d more" % (len(names) - SHOWN) if len(names) > SHOWN else "")


def _not_ready_reason(status: dict) -> str:
    for container in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        state = container.get("state") or {}
        for key in ("waiting", "terminated"):
            if state.get(key) and state[key].get("reason"):
                return "%s: %s" % (container.get("name"), state[key]["reason"])
    return status.get("phase") or "no status"
