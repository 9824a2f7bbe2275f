"""The upgrade record: schema checks, stage transitions, merging a run's fields into the stored record."""

from __future__ import annotations

import json

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio import record as rec

NOW, LATER = "2026-05-04T10:00:00Z", "2026-05-04T11:00:00Z"
SOURCE = {"revision": "1-27-3", "version": "1.27.3"}
TARGET = {"revision": "1-29-2", "version": "1.29.2"}


def at(stage, status="in_progress", **fields):
    """A stored record of the upgrade SOURCE -> TARGET at ``stage`` (as read from the cluster).

    A new record cannot start at an end stage (finalized, rolling_back, rolled_back), so such a record is one
    started at preflight with its stage then set, as the role's runs would have left it.
    """
    if stage in rec.UPGRADE_STAGES:
        return rec.merge(None, dict(fields, source=SOURCE, target=TARGET, stage=stage, status=status), NOW)[0]
    record = rec.merge(None, dict(fields, source=SOURCE, target=TARGET, stage="preflight", status=status), NOW)[0]
    record["stage"] = stage
    record["status"] = status
    record["history"][-1]["stage"] = stage
    return record


@pytest.mark.parametrize("fields, problem", [
    ({"stage": "halfway"}, "stage 'halfway' is not one of preflight, control_plane"),
    ({"status": "ok"}, "status 'ok' is not one of in_progress, done, failed"),
    ({"target": "1-29-2"}, "target must be a dict with revision and version"),
    ({"target": {"revision": "1-29-2", "tag": "x"}}, "target has an unknown key tag"),
    ({"source": {"revision": "1.27.3"}}, "source.revision '1.27.3' is not a DNS-1123 label"),
    ({"source": {"version": 1.27}}, "source.version must be a string"),
    ({"namespaces_before": ["shop"]}, "namespaces_before must be a dict, not list"),
    ({"gateways_before": {"istio-ingress/gw": "1-27-3"}}, "gateways_before.istio-ingress/gw must be a dict of labels"),
    ({"tags_before": {"prod": {"rev": "x"}}}, "tags_before.prod must be a revision (string) or null"),
    ({"waves": "shop"}, "waves must be a list, not str"),
    ({"operator": 7}, "operator must be a string"),
    ({"updated": NOW}, "record field updated is kept by the module"),
    ({"colour": "blue"}, "unknown record field colour"),
])
def test_field_problems(fields, problem):
    problems = rec.field_problems(fields)
    assert len(problems) == 1 and problem in problems[0], problems


def test_valid_fields_have_no_problems():
    assert rec.field_problems({"source": SOURCE, "target": TARGET, "stage": "verify", "status": "failed",
                               "namespaces_before": {"shop": {"istio.io/rev": None}}, "gateways_before": {"a/b": {}},
                               "tags_before": {"prod": None, "default": "1-27-3"}, "waves": [["shop"]], "operator": "bob"}) == []


@pytest.mark.parametrize("current, new, allowed", [
    (None, "data_plane", True),
    ("preflight", "verify", True),
    ("verify", "preflight", True),           # a re-run of the playbook starts again at preflight
    ("gateways", "finalized", True),
    ("data_plane", "rolling_back", True),
    ("rolling_back", "rolled_back", True),
    ("rolled_back", "rolling_back", True),    # a rollback may be run again
    ("finalized", "finalized", True),
    ("finalized", "rolling_back", False),
    ("finalized", "verify", False),
    ("rolled_back", "finalized", False),
    ("rolled_back", "data_plane", False),
    ("rolling_back", "data_plane", False),
    ("rolling_back", "finalized", False),
    ("verify", "rolled_back", False),
])
def test_transitions(current, new, allowed):
    assert (rec.transition_problem(current, new) is None) is allowed


def test_new_record_has_every_field_and_one_history_entry():
    record, changed = rec.merge(None, {"target": TARGET, "stage": "preflight"}, NOW)
    assert changed and set(record) == set(rec.empty_record())
    assert (record["stage"], record["status"], record["started"], record["updated"]) == ("preflight", "in_progress", NOW, NOW)
    assert record["history"] == [{"stage": "preflight", "time": NOW, "result": "in_progress"}]
    assert record["source"] == {"revision": None, "version": None} and record["target"] == TARGET


