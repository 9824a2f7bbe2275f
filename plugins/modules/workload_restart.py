#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: workload_restart
short_description: Restart, in waves, the workloads whose pods do not run the right Istio sidecar
version_added: 0.1.0
description:
  - Audits the pods in scope exactly as M(meshops.istio.sidecar_audit) does, then restarts the Deployments,
    StatefulSets and DaemonSets that own pods of the classes in O(classes), so that their pods are re-created and
    re-injected by the revision their namespace (or pod) now selects.
  - A restart is what C(kubectl rollout restart) does, a strategic merge patch of the pod-template annotation
    C(kubectl.kubernetes.io/restartedAt) with the current time (RFC 3339).
  - Restarts go in waves of O(batch_size) workloads, in the order namespace, kind, name. After each wave the module
    waits until every rollout of the wave is complete, as C(kubectl rollout status) judges it, at most O(wait_timeout)
    seconds, then waits O(pause) seconds before the next wave. It stops at the first rollout that fails (a
    Deployment past its C(progressDeadlineSeconds)) or times out, fails, and reports which one, what was restarted
    and what was not reached.
  - Lists what it cannot restart instead of skipping it silently, with the reason, in RV(not_restartable) - bare
    pods, Job pods, pods of a ReplicaSet without Deployment, StatefulSets and DaemonSets whose C(updateStrategy) is
    C(OnDelete), paused Deployments.
  - Warns about a workload whose pods would lose their sidecar when restarted (class V(will_lose_sidecar), because injection
    was turned off after they were injected), and skips it unless O(allow_sidecar_removal=true).
  - Idempotent. A workload whose pods are all V(current) is not restarted, so a second run changes nothing and a run
    after an interrupted one restarts only what is still stale.
  - Reads as M(meshops.istio.sidecar_audit) does, plus one LIST per kind of the workloads to restart. While waiting,
    each poll reads only the workloads still rolling - one GET for a workload alone in its namespace and kind, one
    LIST of that namespace's kind for several.
author:
  - meshops.istio maintainers (@meshops)
options:
  revision:
    description:
      - The revision (for example V(1-29-2)) or revision tag every pod in scope should run; it must exist and its
        istiod must be ready.
      - Without it, a sidecar is right when it comes from the revision a restart would give.
      - A restart gives the revision that the namespace (or pod) selects; point namespaces at O(revision) first
        (M(meshops.istio.namespace_revision)).
    type: str
  classes:
    description:
      - Restart the workloads that own pods of these classes (see M(meshops.istio.sidecar_audit)).
    type: list
    elements: str
    choices: [stale, missing, will_lose_sidecar]
    default: [stale, missing]
  batch_size:
    description: How many workloads are restarted at once (one wave).
    type: int
    default: 5
  wait_timeout:
    description: Seconds to wait for the rollouts of one wave to complete before giving up.
    type: int
    default: 600
  poll_interval:
    description: Seconds between two checks of the rollouts of a wave.
    type: float
    default: 2
  pause:
    description: Seconds to wait between two waves.
    type: float
    default: 0
  workloads:
    description:
      - Restart only these workloads of the plan, each given as C(namespace/Kind/name) (for example
        V(shop/Deployment/cart)), as a role does to run one wave per task and show each wave as it happens.
      - A workload listed that no longer needs a restart (its pods run the right sidecar by now) is left alone.
      - Default is every workload the audit finds.
    type: list
    elements: str
  allow_sidecar_removal:
    description:
      - Restart workloads whose pods would lose their sidecar (class V(will_lose_sidecar)) too. They are skipped
        otherwise, with a warning.
    type: bool
    default: false
extends_documentation_fragment:
  - meshops.istio.scope
  - meshops.istio.connection
  - meshops.istio.attributes
  - meshops.istio.attributes.check_mode
  - meshops.istio.attributes.diff_mode
