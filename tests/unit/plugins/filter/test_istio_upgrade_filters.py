"""The filters of the upgrade playbooks: version moves, revision names and the record's gateways_before."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.filter.istio_upgrade import (
    istio_gateways_before,
    istio_input_problems,
    istio_move_attention,
    istio_record_state,
    istio_revision_of,
    istio_upgrade_problems,
)
from ansible_collections.meshops.istio.plugins.module_utils.istio.lifecycle import requested_revision


@pytest.mark.parametrize("source, target, problem", [
    ("1.27.3", "1.28.1", None),
    ("1.27.3", "1.29.0", None),
    ("1.27.3", "1.30.0", "spans 3 minor versions"),
    ("1.28.1", "1.28.1", "the version the source revision already runs: there is nothing to upgrade"),
    ("1.28.1", "1.27.3", "not newer"),
    ("1.27.3", "2.0.0", "major version"),
    ("1.27.3", "latest", "is not an Istio version"),
    (None, "1.28.1", None),
])
def test_upgrade_problems(source, target, problem):
    problems = istio_upgrade_problems(source, target)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


@pytest.mark.parametrize("version, revision", [("1.29.2", "1-29-2"), ("v1.29.0-rc.1", "1-29-0-rc-1"), ("1.29.2-distroless", "1-29-2"),
                                               ("", "")])
def test_revision_of(version, revision):
    assert istio_revision_of(version) == revision


@pytest.mark.parametrize("version", ["1.29.2", "v1.29.2", "1.29.2-distroless", "1.29.0-rc.1", "1.29.0-rc.1-debug", "1.30-dev"])
def test_role_and_modules_derive_the_same_revision(version):
    """The role's filter and mesh_control_plane's derivation (lifecycle.requested_revision) never disagree."""
    assert istio_revision_of(version) == requested_revision(None, version)[0]


def test_gateways_before():
    gateways = [{"namespace": "istio-ingress", "name": "gw", "label_before": "1-27-3"},
                {"namespace": "edge", "name": "egress", "label_before": None}]
    assert istio_gateways_before(gateways) == {"istio-ingress/gw": {"istio.io/rev": "1-27-3"}, "edge/egress": {}}


def test_every_filter_is_documented(tmp_path):
    """``ansible-doc -t filter`` shows each filter the collection registers with its documentation, none undocumented."""
    import json
    import os
    import subprocess

    from ansible_collections.meshops.istio.plugins.filter.istio_upgrade import FilterModule
    from tests.ansible_runner import BIN, ansible_env

    names = sorted("meshops.istio." + name for name in FilterModule().filters())
    assert "meshops.istio.istio_record_state" in names
    completed = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", "filter", "--json", *names], capture_output=True,
                               text=True, env=ansible_env(tmp_path), check=False, timeout=120)
    assert completed.returncode == 0, completed.stderr
    docs = json.loads(completed.stdout)
    assert sorted(docs) == names
    for name, doc in docs.items():
        documentation = doc["doc"]
        assert documentation["name"] == name.rsplit(".", 1)[1]
        assert documentation["short_description"] and documentation["description"]
        assert "_input" in documentation["options"]
        assert doc["examples"] and "_value" in doc["return"]
    listed = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", "filter", "-l", "meshops.istio"], capture_output=True,
                            text=True, env=ansible_env(tmp_path), check=False, timeout=120)
    assert "UNDOCUMENTED" not in listed.stdout + listed.stderr
    assert sorted(line.split()[0] for line in listed.stdout.splitlines() if line.strip()) == names


def test_input_problems_with_and_without_the_cluster_namespaces():
    values = {"istio_data_plane_namespaces": ["bookinfo", "nope"], "istio_restart_batch_size": 0}
    assert istio_input_problems(values) == ["istio_restart_batch_size is 0: it must be at least 1"]
    assert istio_input_problems(values, ["bookinfo"])[1].startswith("istio_data_plane_namespaces names nope that does not exist")


def test_input_problems_refuse_the_old_names_of_renamed_variables():
    problems = istio_input_problems({"istio_restart_batch_size": 5}, variables=["istio_namespace", "istio_target_version"])
    assert len(problems) == 1 and problems[0].startswith("istio_namespace was renamed istio_control_plane_namespace")
    assert istio_input_problems({}, variables=["istio_control_plane_namespace"]) == []


def test_move_attention_lines_leave_out_the_gateways_the_gateways_stage_moves():
    entries = [{"namespace": "edge", "kind": "Deployment", "name": "gw", "issue": "pins_revision", "pods": ["gw-1"], "action": "a"},
               {"namespace": "shop", "kind": "StatefulSet", "name": "db", "issue": "on_delete", "pods": ["db-0"], "action": "b"}]
    assert istio_move_attention(entries, [{"name": "gw", "namespace": "edge"}]) == ["shop/StatefulSet/db (db-0): b"]
    assert len(istio_move_attention(entries, [{"name": "gw", "namespace": "other"}])) == 2


def test_record_state_of_the_record_as_the_module_returns_it():
    """The filter takes upgrade_record's ``record`` (``{}`` when there is none) and the run's target revision."""
    record = {"source": {"revision": "1-27-3", "version": "1.27.3"}, "target": {"revision": "1-28-1", "version": "1.28.1"},
              "stage": "control_plane", "finalize": {}}
    assert istio_record_state(record, "1-28-1")["reached"] == ["preflight", "control_plane"]
    assert istio_record_state(record, "1-29-0")["in_progress"] and not istio_record_state(record, "1-29-0")["matches"]
    assert istio_record_state(None, "1-28-1")["stage"] == ""
