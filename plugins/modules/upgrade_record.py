#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: upgrade_record
short_description: Read and write the record of an Istio canary upgrade kept in the cluster
version_added: 0.1.0
description:
  - Keeps where a canary upgrade stands, and what it changed, in the ConfigMap O(name) of the control plane's
    namespace, so that a later run, or another operator, continues or rolls back from the real state.
  - The record is stored as JSON in the ConfigMap's C(data.record), with readable copies of its C(stage),
    C(status), C(source) and C(target) as data keys of their own; the ConfigMap is labelled
    C(app.kubernetes.io/managed-by=meshops.istio).
  - Writes replace the ConfigMap with the resourceVersion read (optimistic concurrency). When someone else changed
    it in between, or it differs from O(expected_resource_version), the module fails and writes nothing.
  - A write that changes nothing sends no request but the read and reports no change. In check mode the write is
    sent with C(dryRun=All) and persists nothing.
  - "Rules kept: the C(*_before) maps keep the first value recorded for each key (a re-run after an interruption
    must not overwrite the state from before the upgrade); a different target is refused while an upgrade is
    open (neither finalized nor rolled back); stages move as an upgrade and a rollback can (nothing but
    C(finalized) after C(finalized); C(rolled_back) only after C(rolling_back); no upgrade stage during a
    rollback). Recording stage C(preflight), or another target, on a finalized or rolled back record starts a new
    record. A new record starts at an upgrade stage (C(preflight) to C(verify)), never at C(finalized),
    C(rolling_back) or C(rolled_back)."
  - "Finalize is journaled in C(finalize): before each of its writes the step under way is recorded, so that a run
    killed at any point is finished by the next one. Its steps (V(move_default), V(remove_source), V(done)) only
    move forward; V(done) is recorded with stage C(finalized), and C(finalized) after a started finalize only with
    V(done). Once finalize has started, C(rolling_back) and C(rolled_back) are refused."
  - The record read is checked against its schema before anything else. A record that does not fit it (a field of
    the wrong type, an unknown field or stage) makes O(state=query) and O(state=present) fail, naming each wrong
    field; O(state=absent) still deletes it.
author:
  - meshops.istio maintainers (@meshops)
