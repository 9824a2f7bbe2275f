# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report that ends every run of the upgrade and rollback playbooks: one screen a person reads at a glance, and
the same data as a dict for machines.

Built from what the run read at its end: the upgrade record (stages and when each was reached, the namespaces,
tags and gateways as they were before, the restart waves), the audit of every pod (``sidecar_audit``'s summary and
the pods that need attention) and the mesh (``mesh_info``). No I/O here.
"""

from __future__ import annotations

import datetime

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio import record as rec

# what comes after each stage, and the playbook run that does it
NEXT = {
    None: "start the upgrade: ansible-playbook meshops.istio.upgrade (preflight through verify)",
    "preflight": "control plane: ansible-playbook meshops.istio.upgrade --tags control_plane",
    "control_plane": "data plane: ansible-playbook meshops.istio.upgrade --tags data_plane",
    "data_plane": "gateways: ansible-playbook meshops.istio.upgrade --tags gateways",
    "gateways": "verify: ansible-playbook meshops.istio.upgrade --tags verify",
    "verify": "check the service, then finalize (ansible-playbook meshops.istio.upgrade --tags finalize) or roll back "
              "(ansible-playbook meshops.istio.rollback)",
    rec.FINALIZED: "nothing: the upgrade is finalized (a rollback is no longer possible)",
    rec.ROLLING_BACK: "finish the rollback: ansible-playbook meshops.istio.rollback",
    rec.ROLLED_BACK: "nothing: the upgrade is rolled back; a new upgrade may start",
}
GATED = ("data_plane", "gateways", "verify", rec.ROLLING_BACK)
# how many names a line shows before "and N more"
SHOWN = 12


def build(record: dict | None, summary: dict | None, attention: list | None, namespaces: list | None,
          check_mode: bool = False) -> dict:
    """The report as a dict (see :func:`lines` for the text). ``attention`` are sidecar_audit's pods (report
    attention), ``namespaces`` mesh_info's namespaces."""
    record = record or {}
    stage = record.get("stage")
    source, target = record.get("source") or {}, record.get("target") or {}
    rolling_back = stage in (rec.ROLLING_BACK, rec.ROLLED_BACK)
    wanted = source.get("revision") if rolling_back else target.get("revision")
    now = {ns.get("name"): ns for ns in namespaces or []}
    moved = []
    for name, before in sorted((record.get("namespaces_before") or {}).items()):
        after = now.get(name, {})
        moved.append({"name": name, "before": _labels_text(before),
                      "after": _labels_text({L.ISTIO_INJECTION: after.get("istio_injection"), L.REV: after.get("rev_label")})})
    # from these stages a gate lies ahead: finalize's (every pod of the cluster on the target; verify's is a part of
    # it) or the rollback's (back on the source)
    gated = stage in GATED
    blocking = [pod for pod in attention or [] if gated and wanted and pod.get("revision") != wanted
                and pod.get("class") != "unmanaged"]
    return {
        "check_mode": check_mode,
        "source": source, "target": target, "stage": stage, "status": record.get("status"),
        "next": NEXT.get(stage, "see docs/playbooks.md"),
        "blocked_by": ["%s/%s (%s)" % (pod.get("namespace"), pod.get("name"), pod.get("action") or pod.get("class"))
                       for pod in blocking],
        "namespaces": moved,
        "tags": {name: {"before": revision} for name, revision in sorted((record.get("tags_before") or {}).items())},
        "gateways": {name: {"before": (labels or {}).get(L.REV)} for name, labels in
                     sorted((record.get("gateways_before") or {}).items())},
        "waves": [["%s/%s" % (w.get("namespace"), w.get("name")) for w in wave] for wave in record.get("waves") or []],
        "pods_by_revision": dict(sorted(((summary or {}).get("by_revision") or {}).items())),
        "pods_by_version": dict(sorted(((summary or {}).get("by_version") or {}).items())),
        "stage_seconds": stage_seconds(record),
    }


def stage_seconds(record: dict) -> dict:
    """For each stage of the record's history, the seconds from the stage before it (or the start) to it."""
    result = {}
    previous = _time(record.get("started"))
    for entry in record.get("history") or []:
        when = _time(entry.get("time"))
        if when is not None and previous is not None and entry.get("stage"):
            result[entry["stage"]] = round((when - previous).total_seconds(), 1)
        previous = when if when is not None else previous
    return result


def lines(report: dict) -> list[str]:
    """The report as lines of text, the most important first."""
    source, target = report["source"], report["target"]
    title = "Istio upgrade %s -> %s" % (_endpoint(source), _endpoint(target))
    prefix = "Check mode (nothing was changed). " if report["check_mode"] else ""
    status = " (%s)" % report["status"] if report["status"] else ""
    out = ["%s%s: stage %s%s" % (prefix, title, report["stage"] or "not started", status)]
    if report["blocked_by"]:
        rolling_back = report["stage"] == rec.ROLLING_BACK
        out.append("Before %s, %d pod%s must run %s: %s" % (
            "the rollback completes" if rolling_back else "finalize", len(report["blocked_by"]),
            "" if len(report["blocked_by"]) == 1 else "s",
            (source if rolling_back else target).get("revision") or "?", _some(report["blocked_by"])))
    out.append("Next: " + report["next"])
    if report["stage_seconds"]:
        out.append("Stages (seconds since the stage before): " + ", ".join(
            "%s %s" % (stage, _seconds(seconds)) for stage, seconds in report["stage_seconds"].items()))
    out.append("Namespaces: " + (_some(["%s (%s -> %s)" % (ns["name"], ns["before"], ns["after"])
                                        for ns in report["namespaces"]]) or "none moved"))
    if report["tags"]:
        out.append("Tags moved (revision before): " + ", ".join("%s (%s)" % (name, tag["before"])
                                                                for name, tag in report["tags"].items()))
    if report["gateways"]:
        out.append("Gateways moved (revision before): " + ", ".join("%s (%s)" % (name, gateway["before"] or "no label")
                                                                    for name, gateway in report["gateways"].items()))
    if report["waves"]:
        out.append("Restarted in %d wave%s: %s" % (len(report["waves"]), "" if len(report["waves"]) == 1 else "s",
                                                   " | ".join(", ".join(wave) for wave in report["waves"][:SHOWN])
                                                   + (" | ..." if len(report["waves"]) > SHOWN else "")))
    out.append("Pods by sidecar revision: " + (_counts(report["pods_by_revision"]) or "no pods"))
    out.append("Pods by proxy version: " + (_counts(report["pods_by_version"]) or "no pods"))
    return out


def _labels_text(labels: dict) -> str:
    shown = ["%s=%s" % (key, value) for key, value in sorted((labels or {}).items()) if value is not None]
    return ",".join(shown) or "no label"


def _endpoint(endpoint: dict) -> str:
    if not endpoint.get("revision"):
        return "?"
    return "%s (%s)" % (endpoint["revision"], endpoint["version"]) if endpoint.get("version") else endpoint["revision"]


def _some(names: list) -> str:
    return ", ".join(names[:SHOWN]) + (" and %d more" % (len(names) - SHOWN) if len(names) > SHOWN else "")


def _counts(counts: dict) -> str:
    return ", ".join("%s: %d" % item for item in counts.items())


def _seconds(seconds: float) -> str:
    return "%d s" % seconds if seconds < 120 else "%d min" % round(seconds / 60)


def _time(text):
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
