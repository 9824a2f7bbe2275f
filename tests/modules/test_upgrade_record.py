"""upgrade_record against the simulated cluster over HTTPS: the stored ConfigMap, optimistic concurrency between two
writers, check mode, idempotence, refusals before any write, and a real ansible-playbook run."""

from __future__ import annotations

import json

import pytest

from ansible_collections.meshops.istio.plugins.modules import upgrade_record
from tests.simcluster.fixtures import mesh

SOURCE = {"revision": "1-27-3", "version": "1.27.3"}
TARGET = {"revision": "1-29-2", "version": "1.29.2"}
NAME = "meshops-istio-upgrade"
CONFLICT = ("the upgrade record ConfigMap istio-system/%s was changed by someone else since this run read it; re-run to "
            "continue from its current state" % NAME)


@pytest.fixture
def cluster(sim):
    """An empty istio-system namespace; empty request log."""
    sim.load([mesh.namespace("istio-system")])
    sim.clear_requests()
    return sim


def stored(sim):
    return sim.store.get("configmaps", "istio-system", NAME)


def test_records_an_upgrade_stage_by_stage(cluster, sim_auth, run_module):
    sim = cluster
    query = run_module(upgrade_record.main, sim_auth).result
    assert (query["changed"], query["exists"], query["record"], query["resource_version"]) == (False, False, {}, None)

    start = run_module(upgrade_record.main, dict(sim_auth, state="present", stage="preflight",
                                                 record={"source": SOURCE, "target": TARGET, "operator": "alice"}), diff=True).result
    assert start["changed"] is True and start["exists"] is True
    assert start["msg"] == ("ConfigMap istio-system/%s created: 1-27-3 (1.27.3) -> 1-29-2 (1.29.2), stage preflight (in_progress)" % NAME)
    config = stored(sim)
    assert config["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "meshops.istio"}
    assert config["metadata"]["resourceVersion"] == start["resource_version"]
    assert {k: v for k, v in config["data"].items() if k != "record"} == {
        "stage": "preflight", "status": "in_progress", "source": "1-27-3 (1.27.3)", "target": "1-29-2 (1.29.2)"}
    record = json.loads(config["data"]["record"])
    assert record == start["record"]
    assert (record["source"], record["target"], record["operator"]) == (SOURCE, TARGET, "alice")
    assert [(h["stage"], h["result"]) for h in record["history"]] == [("preflight", "in_progress")]
    assert record["started"] == record["updated"] and record["started"].endswith("Z")
    assert start["diff"]["before"] == {} and start["diff"]["after"]["stage"] == "preflight"

    # the data plane stage remembers the labels before; a re-run keeps the first values it recorded
    version = start["resource_version"]
    before = {"shop": {"istio.io/rev": "1-27-3"}, "bookinfo": {"istio-injection": "enabled", "istio.io/rev": None}}
    data_plane = run_module(upgrade_record.main, dict(sim_auth, state="present", stage="data_plane", expected_resource_version=version,
                                                      record={"namespaces_before": before, "tags_before": {"prod-stable": "1-27-3"}})).result
    assert data_plane["changed"] is True and data_plane["resource_version"] != version
    rerun = run_module(upgrade_record.main, dict(sim_auth, state="present", stage="data_plane",
                                                 expected_resource_version=data_plane["resource_version"],
                                                 record={"namespaces_before": {"shop": {"istio.io/rev": "1-29-2"},
                                                                               "tagged": {"istio.io/rev": "prod-stable"}}})).result
    assert rerun["record"]["namespaces_before"] == dict(before, tagged={"istio.io/rev": "prod-stable"})

    # the same write again changes nothing and sends nothing but the read
    sim.clear_requests()
    same = run_module(upgrade_record.main, dict(sim_auth, state="present", stage="data_plane",
                                                record={"namespaces_before": before, "status": "in_progress"})).result
    assert same["changed"] is False and same["resource_version"] == rerun["resource_version"]
    assert [(r.method, r.verb) for r in sim.requests if r.resource] == [("GET", "get")]

    for stage in ("verify", "finalized"):
        result = run_module(upgrade_record.main, dict(sim_auth, state="present", stage=stage)).result
    assert (result["record"]["stage"], result["record"]["status"]) == ("finalized", "done")
    assert [h["stage"] for h in result["record"]["history"]] == ["preflight", "data_plane", "verify", "finalized"]

    # after finalize: no rollback; a new upgrade starts a new record
    late = run_module(upgrade_record.main, dict(sim_auth, state="present", stage="rolling_back"))
    assert late.failed and late.result["msg"] == (
        "cannot write the upgrade record ConfigMap istio-system/%s: cannot record stage rolling_back after finalized: the "
        "upgrade was finalized: nothing but finalized can be recorded, and it can no longer be rolled back; start a new "
        "upgrade (stage preflight) instead" % NAME)
    fresh = run_module(upgrade_record.main, dict(sim_auth, state="present", stage="preflight",
                                                 record={"source": TARGET, "target": {"revision": "1-30-0", "version": "1.30.0"}})).result
    assert fresh["record"]["namespaces_before"] == {} and [h["stage"] for h in fresh["record"]["history"]] == ["preflight"]

    gone = run_module(upgrade_record.main, dict(sim_auth, state="absent")).result
    assert gone["changed"] is True and gone["exists"] is False and stored(sim) is None
    assert run_module(upgrade_record.main, dict(sim_auth, state="absent")).result["changed"] is False


def test_two_writers_the_second_gets_the_conflict(cluster, sim_auth, run_module):
    sim = cluster
    first = run_module(upgrade_record.main, dict(sim_auth, state="present", stage="preflight",
                                                 record={"source": SOURCE, "target": TARGET})).result
    read_by_both = first["resource_version"]
    alice = run_module(upgrade_record.main, dict(sim_auth, state="present", stage="control_plane",
                                                 expected_resource_version=read_by_both)).result
    assert alice["changed"] is True
    sim.clear_requests()
    bob = run_module(upgrade_record.main, dict(sim_auth, state="present", stage="data_plane", expected_resource_version=read_by_both))
    assert bob.failed and bob.result["msg"] == CONFLICT + " (expected resourceVersion %s, found %s)" % (
        read_by_both, alice["resource_version"])
    assert sim.writes(persisting_only=False) == []
    assert json.loads(stored(sim)["data"]["record"])["stage"] == "control_plane"


def test_a_lost_race_between_read_and_write_is_a_conflict(cluster, sim_auth, run_module):
    sim = cluster
    run_module(upgrade_record.main, dict(sim_auth, state="present", stage="preflight", record={"target": TARGET}))
    sim.add_fault(method="PUT", path="/configmaps/%s$" % NAME, status=409, message="the object has been modified")
    run = run_module(upgrade_record.main, dict(sim_auth, state="present", stage="control_plane"))
    assert run.failed and run.result["msg"] == CONFLICT
    assert json.loads(stored(sim)["data"]["record"])["stage"] == "preflight"


def test_check_mode_persists_nothing(cluster, sim_auth, run_module):
    sim = cluster
    run = run_module(upgrade_record.main, dict(sim_auth, state="present", stage="preflight", record={"target": TARGET}),
                     check_mode=True, diff=True)
    assert run.result["changed"] is True and run.result["msg"].startswith("ConfigMap istio-system/%s would be created" % NAME)
    assert run.result["resource_version"] is None and run.result["record"]["stage"] == "preflight"
    assert sim.writes() == [] and [w.dry_run for w in sim.writes(persisting_only=False)] == [True]
    assert stored(sim) is None

    run_module(upgrade_record.main, dict(sim_auth, state="present", stage="preflight", record={"target": TARGET}))
    sim.clear_requests()
    for args in (dict(state="present", stage="control_plane"), dict(state="absent")):
        assert run_module(upgrade_record.main, dict(sim_auth, **args), check_mode=True).result["changed"] is True
    assert sim.writes() == [] and len(sim.writes(persisting_only=False)) == 2
    assert json.loads(stored(sim)["data"]["record"])["stage"] == "preflight"


@pytest.mark.parametrize("args, message", [
    (dict(state="present", record={"target": {"revision": "1-30-0"}}),
     "an upgrade from 1-27-3 (1.27.3) to 1-29-2 (1.29.2) is in progress (stage data_plane); a different target (1-30-0) cannot start"),
    (dict(state="present", stage="rolled_back"), "rolled_back can only follow rolling_back"),
    (dict(state="present", stage="verify", record={"stage": "gateways"}), "conflicting options: stage=verify but record.stage=gateways"),
    (dict(state="present", record={"target": {"revision": "1.30.0"}}), "target.revision '1.30.0' is not a DNS-1123 label"),
    (dict(state="present", record={"history": []}), "record field history is kept by the module; do not set it"),
    (dict(state="present", record={"colour": "blue"}), "unknown record field colour"),
    (dict(state="query", stage="verify"), "record and stage are options of state=present"),
    (dict(state="present", stage="verify", expected_resource_version="1"), "was changed by someone else since this run read it"),
])
def test_refuses_before_any_write(cluster, sim_auth, run_module, args, message):
    run_module(upgrade_record.main, dict(sim_auth, state="present", stage="data_plane", record={"source": SOURCE, "target": TARGET}))
    cluster.clear_requests()
    run = run_module(upgrade_record.main, dict(sim_auth, **args))
    assert run.failed and message in run.result["msg"], run.result["msg"]
    assert cluster.writes(persisting_only=False) == []


def test_not_a_record_and_no_access(cluster, sim_auth, run_module):
    cluster.store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": NAME, "namespace": "istio-system"},
                          "data": {"other": "x"}})
    run = run_module(upgrade_record.main, sim_auth)
    assert run.failed and run.result["msg"] == ("ConfigMap istio-system/%s has no data.record: it is not an upgrade record; "
                                                "delete it or pick another name" % NAME)
    cluster.add_fault(method="GET", path="/configmaps/other$", status=403, message="no access")
    run = run_module(upgrade_record.main, dict(sim_auth, name="other"))
    assert run.failed and run.result["msg"].startswith('forbidden: cannot get configmaps "other" in namespace istio-system')