options:
  state:
    description:
      - V(query) reads the record, V(present) creates or updates it with O(record) and O(stage), V(absent)
        deletes it (even when it does not fit the record's schema).
    type: str
    choices: [query, present, absent]
    default: query
  namespace:
    description: Namespace of the ConfigMap, the control plane's namespace.
    type: str
    default: istio-system
  name:
    description: Name of the ConfigMap.
    type: str
    default: meshops-istio-upgrade
  record:
    description:
      - For O(state=present), the fields to set, merged into the stored record. Fields are those of RV(record)
        but C(history), C(started) and C(updated), which the module keeps.
      - V(source) and V(target) are merged key by key; the V(namespaces_before), V(gateways_before) and
        V(tags_before) maps gain the keys not yet recorded; the other fields are replaced.
    type: dict
    default: {}
  stage:
    description:
      - For O(state=present), the stage reached; the same as C(record.stage). A change of stage (or of C(status))
        adds an entry to C(history). Without C(record.status), a new stage has status V(in_progress), or
        V(done) for V(finalized) and V(rolled_back).
    type: str
    choices: [preflight, control_plane, data_plane, gateways, verify, finalized, rolling_back, rolled_back]
  expected_resource_version:
    description:
      - The RV(resource_version) this run last read or wrote. When given, the module fails, writing nothing, if
        the stored record has another one (or is gone), because someone else changed it since.
      - Pass the RV(resource_version) returned by the previous call of this run, since every write changes it.
    type: str
extends_documentation_fragment:
  - meshops.istio.connection
  - meshops.istio.attributes
  - meshops.istio.attributes.check_mode
  - meshops.istio.attributes.diff_mode
"""

EXAMPLES = r"""
- name: Read the record at preflight
  meshops.istio.upgrade_record:
    state: query
  register: istio__record

- name: Start the upgrade
  meshops.istio.upgrade_record:
    state: present
    stage: preflight
    record:
      source: {revision: 1-27-3, version: 1.27.3}
      target: {revision: 1-29-2, version: 1.29.2}
      operator: "{{ lookup('ansible.builtin.env', 'USER') }}"
    expected_resource_version: "{{ istio__record.resource_version }}"
  register: istio__record

- name: Remember the namespace labels before moving them, and the stage reached
  meshops.istio.upgrade_record:
    state: present
    stage: data_plane
    record:
      namespaces_before:
        shop: {istio.io/rev: 1-27-3}
        bookinfo: {istio-injection: enabled}
      tags_before:
        prod-stable: 1-27-3
    expected_resource_version: "{{ istio__record.resource_version }}"
  register: istio__record

- name: Journal finalize - record the step under way before its write
  meshops.istio.upgrade_record:
    state: present
    record:
      finalize: {step: move_default}
    expected_resource_version: "{{ istio__record.resource_version }}"
  register: istio__record

- name: Record a failed stage
  meshops.istio.upgrade_record:
    state: present
    record:
      status: failed
    expected_resource_version: "{{ istio__record.resource_version }}"

- name: Forget the record
  meshops.istio.upgrade_record:
    state: absent
"""

RETURN = r"""
msg:
  description: One-line summary.
  returned: always
  type: str
  sample: "upgrade record istio-system/meshops-istio-upgrade updated: 1-27-3 (1.27.3) -> 1-29-2 (1.29.2), stage data_plane (in_progress)"
exists:
  description: Whether the record exists after the call (in check mode, whether it would).
  returned: always
  type: bool
  sample: true
resource_version:
  description: The resourceVersion of the record's ConfigMap after the call; pass it as O(expected_resource_version)
    to the next call. Null when there is no record (and in check mode for a record that would be created).
  returned: always
  type: str
  sample: "4711"
record:
  description: The record after the call (in check mode, as it would be); an empty dict when there is none.
  returned: always
  type: dict
  contains:
    source:
      description: The revision and version upgraded from.
      type: dict
      sample: {revision: 1-27-3, version: 1.27.3}
    target:
      description: The revision and version upgraded to.
      type: dict
      sample: {revision: 1-29-2, version: 1.29.2}
    stage:
      description: The stage reached, one of V(preflight), V(control_plane), V(data_plane), V(gateways),
        V(verify), V(finalized), V(rolling_back), V(rolled_back).
      type: str
      sample: data_plane
    status:
      description: Status of the stage, V(in_progress), V(done) or V(failed).
      type: str
      sample: in_progress
    namespaces_before:
      description: Namespace name to its injection labels (C(istio-injection), C(istio.io/rev); null for absent)
        before the upgrade changed them.
      type: dict
      sample: {shop: {istio.io/rev: 1-27-3}, bookinfo: {istio-injection: enabled}}
    gateways_before:
      description: C(namespace/name) of a gateway to its revision labels before the upgrade changed them.
      type: dict
      sample: {istio-ingress/istio-ingressgateway: {istio.io/rev: 1-27-3}}
    tags_before:
      description: Revision tag to the revision it pointed at before the upgrade moved it (null when it did not exist).
      type: dict
      sample: {prod-stable: 1-27-3, default: 1-27-3}
    waves:
      description: The restart waves, as the playbook recorded them.
      type: list
      elements: raw
      sample: [[shop, bookinfo], [payments]]
    history:
      description: One entry per change of stage or status, oldest first.
      type: list
      elements: dict
      sample: [{stage: preflight, time: "2026-05-04T10:00:00Z", result: in_progress}]
    started:
      description: When the record was created (ISO 8601, UTC).
      type: str
      sample: "2026-05-04T10:00:00Z"
    updated:
      description: When the record last changed (ISO 8601, UTC).
      type: str
      sample: "2026-05-04T10:12:31Z"
    operator:
      description: Who runs the upgrade, as the playbook recorded it.
      type: str
      sample: alice
    finalize:
      description:
        - The journal of finalize; empty until finalize starts. C(step) names the write under way, recorded before it
          is made (every earlier step is done) - V(move_default) (the tag C(default) and C(istiod-default-validator)
          move to the target), V(remove_source) (the source control plane is removed), V(done) (with stage
          C(finalized)).
      type: dict
      sample: {step: remove_source}
"""

from contextlib import contextmanager
from datetime import datetime, timezone

from ansible_collections.meshops.istio.plugins.module_utils.istio import record as rec
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import KubeApiError, MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.module import MeshModule, diff_of, run_module
from ansible_collections.meshops.istio.plugins.module_utils.k8s.resources import CONFIGMAPS

ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["query", "present", "absent"], "default": "query"},
    "namespace": {"type": "str", "default": "istio-system"},
    "name": {"type": "str", "default": rec.RECORD_NAME},
    "record": {"type": "dict", "default": {}},
    "stage": {"type": "str", "choices": list(rec.STAGES)},
    "expected_resource_version": {"type": "str"},
}
CONFLICT = ("the upgrade record %s was changed by someone else since this run read it; re-run to continue from its "
            "current state")


def run(module: MeshModule) -> dict:
    """Read the record, then apply the state asked for."""
    params = module.params
    where = "ConfigMap %s/%s" % (params["namespace"], params["name"])
    fields = _fields(module, where)
    stored = module.api.get_or_none(CONFIGMAPS.path(params["namespace"], params["name"]))
    try:
        current = rec.from_data(stored.get("data"), where) if stored else None
    except rec.RecordError as error:
        if params["state"] != "absent":
            raise MeshError(str(error)) from error
        current = None  # a record that is not readable can still be deleted
    current_version = stored["metadata"].get("resourceVersion") if stored else None
    expected = params["expected_resource_version"]
    if params["state"] != "query" and expected and expected != current_version:
        raise MeshError(CONFLICT % where + " (expected resourceVersion %s, found %s)" % (expected, current_version or "no record"),
                        expected_resource_version=expected, resource_version=current_version)
    if params["state"] == "query":
        return _result(False, "%s: %s" % (where, _summary(current)), current, current_version)
    if params["state"] == "absent":
        return _delete(module, where, stored, current)
    return _write(module, where, stored, current, fields)


def _fields(module: MeshModule, where: str) -> dict:
    params = module.params
    fields = dict(params["record"] or {})
    if params["stage"] is not None:
        if fields.get("stage") not in (None, params["stage"]):
            raise MeshError("conflicting options: stage=%s but record.stage=%s; give the stage once"
                            % (params["stage"], fields["stage"]))
        fields["stage"] = params["stage"]
    if params["state"] != "present" and fields:
        raise MeshError("record and stage are options of state=present; they cannot be used with state=%s" % params["state"])
    problems = rec.field_problems(fields)
    if problems:
        raise MeshError("cannot write the upgrade record %s: %s" % (where, "; ".join(problems)), problems=problems)
    return fields


def _write(module: MeshModule, where: str, stored: dict | None, current: dict | None, fields: dict) -> dict:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        merged, changed = rec.merge(current, fields, now)
    except rec.RecordError as error:
        raise MeshError("cannot write the upgrade record %s: %s" % (where, error)) from error
    version = stored["metadata"].get("resourceVersion") if stored else None
    if not changed:
        return _result(False, "%s unchanged: %s" % (where, _summary(current)), current, version)
    params = module.params
    body = stored or {"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": params["name"], "namespace": params["namespace"]}}
    body["metadata"].setdefault("labels", {})[rec.MANAGED_BY_LABEL] = rec.MANAGED_BY
    body["metadata"].pop("managedFields", None)
    body["data"] = dict(body.get("data") or {}, **rec.to_data(merged))
    with _conflict_refused(where, resource_version=version):
        if stored:
            written = module.api.replace(CONFIGMAPS.path(params["namespace"], params["name"]), body, dry_run=module.dry_run)
        else:
            written = module.api.create(CONFIGMAPS.path(params["namespace"]), body, dry_run=module.dry_run)
    new_version = None if module.dry_run and not stored else (written or {}).get("metadata", {}).get("resourceVersion")
    verb = ("would be " if module.dry_run else "") + ("updated" if stored else "created")
    return _result(True, "%s %s: %s" % (where, verb, _summary(merged)), merged, new_version,
                   diff=diff_of(_shown(current), _shown(merged)))


def _delete(module: MeshModule, where: str, stored: dict | None, current: dict | None) -> dict:
    if not stored:
        return _result(False, "%s: no record to delete" % where, None, None)
    params = module.params
    with _conflict_refused(where):
        module.api.delete(CONFIGMAPS.path(params["namespace"], params["name"]), dry_run=module.dry_run)
    verb = "would be deleted" if module.dry_run else "deleted"
    return _result(True, "%s %s (was: %s)" % (where, verb, _summary(current)), None, None,
                   diff=diff_of(_shown(current), {}))


@contextmanager
def _conflict_refused(where: str, **details):
    """A write of the record answered 409 (changed by someone else since this run read it) fails as CONFLICT."""
    try:
        yield
    except KubeApiError as error:
        if error.status == 409:
            raise MeshError(CONFLICT % where, **details) from error
        raise


def _result(changed: bool, msg: str, record: dict | None, version: str | None, diff: dict | None = None) -> dict:
    return {"changed": changed, "msg": msg, "record": record or {}, "exists": record is not None,
            "resource_version": version, "diff": diff}


def _shown(record: dict | None) -> dict:
    """The record as the diff shows it: without the times, which change on every write."""
    return {k: v for k, v in (record or {}).items() if k not in ("updated", "history")}


def _summary(record: dict | None) -> str:
    if record is None:
        return "no record"
    data = rec.to_data(record)
    return "%s -> %s, stage %s (%s)" % (data["source"] or "?", data["target"] or "?", data["stage"] or "none",
                                        data["status"] or "no status")


def main() -> None:
    """Run the module."""
    run_module(run, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
