"""Helpers for the mesh_control_plane tests: the charts, versions and manifests they use (the module runs in the fixture run)."""

from __future__ import annotations

import os

import yaml

from tests.ansible_runner import TOOLS_BIN
from tests.simcluster import CHARTS_DIR

HELM = os.path.join(TOOLS_BIN, "helm")
# the simulated cluster's test charts (its istioctl stand-in is the fixture istioctl_standin)
CHART = os.path.join(CHARTS_DIR, "istiod")
BASE_CHART = os.path.join(CHARTS_DIR, "base")
# the sample mesh runs OLD (the old_mesh fixture, tests/modules/conftest.py); the tests install NEW beside it
OLD, OLD_VERSION = "1-28-1", "1.28.1"
NEW, NEW_VERSION = "1-29-2", "1.29.2"


def write_manifest(path, objects: list[dict]) -> str:
    """Write ``objects`` as a multi-document YAML file; return its path."""
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump_all(objects, handle)
    return str(path)


def write_summary(sim) -> list[str]:
    """The persisting writes, as ``VERB resource namespace/name``."""
    return ["%s %s %s/%s" % (r.verb, r.resource, r.namespace, r.name) for r in sim.writes()]