def test_a_record_that_does_not_fit_the_schema_is_named_on_read_and_can_be_deleted(cluster, sim_auth, run_module):
    record = {"source": SOURCE, "target": 3, "stage": "data_plane", "namespaces_before": {"shop": "enabled"}}
    cluster.store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": NAME, "namespace": "istio-system"},
                          "data": {"record": json.dumps(record)}})
    for args in ({}, {"state": "present", "stage": "verify", "record": {"source": SOURCE, "target": TARGET}}):
        run = run_module(upgrade_record.main, dict(sim_auth, **args))
        assert run.failed, run.result
        assert run.result["msg"].startswith("ConfigMap istio-system/%s holds an upgrade record that does not fit its schema: "
                                            "namespaces_before.shop must be a dict of labels; target must be a dict with "
                                            "revision and version." % NAME), run.result["msg"]
        assert "delete it (meshops.istio.upgrade_record state=absent" in run.result["msg"]
    assert cluster.writes() == []
    deleted = run_module(upgrade_record.main, dict(sim_auth, state="absent")).result
    assert deleted["changed"] is True and stored(cluster) is None


def test_as_ansible_runs_it_chaining_the_resource_version(cluster, sim_kubeconfig, tmp_path, ansible_playbook):
    out = tmp_path / "result.json"
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/meshops.istio.istio:
      kubeconfig: {sim_kubeconfig}
  tasks:
    - name: Read the record
      meshops.istio.upgrade_record:
      register: istio__record
    - name: Start the upgrade
      meshops.istio.upgrade_record:
        state: present
        stage: preflight
        record:
          source: {json.dumps(SOURCE)}
          target: {json.dumps(TARGET)}
        expected_resource_version: "{{{{ istio__record.resource_version }}}}"
      register: istio__record
    - name: Reach the control plane stage
      meshops.istio.upgrade_record:
        state: present
        stage: control_plane
        expected_resource_version: "{{{{ istio__record.resource_version }}}}"
      register: istio__record
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{{{ istio__record | to_json }}}}"
        dest: {out}
        mode: "0600"
      check_mode: false
""")
    checked = ansible_playbook(playbook, "--check", "--diff")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert cluster.writes() == [] and stored(cluster) is None

    completed = ansible_playbook(playbook)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(out.read_text())
    assert result["changed"] is True and result["record"]["stage"] == "control_plane"
    assert result["resource_version"] == stored(cluster)["metadata"]["resourceVersion"]


@pytest.mark.parametrize("stage", ["finalized", "rolling_back", "rolled_back"])
def test_no_new_record_at_an_end_stage(cluster, sim_auth, run_module, stage):
    """Without a record there is nothing to finalize or roll back: refused, and nothing written."""
    run = run_module(upgrade_record.main, dict(sim_auth, state="present", stage=stage, record={"source": SOURCE, "target": TARGET}))
    assert run.failed and "a new upgrade starts at one of preflight, control_plane, data_plane, gateways, verify" in run.result["msg"], run.result
    assert stored(cluster) is None and not cluster.writes()
