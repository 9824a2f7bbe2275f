# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade record: its schema, the stages of an upgrade and a rollback, and how a write changes it.

The record remembers, in the cluster, where a canary upgrade stands and what it changed, so that a later run
(or another operator) continues or rolls back from the real state. It is a plain dict; :func:`merge` applies
the fields a run sets and enforces the rules:

* the ``*_before`` maps keep the first value recorded for a key (a re-run after an interruption must not replace
  the state before the upgrade with the state it left behind);
* a different target while an upgrade is open is refused;
* stage transitions are checked (nothing after ``finalized`` but itself; ``rolled_back`` only after
  ``rolling_back``; no upgrade stage once a rollback started; a rollback may be run again);
* a closed record (``finalized`` or ``rolled_back``) is replaced by a new one when a new upgrade starts;
* finalize is journaled in ``finalize`` (``{"step": ...}``): before each of its writes the step under way is
  recorded, so that a run killed at any point is finished by the next one. Its steps only move forward, ``done``
  comes with stage ``finalized`` (and ``finalized`` after a started finalize only with ``done``), and once finalize
  has started no rollback can be recorded.

:func:`run_state` is where a run stands, read from the record for the target it was given: the role's entry points
decide from it which stages are done and whether finalize has started (filter ``istio_record_state``).
"""

from __future__ import annotations

import copy
import json

from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev

RECORD_NAME = "meshops-istio-upgrade"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "meshops.istio"
DATA_KEY = "record"

UPGRADE_STAGES = ("preflight", "control_plane", "data_plane", "gateways", "verify")
FINALIZED = "finalized"
ROLLING_BACK = "rolling_back"
ROLLED_BACK = "rolled_back"
STAGES = UPGRADE_STAGES + (FINALIZED, ROLLING_BACK, ROLLED_BACK)
# The stages an upgrade goes through, in order: a run records each only once (never back to an earlier one).
PROGRESS = UPGRADE_STAGES + (FINALIZED,)
CLOSED_STAGES = (FINALIZED, ROLLED_BACK)
STATUSES = ("in_progress", "done", "failed")

# Fields a run may set, and the fields the module keeps itself.
SETTABLE = ("source", "target", "stage", "status", "namespaces_before", "gateways_before", "tags_before", "waves",
            "operator", "finalize")
MAINTAINED = ("history", "started", "updated")
BEFORE_MAPS = ("namespaces_before", "gateways_before", "tags_before")
ENDPOINT_KEYS = ("revision", "version")
# The steps of finalize, in order: each names the write under way (recorded before it is made); every earlier step
# is done. move_default: the tag default and istiod-default-validator move to the target; remove_source: the source
# control plane is removed; done: recorded with stage finalized.
FINALIZE_STEPS = ("move_default", "remove_source", "done")
FINALIZE_KEYS = ("step",)


class RecordError(ValueError):
    """A write the record refuses; the message says what, and what to do."""


def empty_record() -> dict:
    """A record with every field at its empty value."""
    return {"source": {"revision": None, "version": None}, "target": {"revision": None, "version": None},
            "stage": None, "status": None, "namespaces_before": {}, "gateways_before": {}, "tags_before": {},
            "waves": [], "history": [], "started": None, "updated": None, "operator": None, "finalize": {}}


def field_problems(fields: dict) -> list[str]:
    """Why ``fields`` (what a run wants to set) do not fit the schema; an empty list when they do."""
    problems = []
    for key in sorted(fields):
        value = fields[key]
        if key in MAINTAINED:
            problems.append("record field %s is kept by the module; do not set it" % key)
        elif key not in SETTABLE:
            problems.append("unknown record field %s; known fields: %s" % (key, ", ".join(SETTABLE)))
        elif key in ("source", "target"):
            problems.extend(_endpoint_problems(key, value))
        elif key == "stage" and value not in STAGES:
            problems.append("stage %r is not one of %s" % (value, ", ".join(STAGES)))
        elif key == "status" and value not in STATUSES:
            problems.append("status %r is not one of %s" % (value, ", ".join(STATUSES)))
        elif key in BEFORE_MAPS:
            problems.extend(_before_map_problems(key, value))
        elif key == "waves" and not isinstance(value, list):
            problems.append("waves must be a list, not %s" % type(value).__name__)
        elif key == "operator" and value is not None and not isinstance(value, str):
            problems.append("operator must be a string")
        elif key == "finalize":
            problems.extend(finalize_problems(value))
    return problems


def finalize_problems(value) -> list[str]:
    """Why ``value`` is not a finalize journal (``{}``, or ``{"step": <one of FINALIZE_STEPS>}``)."""
    if not isinstance(value, dict):
        return ["finalize must be a dict (for example {\"step\": \"move_default\"}), not %s" % type(value).__name__]
    problems = ["finalize has an unknown key %s; use %s" % (extra, ", ".join(FINALIZE_KEYS))
                for extra in sorted(set(value) - set(FINALIZE_KEYS), key=str)]
    if value and value.get("step") not in FINALIZE_STEPS:
        problems.append("finalize.step %r is not one of %s" % (value.get("step"), ", ".join(FINALIZE_STEPS)))
    return problems


def finalize_step(record: dict | None) -> str | None:
    """The finalize step a record holds (None when finalize has not started)."""
    return ((record or {}).get("finalize") or {}).get("step")


def is_closed(record: dict | None) -> bool:
    """True when there is no record or its upgrade is over (finalized or rolled back)."""
    return not record or record.get("stage") in CLOSED_STAGES


def run_state(record: dict | None, target_revision: str) -> dict:
    """Where a run to ``target_revision`` stands, from the record read (or as just written; None or {} when none).

    * ``matches``: the record is of an upgrade to this target; ``in_progress``: it is of an upgrade not over (finalized
      or rolled back), whatever its target; ``active``: it matches and was not rolled back (a new attempt after a
      rollback starts afresh);
    * ``stage``: the stage recorded when active, else ''; ``reached``: the stages of :data:`PROGRESS` up to it (those a
      re-run does not record again); ``finalized``: the stage is finalized;
    * ``finalize_step``: the finalize journal's step ('' before finalize starts), ``finalize_recorded``: the steps of
      :data:`FINALIZE_STEPS` up to it (each recorded before its write, so never recorded twice); ``finalizing``: an
      active record whose finalize has started and is not done (a re-run finishes it; no rollback);
    * ``source`` and ``target``: the endpoints recorded (``revision`` and ``version``, '' when unknown) when the record
      matches; ``tags_before``: the tags recorded before they moved, when active.
    """
    record = record or {}
    stored_target = (record.get("target") or {}).get("revision") or ""
    matches = stored_target == (target_revision or "")
    active = matches and record.get("stage") != ROLLED_BACK
    stage = (record.get("stage") or "") if active else ""
    step = finalize_step(record) or ""
    return {
        "matches": matches,
        "in_progress": not is_closed(record),
        "active": active,
        "stage": stage,
        "reached": list(PROGRESS[:PROGRESS.index(stage) + 1]) if stage in PROGRESS else [],
        "finalized": stage == FINALIZED,
        "finalize_step": step,
        "finalize_recorded": list(FINALIZE_STEPS[:FINALIZE_STEPS.index(step) + 1]) if step in FINALIZE_STEPS else [],
        "finalizing": active and step in FINALIZE_STEPS[:-1],
        "source": _endpoint(record.get("source") if matches else None),
        "target": _endpoint(record.get("target") if matches else None),
        "tags_before": dict(record.get("tags_before") or {}) if active else {},
    }


def transition_problem(current: str | None, new: str) -> str | None:
    """Why the stage may not move from ``current`` to ``new``; None when it may."""
    if current is None or current == new:
        return None
    if current == FINALIZED:
        return ("the upgrade was finalized: nothing but finalized can be recorded, and it can no longer be rolled "
                "back; start a new upgrade (stage preflight) instead")
    if current == ROLLED_BACK and new != ROLLING_BACK:
        return "the upgrade was rolled back; start a new upgrade (stage preflight) instead"
    if current == ROLLING_BACK and new != ROLLED_BACK:
        return "a rollback is under way; finish it (stage rolled_back) before recording %s" % new
    if new == ROLLED_BACK and current != ROLLING_BACK:
        return "rolled_back can only follow rolling_back; record rolling_back when the rollback starts"
    return None


def merge(stored: dict | None, fields: dict, now: str) -> tuple[dict, bool]:
    """The record after a run sets ``fields`` (already checked with :func:`field_problems`), and whether it changed.

    ``stored`` is the record read from the cluster (None when there is none); ``now`` the time of the write
    (ISO 8601, UTC). Raises :class:`RecordError` for a write the rules refuse.
    """
    new_stage = fields.get("stage")
    starts_new = stored is None or (is_closed(stored) and (new_stage == UPGRADE_STAGES[0] or _other_target(stored, fields)))
    if starts_new and new_stage in (FINALIZED, ROLLING_BACK, ROLLED_BACK):
        raise RecordError("cannot record stage %s: %s, so there is no upgrade to %s; a new upgrade starts at one of %s"
                          % (new_stage, "there is no record" if stored is None else "the last upgrade is over (%s)" % stored.get("stage"),
                             "finalize" if new_stage == FINALIZED else "roll back", ", ".join(UPGRADE_STAGES)))
    base = empty_record() if starts_new else _complete(stored)
    if starts_new:
        base["started"] = now
    elif _other_target(base, fields):
        raise RecordError(
            "an upgrade from %s to %s is in progress (stage %s); a different target (%s) cannot start before it is "
            "finalized or rolled back, or the record is deleted (state=absent)" % (
                _describe(base["source"]), _describe(base["target"]), base["stage"], _describe(fields["target"])))
    if new_stage is not None:
        problem = transition_problem(base["stage"], new_stage)
        if problem:
            raise RecordError("cannot record stage %s after %s: %s" % (new_stage, base["stage"], problem))

    _check_finalize(base, fields.get("finalize"), new_stage)

    result = copy.deepcopy(base)
    for key, value in fields.items():
        if key in ("source", "target"):
            result[key].update({k: value.get(k) for k in ENDPOINT_KEYS if k in value})
        elif key in BEFORE_MAPS:
            result[key] = dict(copy.deepcopy(value), **result[key])
        elif key not in ("stage", "status"):
            result[key] = copy.deepcopy(value)
    _move(result, new_stage, fields.get("status"), now)

    changed = stored is None or _comparable(result) != _comparable(_complete(stored))
    if changed:
        result["updated"] = now
    return result, changed


def to_data(record: dict) -> dict:
    """The ConfigMap ``data`` for a record: the JSON, plus readable ``stage``, ``status``, ``source``, ``target``."""
    return {DATA_KEY: json.dumps(record, sort_keys=True, indent=2), "stage": record.get("stage") or "",
            "status": record.get("status") or "", "source": _describe(record.get("source")),
            "target": _describe(record.get("target"))}


def from_data(data: dict | None, where: str) -> dict:
    """The record stored in a ConfigMap's ``data``; RecordError when it is not a record (``where`` names the object)."""
    text = (data or {}).get(DATA_KEY)
    if text is None:
        raise RecordError("%s has no data.%s: it is not an upgrade record; delete it or pick another name" % (where, DATA_KEY))
    try:
        record = json.loads(text)
    except ValueError as error:
        raise RecordError("%s holds data.%s that is not JSON (%s); fix or delete it" % (where, DATA_KEY, error)) from error
    if not isinstance(record, dict):
        raise RecordError("%s holds data.%s that is not a JSON object; fix or delete it" % (where, DATA_KEY))
    problems = stored_problems(record)
    if problems:
        raise RecordError("%s holds an upgrade record that does not fit its schema: %s. Fix those fields in its data.%s "
                          "(kubectl edit), or, if no upgrade is under way, delete it (meshops.istio.upgrade_record "
                          "state=absent, or kubectl delete)" % (where, "; ".join(problems), DATA_KEY))
    return _complete(record)