def test_before_maps_keep_the_first_value_and_gain_new_keys():
    stored = at("data_plane", namespaces_before={"shop": {"istio.io/rev": "1-27-3"}}, tags_before={"prod": "1-27-3"})
    merged, changed = rec.merge(stored, {"namespaces_before": {"shop": {"istio.io/rev": "1-29-2"}, "tagged": {"istio.io/rev": "prod"}},
                                         "tags_before": {"prod": "1-29-2"}}, LATER)
    assert changed
    assert merged["namespaces_before"] == {"shop": {"istio.io/rev": "1-27-3"}, "tagged": {"istio.io/rev": "prod"}}
    assert merged["tags_before"] == {"prod": "1-27-3"}
    assert merged["updated"] == LATER and merged["started"] == NOW


def test_unchanged_write_keeps_updated_and_history():
    stored = at("verify", waves=[["shop"]])
    merged, changed = rec.merge(stored, {"stage": "verify", "status": "in_progress", "waves": [["shop"]], "target": TARGET}, LATER)
    assert not changed and merged == stored


@pytest.mark.parametrize("fields, stage, status, entries", [
    ({"stage": "gateways"}, "gateways", "in_progress", 2),
    ({"status": "failed"}, "data_plane", "failed", 2),
    ({"stage": "finalized"}, "finalized", "done", 2),
    ({"stage": "rolling_back", "status": "failed"}, "rolling_back", "failed", 2),
    ({"operator": "bob"}, "data_plane", "in_progress", 1),
])
def test_stage_and_status_moves(fields, stage, status, entries):
    merged, changed = rec.merge(at("data_plane"), fields, LATER)
    assert changed and (merged["stage"], merged["status"], len(merged["history"])) == (stage, status, entries)
    assert merged["history"][-1]["result"] == status


@pytest.mark.parametrize("stored_stage, fields, fragment", [
    ("data_plane", {"target": {"revision": "1-30-0"}}, "an upgrade from 1-27-3 (1.27.3) to 1-29-2 (1.29.2) is in progress"),
    ("verify", {"stage": "rolled_back"}, "rolled_back can only follow rolling_back"),
    ("finalized", {"stage": "data_plane"}, "cannot record stage data_plane after finalized"),
    ("rolled_back", {"stage": "verify"}, "the upgrade was rolled back; start a new upgrade"),
])
def test_refused_writes(stored_stage, fields, fragment):
    with pytest.raises(rec.RecordError) as raised:
        rec.merge(at(stored_stage), fields, LATER)
    assert fragment in str(raised.value)


@pytest.mark.parametrize("stored_stage, fields", [
    ("finalized", {"stage": "preflight"}),
    ("rolled_back", {"stage": "preflight", "target": TARGET}),
    ("rolled_back", {"target": {"revision": "1-30-0"}}),
])
def test_closed_record_is_replaced_by_a_new_upgrade(stored_stage, fields):
    stored = at(stored_stage, namespaces_before={"shop": {"istio.io/rev": "1-27-3"}})
    merged, changed = rec.merge(stored, fields, LATER)
    assert changed and merged["namespaces_before"] == {} and merged["started"] == LATER


def test_data_round_trip_and_readable_keys():
    record = at("gateways")
    data = rec.to_data(record)
    assert {k: v for k, v in data.items() if k != "record"} == {
        "stage": "gateways", "status": "in_progress", "source": "1-27-3 (1.27.3)", "target": "1-29-2 (1.29.2)"}
    assert rec.from_data(data, "ConfigMap x/y") == record


@pytest.mark.parametrize("data, fragment", [
    ({}, "has no data.record"),
    ({"record": "{not json"}, "holds data.record that is not JSON"),
    ({"record": json.dumps([1])}, "that is not a JSON object"),
])
def test_from_data_rejects_what_is_not_a_record(data, fragment):
    with pytest.raises(rec.RecordError) as raised:
        rec.from_data(data, "ConfigMap istio-system/r")
    assert fragment in str(raised.value) and "ConfigMap istio-system/r" in str(raised.value)


@pytest.mark.parametrize("stored_stage, stage", [
    (None, "finalized"), (None, "rolling_back"), (None, "rolled_back"),
    ("rolled_back", "finalized"),
])
def test_no_new_record_at_an_end_stage(stored_stage, stage):
    """A new upgrade's record starts at an upgrade stage: there is nothing to finalize or roll back yet."""
    stored = at(stored_stage) if stored_stage else None
    with pytest.raises(rec.RecordError) as raised:
        rec.merge(stored, {"stage": stage, "source": SOURCE, "target": {"revision": "1-30-0", "version": "1.30.0"}}, LATER)
    assert "a new upgrade starts at one of preflight" in str(raised.value)


