"""Print what ``meshops.istio.mesh_info`` returned (saved as JSON by scripts/demo/mesh_info.yml) as readable tables.

Usage: python scripts/demo/summary.py MESH_INFO.json
"""

from __future__ import annotations

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


def summary(result: dict) -> str:
    """Return the summary of one mesh_info result."""
    revisions = [[r["name"], text(r.get("version")), f"{r.get('ready_replicas', 0)}/{r.get('replicas', 0)}",
                  "yes" if r.get("ready") else "no", r["deployment"]] for r in result.get("revisions", [])]
    tags = [[t["name"], t["revision"], t["configuration"]] for t in result.get("tags", [])]
    namespaces = [[n["name"], text(n.get("istio_injection")), text(n.get("rev_label")), n["injection"],
                   text(n.get("revision")), text(n.get("tag"))] for n in result.get("namespaces", [])]
    parts = [
        f"mesh_info: {result.get('msg', '')}",
        "",
        f"default revision: {text(result.get('default_revision'))} (from {text(result.get('default_revision_source'))}); "
        f"default validator: {text(result.get('default_validator_revision'))}",
        "",
        "revisions:",
        table(["REVISION", "VERSION", "READY", "ROLLED OUT", "DEPLOYMENT"], revisions) if revisions else "    (none)",
        "",
        "tags:",
        table(["TAG", "REVISION", "WEBHOOK CONFIGURATION"], tags) if tags else "    (none)",
        "",
        "namespaces (which revision injects a new pod):",
        table(["NAMESPACE", "istio-injection", "istio.io/rev", "MEANING", "REVISION", "VIA TAG"], namespaces) if namespaces else "    (none)",
    ]
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    """Print the summary of the JSON file named in ``argv``; return the exit code."""
    if len(argv) != 1:
        sys.stderr.write("usage: summary.py MESH_INFO.json\n")
        return 2
    with open(argv[0], encoding="utf-8") as handle:
        result = json.load(handle)
    sys.stdout.write(summary(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