def _check_finalize(base: dict, journal: dict | None, new_stage: str | None) -> None:
    """Refuse a finalize step that goes back or does not fit the stage, and any rollback once finalize has started."""
    current = finalize_step(base)
    wanted = current if journal is None else journal.get("step")
    stage = new_stage or base["stage"]
    if current is not None and (wanted is None or FINALIZE_STEPS.index(wanted) < FINALIZE_STEPS.index(current)):
        raise RecordError("cannot record finalize step %s: finalize already reached step %s, and its steps only move "
                          "forward (%s)" % (wanted or "none", current, ", ".join(FINALIZE_STEPS)))
    if wanted is not None and stage in (ROLLING_BACK, ROLLED_BACK):
        if current is not None:
            raise RecordError("cannot record stage %s: finalize has started (step %s), so the default revision may "
                              "already point at the target and the source control plane may be gone. Finish finalize "
                              "(playbooks/upgrade.yml with --tags finalize); to go back, start a new upgrade to the "
                              "version you want" % (stage, current))
        raise RecordError("cannot record finalize step %s: the upgrade is being rolled back (stage %s)" % (wanted, stage))
    if wanted == "done" and stage != FINALIZED:
        raise RecordError("cannot record finalize step done at stage %s: it is recorded together with stage finalized"
                          % stage)
    if wanted not in (None, "done") and stage == FINALIZED:
        raise RecordError("cannot record stage finalized while finalize is at step %s: record step done with it" % wanted)