def test_finalized_again_is_no_new_record():
    merged, changed = rec.merge(at("finalized"), {"stage": "finalized"}, LATER)
    assert merged["stage"] == "finalized" and not changed


@pytest.mark.parametrize("value, problem", [
    ("move_default", "finalize must be a dict"),
    ({"step": "tag_moved"}, "finalize.step 'tag_moved' is not one of move_default, remove_source, done"),
    ({"step": "done", "when": NOW}, "finalize has an unknown key when"),
])
def test_finalize_journal_problems(value, problem):
    problems = rec.field_problems({"finalize": value})
    assert len(problems) == 1 and problem in problems[0], problems


def test_finalize_journal_moves_forward_through_its_steps_to_finalized():
    """Finalize records each step before its write; a re-run records the same step again without a change."""
    record = at("verify")
    assert record["finalize"] == {} and rec.finalize_step(record) is None
    for step in ("move_default", "move_default", "remove_source"):
        record, _changed = rec.merge(record, {"finalize": {"step": step}}, LATER)
        assert (rec.finalize_step(record), record["stage"]) == (step, "verify")
    record, changed = rec.merge(record, {"finalize": {"step": "done"}, "stage": "finalized"}, LATER)
    assert changed and (rec.finalize_step(record), record["stage"], record["status"]) == ("done", "finalized", "done")
    assert rec.merge(record, {"stage": "finalized", "finalize": {"step": "done"}}, LATER) == (record, False)


@pytest.mark.parametrize("step, fields, fragment", [
    ("remove_source", {"finalize": {"step": "move_default"}}, "finalize already reached step remove_source"),
    ("move_default", {"finalize": {}}, "finalize already reached step move_default"),
    ("move_default", {"stage": "rolling_back"}, "cannot record stage rolling_back: finalize has started (step move_default)"),
    ("remove_source", {"stage": "finalized"}, "cannot record stage finalized while finalize is at step remove_source"),
    ("remove_source", {"finalize": {"step": "done"}}, "cannot record finalize step done at stage verify"),
    (None, {"finalize": {"step": "move_default"}, "stage": "rolling_back"}, "the upgrade is being rolled back"),
])
def test_finalize_journal_refuses(step, fields, fragment):
    stored = at("verify", finalize={"step": step}) if step else at("verify")
    with pytest.raises(rec.RecordError) as raised:
        rec.merge(stored, fields, LATER)
    assert fragment in str(raised.value)


def test_a_rollback_in_progress_takes_no_finalize_step():
    with pytest.raises(rec.RecordError) as raised:
        rec.merge(at("rolling_back"), {"finalize": {"step": "move_default"}}, LATER)
    assert "the upgrade is being rolled back (stage rolling_back)" in str(raised.value)


def test_a_new_upgrade_after_finalize_starts_with_an_empty_journal():
    finalized = rec.merge(at("verify", finalize={"step": "remove_source"}), {"stage": "finalized", "finalize": {"step": "done"}}, NOW)[0]
    merged, _changed = rec.merge(finalized, {"stage": "preflight", "target": {"revision": "1-30-0", "version": "1.30.0"}}, LATER)
    assert merged["finalize"] == {} and merged["stage"] == "preflight"


@pytest.mark.parametrize("fields, fragments", [
    ({"namespaces_before": 5}, ["namespaces_before must be a dict, not int"]),
    ({"target": 3}, ["target must be a dict"]),
    ({"namespaces_before": {"bookinfo": "enabled"}}, ["namespaces_before.bookinfo must be a dict of labels"]),
    ({"stage": "half_done"}, ["stage 'half_done' is not one of"]),
    ({"waves": {"a": 1}}, ["waves must be a list"]),
    ({"history": 7}, ["history must be a list of mappings, not int"]),
    ({"started": 12}, ["started must be a time (string) or null, not int"]),
    ({"finalize": [1]}, ["finalize must be a dict"]),
    ({"colour": "red"}, ["unknown record field colour"]),
])
def test_from_data_names_each_field_that_does_not_fit_the_schema(fields, fragments):
    record = dict(at("data_plane"), **fields)
    with pytest.raises(rec.RecordError) as raised:
        rec.from_data({"record": json.dumps(record)}, "ConfigMap istio-system/r")
    message = str(raised.value)
    assert all(fragment in message for fragment in fragments), message
    assert "ConfigMap istio-system/r" in message and "delete it" in message