notes:
  - Unlike the modules that change namespaces, this module acts on every namespace when none of O(namespaces),
    O(namespace_selector) and O(all_injected) is given.
  - Namespaces chosen by label but labelled C(istio-injection=disabled) are in scope too; their workloads are of class
    V(will_lose_sidecar) and are only restarted with O(allow_sidecar_removal=true).
  - In check mode each restart patch is sent with C(dryRun=All), so the API server validates it and persists
    nothing; the module returns the waves it would run and waits for nothing.
"""

EXAMPLES = r"""
- name: Rebuild every stale workload of the injected namespaces, three at a time
  meshops.istio.workload_restart:
    revision: 1-29-2
    all_injected: true
    batch_size: 3
    wait_timeout: 300
    pause: 10

- name: Show the plan only
  meshops.istio.workload_restart:
    revision: 1-29-2
    namespaces: [shop, payments]
  check_mode: true
  register: plan

- name: Print the waves
  ansible.builtin.debug:
    msg: "{{ plan.waves }}"

- name: Restart one planned wave (the role runs one task per wave this way)
  meshops.istio.workload_restart:
    revision: 1-29-2
    workloads: "{{ plan.waves[0] | map(attribute='namespace') | zip(plan.waves[0] | map(attribute='kind'),
                                                                    plan.waves[0] | map(attribute='name'))
                 | map('join', '/') | list }}"
    batch_size: "{{ plan.waves[0] | length }}"

- name: Rebuild the workloads of a namespace whose injection was turned off, removing their sidecars
  meshops.istio.workload_restart:
    namespaces: [legacy]
    classes: [will_lose_sidecar]
    allow_sidecar_removal: true
"""

RETURN = r"""
msg:
  description: One-line summary.
  returned: always
  type: str
  sample: "restarted 4 workloads in 2 waves for revision 1-29-2; 1 not restartable"
revision:
  description: The target revision (O(revision) resolved through its tag); null when O(revision) is not given.
  returned: always
  type: str
  sample: 1-29-2
waves:
  description:
    - The waves planned, in order; each wave is a list of workloads (C(namespace), C(kind), C(name), and C(pods), the
      pods of the classes in O(classes) with their C(name) and C(class)).
  returned: always
  type: list
  elements: list
  sample: [[{"namespace": "bookinfo", "kind": "Deployment", "name": "details", "pods": [{"name": "details-5d8f-x2x7k", "class": "stale"}]}]]
restarted:
  description:
    - The workloads patched (in check mode, those that would be), with C(wave) (its number, from 1) and C(rollout),
      V(complete), V(failed), V(timed_out), V(unfinished) (the wait stopped at another failure) or V(not_waited)
      (check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"namespace": "bookinfo", "kind": "Deployment", "name": "details", "wave": 1, "rollout": "complete"}]
failed_rollouts:
  description:
    - The rollouts that failed or timed out (C(namespace), C(kind), C(name), C(wave), C(rollout), C(message)).
    - Not called C(failed), which Ansible reserves for the task's own outcome.
  returned: always
  type: list
  elements: dict
  sample: [{"namespace": "shop", "kind": "Deployment", "name": "frontend", "wave": 1, "rollout": "failed",
            "message": "deployment \"frontend\" exceeded its progress deadline"}]
not_reached:
  description: The workloads of the waves after a failure, never restarted (C(namespace), C(kind), C(name), C(wave)).
  returned: always
  type: list
  elements: dict
  sample: []
not_restartable:
  description:
    - What needs a restart but cannot be restarted as a workload (C(namespace), C(kind), C(name), C(pods),
      C(reason)). C(kind) is V(Pod) and C(name) the pod's for a bare pod.
  returned: always
  type: list
  elements: dict
  sample: [{"namespace": "tagged", "kind": "Pod", "name": "debug", "pods": ["debug"], "reason": "bare pod, not rebuilt by a restart: delete and recreate it"}]
skipped:
  description: Workloads not restarted because their pods would lose their sidecar (C(namespace), C(kind), C(name), C(pods), C(reason)).
  returned: always
  type: list
  elements: dict
  sample: []