def stored_problems(record: dict) -> list[str]:
    """Why a record read from the cluster does not fit the schema (each problem names the field); empty when it fits.

    The fields a run sets are checked as :func:`field_problems` checks them (a stored stage or status may be null);
    the fields the module keeps must have their types; any other field is unknown.
    """
    settable = {key: value for key, value in record.items()
                if key in SETTABLE and not (key in ("stage", "status", "operator") and value is None)}
    problems = field_problems(settable)
    for key in sorted(record):
        value = record[key]
        if key == "history":
            if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
                problems.append("history must be a list of mappings, not %s" % _type_name(value))
        elif key in ("started", "updated"):
            if value is not None and not isinstance(value, str):
                problems.append("%s must be a time (string) or null, not %s" % (key, _type_name(value)))
        elif key not in SETTABLE:
            problems.append("unknown record field %s; known fields: %s"
                            % (key, ", ".join(SETTABLE + MAINTAINED)))
    return problems


def _endpoint(endpoint: dict | None) -> dict:
    endpoint = endpoint or {}
    return {part: endpoint.get(part) or "" for part in ENDPOINT_KEYS}


def _type_name(value) -> str:
    return "null" if value is None else type(value).__name__


def _move(record: dict, stage: str | None, status: str | None, now: str) -> None:
    if stage is not None and stage != record["stage"]:
        record["stage"] = stage
        record["status"] = status or ("done" if stage in CLOSED_STAGES else "in_progress")
    elif status is not None:
        record["status"] = status
    else:
        return
    last = record["history"][-1] if record["history"] else {}
    if (last.get("stage"), last.get("result")) != (record["stage"], record["status"]):
        record["history"].append({"stage": record["stage"], "time": now, "result": record["status"]})


