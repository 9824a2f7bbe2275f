"""Print the demo's audit (saved as JSON by scripts/demo/audit.yml: mesh_info and sidecar_audit) as readable tables.

Usage: python scripts/demo/summary.py TITLE AUDIT.json
"""

from __future__ import annotations

import collections
import json
import sys


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Return ``rows`` under ``headers`` as left-aligned columns."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = [headers, *rows]
    return "\n".join("    " + "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines)


def text(value: object) -> str:
    """Show a missing value as ``-``."""
    return "-" if value is None else str(value)


def sidecar(pod: dict) -> str:
    """The sidecar of one audited pod as ``revision (version)``, or ``no sidecar``."""
    if not pod.get("sidecar"):
        return "no sidecar"
    return f"{text(pod.get('revision'))} ({text(pod.get('version'))})"


def namespace_rows(mesh: dict, audit: dict) -> list[list[str]]:
    """One row per namespace: its labels' meaning, the revision a new pod gets, and its pods per sidecar."""
    pods = collections.defaultdict(collections.Counter)
    for pod in audit.get("pods", []):
        pods[pod["namespace"]][sidecar(pod)] += 1
    rows = []
    for namespace in mesh.get("namespaces", []):
        name = namespace["name"]
        via = f" via tag {namespace['tag']}" if namespace.get("tag") else ""
        counts = pods.get(name, collections.Counter())
        described = ", ".join(f"{count} x {kind}" for kind, count in sorted(counts.items())) or "no pods"
        rows.append([name, namespace.get("injection", "-"), text(namespace.get("revision")) + via, str(sum(counts.values())), described])
    return rows


def summary(title: str, result: dict) -> str:
    """Return the tables of one audit: revisions, tags, pods per sidecar, and namespaces."""
    mesh, audit = result["mesh"], result["audit"]
    revisions = [[r["name"], text(r.get("version")), f"{r.get('ready_replicas', 0)}/{r.get('replicas', 0)}"] for r in mesh.get("revisions", [])]
    tags = [[t["name"], t["revision"]] for t in mesh.get("tags", [])]
    by_sidecar = collections.Counter(sidecar(pod) for pod in audit.get("pods", []))
    parts = [
        f"==== {title}",
        f"default revision: {text(mesh.get('default_revision'))}; default validator: {text(mesh.get('default_validator_revision'))}",
        "control plane revisions:",
        table(["REVISION", "VERSION", "READY"], revisions) if revisions else "    (none)",
        "revision tags:",
        table(["TAG", "REVISION"], tags) if tags else "    (none)",
        "pods per sidecar:",
        table(["SIDECAR REVISION (VERSION)", "PODS"], [[kind, str(count)] for kind, count in sorted(by_sidecar.items())]),
        "namespaces:",
        table(["NAMESPACE", "INJECTION", "NEW PODS GET", "PODS", "SIDECARS"], namespace_rows(mesh, audit)),
        "",
    ]
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    """Print the summary of the JSON file named in ``argv``; return the exit code."""
    if len(argv) != 2:
        sys.stderr.write("usage: summary.py TITLE AUDIT.json\n")
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        result = json.load(handle)
    sys.stdout.write(summary(argv[0], result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