def test_from_data_accepts_a_finalize_mapping_and_null_stage_fields():
    record = dict(at("verify"), finalize={"step": "move_default"}, operator=None)
    assert rec.from_data(rec.to_data(record), "ConfigMap x/y")["finalize"] == {"step": "move_default"}
    assert rec.from_data({"record": json.dumps({"stage": None, "status": None})}, "ConfigMap x/y")["stage"] is None


@pytest.mark.parametrize("record, target, expected", [
    (None, "1-29-2", {"matches": False, "in_progress": False, "active": False, "stage": "", "reached": [], "finalized": False,
                      "finalize_step": "", "finalize_recorded": [], "finalizing": False}),
    ({}, "", {"matches": True, "in_progress": False, "active": True, "stage": "", "reached": []}),
    (at("preflight"), "1-29-2", {"matches": True, "in_progress": True, "active": True, "stage": "preflight",
                                 "reached": ["preflight"], "finalized": False}),
    (at("data_plane"), "1-29-2", {"active": True, "stage": "data_plane", "reached": ["preflight", "control_plane", "data_plane"]}),
    (at("verify"), "1-29-2", {"reached": ["preflight", "control_plane", "data_plane", "gateways", "verify"]}),
    # another target's open upgrade: in progress, but not this run's
    (at("data_plane"), "1-30-0", {"matches": False, "in_progress": True, "active": False, "stage": "", "reached": [],
                                  "source": {"revision": "", "version": ""}, "tags_before": {}}),
    (dict(at("finalized", "done"), finalize={"step": "done"}), "1-29-2",
     {"in_progress": False, "active": True, "stage": "finalized", "finalized": True, "finalize_step": "done",
      "finalize_recorded": ["move_default", "remove_source", "done"], "finalizing": False,
      "reached": ["preflight", "control_plane", "data_plane", "gateways", "verify", "finalized"]}),
    (at("verify", finalize={"step": "move_default"}), "1-29-2",
     {"finalizing": True, "finalized": False, "finalize_step": "move_default", "finalize_recorded": ["move_default"]}),
    (at("verify", finalize={"step": "remove_source"}), "1-29-2",
     {"finalizing": True, "finalize_recorded": ["move_default", "remove_source"]}),
    # a finalize journal of another target's upgrade is not this run's finalize
    (at("verify", finalize={"step": "move_default"}), "1-30-0", {"finalizing": False, "finalize_recorded": ["move_default"]}),
    # a rollback under way: this upgrade's, still active, but no upgrade stage counts as reached
    (at("rolling_back"), "1-29-2", {"in_progress": True, "active": True, "stage": "rolling_back", "reached": [],
                                    "finalized": False}),
    # rolled back: a new attempt at the same target starts afresh
    (at("rolled_back", "done", tags_before={"prod": "1-27-3"}), "1-29-2",
     {"matches": True, "in_progress": False, "active": False, "stage": "", "reached": [], "tags_before": {},
      "source": SOURCE, "target": TARGET}),
    (at("gateways", tags_before={"prod": "1-27-3"}), "1-29-2",
     {"source": SOURCE, "target": TARGET, "tags_before": {"prod": "1-27-3"}}),
    ({"target": {"revision": "1-29-2"}, "stage": "preflight"}, "1-29-2",
     {"source": {"revision": "", "version": ""}, "target": {"revision": "1-29-2", "version": ""}}),
])
def test_run_state(record, target, expected):
    state = rec.run_state(record, target)
    assert sorted(state) == ["active", "finalize_recorded", "finalize_step", "finalized", "finalizing", "in_progress",
                             "matches", "reached", "source", "stage", "tags_before", "target"]
    assert {key: state[key] for key in expected} == expected


def test_run_state_reached_follows_the_order_in_which_stages_are_recorded():
    """Every stage a run may record after another is later in PROGRESS: reached only grows as an upgrade goes on."""
    for earlier, later in zip(rec.PROGRESS, rec.PROGRESS[1:]):
        assert rec.transition_problem(earlier, later) is None
        assert set(rec.run_state(at(earlier), "1-29-2")["reached"]) < set(rec.run_state(at(later), "1-29-2")["reached"])