def _complete(record: dict) -> dict:
    full = empty_record()
    full.update(copy.deepcopy(record))
    return full


def _comparable(record: dict) -> dict:
    return {key: value for key, value in record.items() if key != "updated"}


def _other_target(stored: dict, fields: dict) -> bool:
    wanted = (fields.get("target") or {}).get("revision")
    current = (stored.get("target") or {}).get("revision")
    return bool(wanted and current and wanted != current)


def _describe(endpoint: dict | None) -> str:
    endpoint = endpoint or {}
    revision, version = endpoint.get("revision"), endpoint.get("version")
    if revision and version:
        return "%s (%s)" % (revision, version)
    return revision or version or ""


def _endpoint_problems(key: str, value) -> list[str]:
    if not isinstance(value, dict):
        return ["%s must be a dict with %s" % (key, " and ".join(ENDPOINT_KEYS))]
    problems = ["%s has an unknown key %s; use %s" % (key, extra, " and ".join(ENDPOINT_KEYS))
                for extra in sorted(set(value) - set(ENDPOINT_KEYS))]
    for part in ENDPOINT_KEYS:
        if value.get(part) is not None and not isinstance(value[part], str):
            problems.append("%s.%s must be a string" % (key, part))
    if isinstance(value.get("revision"), str):
        problems.extend("%s.%s" % (key, problem) for problem in rev.revision_problems(value["revision"]))
    return problems


def _before_map_problems(key: str, value) -> list[str]:
    if not isinstance(value, dict):
        return ["%s must be a dict, not %s" % (key, type(value).__name__)]
    problems = []
    for name, entry in value.items():
        if key == "tags_before":
            if entry is not None and not isinstance(entry, str):
                problems.append("tags_before.%s must be a revision (string) or null" % name)
        elif not isinstance(entry, dict):
            problems.append("%s.%s must be a dict of labels" % (key, name))
    return problems
