"""Helpers for the mesh_control_plane tests: run the module in-process as Ansible does, and write manifests."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from ansible.module_utils import basic

from ansible_collections.meshops.istio.plugins.modules import mesh_control_plane
from tests.simcluster import CHARTS_DIR

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HELM = os.path.join(REPO_ROOT, ".tools", "bin", "helm")
# the simulated cluster's test charts (its istioctl stand-in is the fixture istioctl_standin)
CHART = os.path.join(CHARTS_DIR, "istiod")
BASE_CHART = os.path.join(CHARTS_DIR, "base")
# the sample mesh runs OLD (the old_mesh fixture, tests/modules/conftest.py); the tests install NEW beside it
OLD, OLD_VERSION = "1-28-1", "1.28.1"
NEW, NEW_VERSION = "1-29-2", "1.29.2"


def run_module(monkeypatch, capsys, args: dict, check: bool = False, diff: bool = False) -> dict:
    """Run mesh_control_plane's main() with ``args`` as Ansible passes them; return its JSON result."""
    payload = {"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=check, _ansible_diff=diff)}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps(payload).encode("utf-8"))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
    capsys.readouterr()
    with pytest.raises(SystemExit):
        mesh_control_plane.main()
    return json.loads(capsys.readouterr().out)


def write_manifest(path, objects: list[dict]) -> str:
    """Write ``objects`` as a multi-document YAML file; return its path."""
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump_all(objects, handle)
    return str(path)


def write_summary(sim) -> list[str]:
    """The persisting writes, as ``VERB resource namespace/name``."""
    return ["%s %s %s/%s" % (r.verb, r.resource, r.namespace, r.name) for r in sim.writes()]