wave_seconds:
  description: How long each wave run took, from its first restart to its last rollout complete (0 in check mode).
  returned: always
  type: list
  elements: float
  sample: [14.2, 9.8]
summary:
  description: The audit's counts before any restart (same keys as RV(meshops.istio.sidecar_audit#module:summary)).
  returned: always
  type: dict
  sample: {"pods": 12, "finished": 0, "by_class": {"current": 4, "stale": 8}}
"""

import time

from ansible_collections.meshops.istio.plugins.module_utils.istio.audit import NEEDS_RESTART
from ansible_collections.meshops.istio.plugins.module_utils.istio.workload_owner import RESTARTABLE_KINDS
from ansible_collections.meshops.istio.plugins.module_utils.istio.target_revision import resolve_target
from ansible_collections.meshops.istio.plugins.module_utils.istio.waves import plan_restarts
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.module import MeshModule, diff_of, run_module
from ansible_collections.meshops.istio.plugins.module_utils.k8s.rollout import (
    COMPLETE,
    RESOURCES,
    RESTARTED_AT,
    UNFINISHED,
    restart_timestamp,
    restart_workload,
    wait_for_rollouts,
)
from ansible_collections.meshops.istio.plugins.module_utils.k8s.scope_args import with_scope
from ansible_collections.meshops.istio.plugins.module_utils.k8s.scoped_list import list_in_namespaces
from ansible_collections.meshops.istio.plugins.module_utils.mesh_reads.pod_audit import input_problems, run_audit

ARGUMENT_SPEC = with_scope({
    "revision": {"type": "str"},
    "classes": {"type": "list", "elements": "str", "choices": list(NEEDS_RESTART), "default": ["stale", "missing"]},
    "batch_size": {"type": "int", "default": 5},
    "wait_timeout": {"type": "int", "default": 600},
    "poll_interval": {"type": "float", "default": 2},
    "pause": {"type": "float", "default": 0},
    "allow_sidecar_removal": {"type": "bool", "default": False},
    "workloads": {"type": "list", "elements": "str"},
})


def option_problems(params: dict) -> list[str]:
    """Problems with the options, found before any request."""
    problems = input_problems(params)
    for name, minimum in (("batch_size", 1), ("wait_timeout", 1)):
        if params[name] < minimum:
            problems.append("%s must be at least %d, not %s" % (name, minimum, params[name]))
    if params["poll_interval"] <= 0:
        problems.append("poll_interval must be above 0, not %s" % params["poll_interval"])
    if params["pause"] < 0:
        problems.append("pause must be 0 or more, not %s" % params["pause"])
    if not params["classes"]:
        problems.append("classes is empty: give at least one of %s" % ", ".join(NEEDS_RESTART))
    for item in params["workloads"] or []:
        parts = item.split("/")
        if len(parts) != 3 or not all(parts) or parts[1] not in RESTARTABLE_KINDS:
            problems.append("workloads entry %r is not namespace/Kind/name with Kind one of %s (for example "
                            "shop/Deployment/cart)" % (item, ", ".join(sorted(RESTARTABLE_KINDS))))
    return problems


def read_workloads(api, pods) -> dict:
    """The objects of the restartable owners of ``pods``: one LIST per kind (across or per namespace, the cheaper)."""
    wanted: dict = {}
    for pod in pods:
        if pod.owner.kind in RESTARTABLE_KINDS:
            wanted.setdefault(pod.owner.kind, set()).add((pod.namespace, pod.owner.name))
    objects = {}
    for kind in sorted(wanted):
        namespaces = sorted({key[0] for key in wanted[kind]})
        found = {((item.get("metadata") or {}).get("namespace"), (item.get("metadata") or {}).get("name")): item
                 for item in list_in_namespaces(api, RESOURCES[kind], namespaces).items}
        for key in wanted[kind]:
            objects[(key[0], kind, key[1])] = found.get(key)
    return objects


def rollout_failure(result: dict, waves: list, number: int, waited) -> MeshError:
    """The failure of wave ``number``: ``result`` with its failed rollouts and the workloads not reached."""
    failed = [dict(w.as_dict(), wave=number, rollout=waited.status[w], message=waited.messages[w])
              for w in waves[number - 1] if waited.status[w] not in (COMPLETE, UNFINISHED)]
    result["failed_rollouts"] = failed
    result["not_reached"] = [dict(w.as_dict(), wave=later) for later, rest in enumerate(waves, start=1) if later > number
                             for w in rest]
    described = "; ".join("%s/%s/%s %s (%s)" % (f["namespace"], f["kind"], f["name"], f["rollout"], f["message"]) for f in failed)
    return MeshError("wave %d of %d: %s; stopped, %d workload%s not reached. Fix the failing rollout (kubectl rollout status) "
                     "and run again: only what is still stale is restarted"
                     % (number, len(waves), described, len(result["not_reached"]), "" if len(result["not_reached"]) == 1 else "s"),
                     result=result)


def restart(module: MeshModule) -> dict:
    """Audit, plan the waves, restart them one by one and wait for each."""
    params = module.params
    problems = option_problems(params)
    if problems:
        raise MeshError("; ".join(problems))
    run = run_audit(module.api, params)
    if params["revision"] is not None:
        _target, problems = resolve_target(run.control_plane, params["revision"])
        if problems:
            raise MeshError("; ".join(problems) + "; nothing was restarted")
    pods = run.audit.pods
    if params["workloads"] is not None:
        only = frozenset(params["workloads"])
        pods = [pod for pod in pods if "%s/%s/%s" % (pod.namespace, pod.owner.kind, pod.owner.name) in only]
    candidates = [pod for pod in pods if pod.pod_class in params["classes"] or pod.verdict.needs in params["classes"]]
    plan = plan_restarts(pods, params["classes"], read_workloads(module.api, candidates), params["batch_size"],
                         params["allow_sidecar_removal"])
    for warning in plan.warnings:
        module.warn(warning)

    waves = [[dict(w.as_dict(), pods=plan.pods[w]) for w in wave] for wave in plan.waves]
    result = {"changed": bool(plan.waves), "revision": run.audit.target, "waves": waves, "restarted": [], "wave_seconds": [],
              "failed_rollouts": [], "not_reached": [], "not_restartable": plan.not_restartable, "skipped": plan.skipped,
              "summary": run.audit.summary()}
    timestamp = restart_timestamp()
    diff = diff_of(
        {w.key: {"sidecar_classes": sorted({p["class"] for p in plan.pods[w]})} for w in plan.workloads},
        {w.key: {"template annotation %s" % RESTARTED_AT: timestamp} for w in plan.workloads})

    for number, wave in enumerate(plan.waves, start=1):
        if number > 1 and params["pause"] and not module.check_mode:
            time.sleep(params["pause"])
        started = time.monotonic()
        for workload in wave:
            restart_workload(module.api, workload, timestamp, dry_run=module.check_mode)
        if module.check_mode:
            result["restarted"] += [dict(w.as_dict(), wave=number, rollout="not_waited") for w in wave]
            result["wave_seconds"].append(0.0)
            continue
        waited = wait_for_rollouts(module.api, wave, params["wait_timeout"], params["poll_interval"])
        result["wave_seconds"].append(round(time.monotonic() - started, 1))
        result["restarted"] += [dict(w.as_dict(), wave=number, rollout=waited.status[w]) for w in wave]
        if not waited.ok:
            raise rollout_failure(result, plan.waves, number, waited)
    result["msg"] = "%s %d workload%s in %d wave%s%s; %d not restartable; %d skipped" % (
        "would restart" if module.check_mode else "restarted", len(plan.workloads), "" if len(plan.workloads) == 1 else "s",
        len(plan.waves), "" if len(plan.waves) == 1 else "s",
        " for revision %s" % run.audit.target if run.audit.target else "", len(plan.not_restartable), len(plan.skipped))
    result["diff"] = diff
    return result


def main() -> None:
    """Run the module."""
    run_module(restart, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
