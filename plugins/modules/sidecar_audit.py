#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sidecar_audit
short_description: Report, for every pod, the Istio sidecar it runs and the one a restart would give it
version_added: 0.1.0
description:
  - For every pod in scope, reports its owner workload (a Deployment through its ReplicaSet, a StatefulSet, a
    DaemonSet, a Job, or none), whether it has an Istio sidecar (a C(istio-proxy) container or native sidecar init
    container), the revision that injected it (C(sidecar.istio.io/status)), the proxy version (image tag), the
    revision a restart would give it, and a class.
  - The revision a restart would give is found by evaluating the MutatingWebhookConfigurations present over the
    namespace's labels and the pod's labels minus those the injector adds, as the API server and istiod do.
  - A sidecar is I(expected) when a restart would inject one. It is I(right) when it comes from the revision a restart
    would give, that revision is O(revision) (when given), and its proxy version is the version of that revision's
    istiod. Classes are V(current) (a sidecar is expected and right), V(stale) (a sidecar is expected but not right, so a
    restart is needed; the reason says when the namespace must be pointed at O(revision) first), V(missing) (a
    sidecar is expected, none is there), V(will_lose_sidecar) (a sidecar is there, a restart would give none, because
    injection was turned off after the pod was injected), V(unmanaged) (none expected, none there) and
    V(not_restartable) (the pod would be V(stale), V(missing) or V(will_lose_sidecar), but it is a bare pod, a Job's
    pod or a pod of a ReplicaSet without Deployment, so no workload restart rebuilds it; RV(pods[].needs) says what
    it needs).
  - Every pod that is neither V(current) nor V(unmanaged) has an RV(pods[].action) saying what rebuilds it, for
    example V(restart Deployment shop/frontend) or, for a bare pod, that it is not rebuilt by a restart and must be
    deleted and recreated.
  - Pods that have finished (phase C(Succeeded) or C(Failed)) or are being deleted are reported apart in
    RV(finished) and never classed, so they never fail the gate.
  - With O(gate=true), the module is a stage gate. It fails while any pod in scope is off the revision it should
    run, whatever its class, naming the first 20 of them (with the count) and what each needs.
  - With O(fail_on), it fails in the same way when any pod is in one of those classes.
  - Reads with one LIST each of namespaces, istiod Deployments and MutatingWebhookConfigurations, and the pods and
    ReplicaSets of the scope (one paginated LIST across namespaces, or one per namespace when the scope is smaller),
    whatever the number of pods. Never a request per pod.
author:
  - meshops.istio maintainers (@meshops)
options:
  revision:
    description:
      - The revision (for example V(1-29-2)) or revision tag (for example V(prod-stable)) every pod in scope should
        run. A tag is resolved to the revision it points at.
      - Without it, a sidecar is right when it comes from the revision a restart would give.
    type: str
  gate:
    description:
      - Fail while any pod in scope runs another sidecar than the one it should, whatever its class, naming the first
        20 of them and what each needs (RV(pods[].action)). The sidecar it should run is that of O(revision) (without
        O(revision), of the revision a restart would give) at the version of that revision's istiod.
      - A pod is refused when it is V(stale) (another revision or proxy version), V(missing) (no sidecar where a
        restart would give one) or V(will_lose_sidecar) with a sidecar of another revision than O(revision), and when
        it is V(not_restartable) and needs one of these. A pod no restart rebuilds (a bare pod, a Job's pod, a pod
        of a ReplicaSet without Deployment) blocks the gate until it is deleted, recreated or finished.
      - This is the gate the role's stages use (verify, the rollback's gate, finalize).
    type: bool
    default: false
  moving_from:
    description:
      - A revision the pods in scope are to move off (the source of an upgrade). Also report, in
        RV(move_attention), the pods on it (with its sidecar, or that a restart would inject with it) that need more
        than their namespace pointed elsewhere and a workload restart - bare pods, Job pods and pods of a ReplicaSet
        without Deployment, StatefulSets and DaemonSets with C(updateStrategy) C(OnDelete), and pods whose own
        C(istio.io/rev) label names the revision in a namespace without injection label - each with what to do.
      - Adds one LIST each of StatefulSets and DaemonSets.
    type: str
  fail_on:
    description:
      - Fail when any pod is in one of these classes, naming the first 20 of them. The classes are matched as they
        are; a V(not_restartable) pod is refused only when V(not_restartable) is listed. To refuse every pod off the
        revision, whatever its class, use O(gate).
    type: list
    elements: str
    choices: [current, stale, missing, will_lose_sidecar, unmanaged, not_restartable]
    default: []
  report:
    description:
      - Which pods to list in RV(pods). V(attention) lists the pods whose class is neither V(current) nor
        V(unmanaged); V(all) lists every pod; V(none) lists none (RV(summary) still counts them all).
    type: str
    choices: [all, attention, none]
    default: attention
extends_documentation_fragment:
  - meshops.istio.scope
  - meshops.istio.connection
  - meshops.istio.attributes
  - meshops.istio.attributes.check_mode_read_only
  - meshops.istio.attributes.diff_mode_none
notes:
  - Unlike the modules that change namespaces, this module audits every namespace when none of O(namespaces),
    O(namespace_selector) and O(all_injected) is given.
  - Namespaces chosen by label but labelled C(istio-injection=disabled) are audited too, because their pods may still
    carry sidecars (class V(will_lose_sidecar)).
"""

EXAMPLES = r"""
- name: Before an upgrade off 1-27-3, list what a workload restart will not move
  meshops.istio.sidecar_audit:
    moving_from: 1-27-3
  register: before_upgrade

- name: Gate the data-plane stage, every pod of the injected namespaces on the new revision (bare pods included)
  meshops.istio.sidecar_audit:
    revision: 1-29-2
    all_injected: true
    gate: true

- name: Audit the whole cluster against the revision the prod-stable tag points at
  meshops.istio.sidecar_audit:
    revision: prod-stable
    report: all
  register: audit

- name: Show the table
  ansible.builtin.debug:
    msg: "{{ audit.msg }}"

- name: Pods that would lose their sidecar on restart, in two namespaces
  meshops.istio.sidecar_audit:
    namespaces: [shop, payments]
  register: shop_audit

- name: Name them
  ansible.builtin.debug:
    msg: "{{ shop_audit.pods | selectattr('class', 'eq', 'will_lose_sidecar') | map(attribute='name') | list }}"
"""

RETURN = r"""
msg:
  description: A summary line, then a table of class counts per namespace (namespaces needing action first, at most 20).
  returned: always
  type: str
  sample: "target revision 1-29-2: 12 pods in 3 namespaces: 4 current, 6 stale, 2 missing; 1 finished\nNAMESPACE ..."
revision:
  description: The revision pods should run (O(revision) resolved through its tag); null when O(revision) is not given.
  returned: always
  type: str
  sample: 1-29-2
move_attention:
  description:
    - With O(moving_from), what the pods on that revision need beyond a workload restart to leave it, per owner and
      issue, sorted by namespace, kind and name.
  returned: when O(moving_from) is given
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the pods.
      type: str
    kind:
      description: Kind of the owner (V(Pod) for a bare pod).
      type: str
      sample: StatefulSet
    name:
      description: Name of the owner (the pod's name for a bare pod).
      type: str
    issue:
      description:
        - V(not_rebuilt) (no workload restart rebuilds the pods), V(on_delete) (C(updateStrategy) C(OnDelete), so a
          restart replaces no pod) or V(pins_revision) (the pods' own C(istio.io/rev) label selects the revision).
      type: str
      sample: on_delete
    pods:
      description: Names of the pods concerned.
      type: list
      elements: str
    action:
      description: What to do about it.
      type: str
      sample: "updateStrategy OnDelete: a restart changes the template but replaces no pod; delete its pods one by one to get new sidecars"
revision_requested:
  description: O(revision) as given (a revision or a tag).
  returned: always
  type: str
  sample: prod-stable
namespaces:
  description: The namespaces audited, sorted.
  returned: always
  type: list
  elements: str
  sample: [bookinfo, shop]
namespaces_skipped:
  description: Namespaces chosen by label but left out, with the reason (C(name), C(reason), C(message)).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "kube-system", "reason": "system", "message": "Kubernetes system namespace, where istiod never injects"}]
summary:
  description: Counts of the running pods in scope.
  returned: always
  type: dict
  contains:
    pods:
      description: Running (or pending) pods audited.
      type: int
      sample: 12
    finished:
      description: Pods that have finished or are being deleted.
      type: int
      sample: 1
    by_class:
      description: Pods per class (every class, zeros included).
      type: dict
      sample: {"current": 4, "stale": 6, "missing": 2, "will_lose_sidecar": 0, "unmanaged": 0, "not_restartable": 0}
    by_namespace:
      description: Per namespace, pods per class (classes with no pod left out).
      type: dict
      sample: {"bookinfo": {"stale": 6}}
    by_revision:
      description: Pods per sidecar revision (V(none) without sidecar, V(unknown) when no revision can be read).
      type: dict
      sample: {"1-27-3": 6, "1-29-2": 4, "none": 2}
    by_version:
      description: Pods per proxy version (V(none) without sidecar, V(unknown) when the image tag is no version).
      type: dict
      sample: {"1.27.3": 6, "1.29.2": 4, "none": 2}
pods:
  description: The pods chosen by O(report), sorted by namespace and name.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: The pod's namespace.
      type: str
      sample: bookinfo
    name:
      description: The pod's name.
      type: str
      sample: productpage-5d8f7c9b4-x2x7k
    phase:
      description: The pod's phase.
      type: str
      sample: Running
    owner:
      description: The owner workload, C(kind) and C(name) (both null for a bare pod).
      type: dict
      sample: {"kind": "Deployment", "name": "productpage"}
    sidecar:
      description: Whether the pod has an C(istio-proxy) sidecar.
      type: bool
      sample: true
    native_sidecar:
      description: Whether the sidecar is a native sidecar (an init container with C(restartPolicy=Always)).
      type: bool
      sample: false
    revision:
      description: The revision that injected the sidecar; null without sidecar.
      type: str
      sample: 1-27-3
    version:
      description: The proxy version (image tag); null when unknown or without sidecar.
      type: str
      sample: 1.27.3
    restart_injected:
      description: Whether a restart would give the pod a sidecar.
      type: bool
      sample: true
    restart_revision:
      description: The revision a restart would give; null when none.
      type: str
      sample: 1-29-2
    class:
      description: The class (see the description).
      type: str
      sample: stale
    needs:
      description: For V(not_restartable) pods, the class they would otherwise have; null for the others.
      type: str
      sample: null
    reason:
      description: Why the pod is in its class.
      type: str
      sample: sidecar of revision 1-27-3, not of the target 1-29-2
    action:
      description:
        - What rebuilds the pod as it should be (restart its workload, first pointing its namespace at O(revision)
          when needed; for a V(not_restartable) pod what its owner calls for); null for V(current) and V(unmanaged)
          pods.
      type: str
      sample: "bare pod, not rebuilt by a restart: delete and recreate it"
finished:
  description: Pods that have finished or are being deleted (C(namespace), C(name), C(phase)); never classed.
  returned: always
  type: list
  elements: dict
  sample: [{"namespace": "batch", "name": "report-8xk2p", "phase": "Succeeded"}]
"""

from ansible_collections.meshops.istio.plugins.module_utils.istio.audit import CLASSES, CURRENT, UNMANAGED, describe_pods, format_table
from ansible_collections.meshops.istio.plugins.module_utils.istio.move_attention import move_attention
from ansible_collections.meshops.istio.plugins.module_utils.istio.revision import revision_problems
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.module import MeshModule, run_module
from ansible_collections.meshops.istio.plugins.module_utils.k8s.scoped_list import list_in_namespaces
from ansible_collections.meshops.istio.plugins.module_utils.k8s.scope_args import with_scope
from ansible_collections.meshops.istio.plugins.module_utils.mesh_reads.pod_audit import run_audit

ARGUMENT_SPEC = with_scope({
    "revision": {"type": "str"},
    "gate": {"type": "bool", "default": False},
    "moving_from": {"type": "str"},
    "fail_on": {"type": "list", "elements": "str", "choices": list(CLASSES), "default": []},
    "report": {"type": "str", "choices": ["all", "attention", "none"], "default": "attention"},
})
GATE_LIMIT = 20


def summary_line(run) -> str:
    """``target revision R: N pods in M namespaces: a current, b stale, ...; f finished``."""
    summary = run.audit.summary()
    counts = ", ".join("%d %s" % (count, name) for name, count in summary["by_class"].items() if count) or "no pods"
    target = "target revision %s" % run.audit.target if run.audit.target else "no target revision"
    return "%s: %d pods in %d namespaces: %s; %d finished" % (target, summary["pods"], len(run.namespaces), counts,
                                                              summary["finished"])


def attention_of_move(module: MeshModule, run) -> list:
    """move_attention for moving_from: the StatefulSets and DaemonSets of the scope read with one LIST per kind."""
    workloads = {}
    for resource in (R.STATEFULSETS, R.DAEMONSETS):
        for obj in list_in_namespaces(module.api, resource, None if run.every_namespace else run.namespaces).items:
            meta = obj.get("metadata") or {}
            workloads[(meta.get("namespace"), resource.kind, meta.get("name"))] = obj
    return move_attention(run.audit.pods, run.pods, run.namespace_labels, workloads, module.params["moving_from"])


def audit(module: MeshModule) -> dict:
    """Run the audit, and fail when a pod is in a class of fail_on."""
    moving_from = module.params["moving_from"]
    if moving_from is not None and (not moving_from or revision_problems(moving_from)):
        raise MeshError("moving_from: %s" % ("; ".join(revision_problems(moving_from)) or "give the revision the pods move off"))
    run = run_audit(module.api, module.params)
    report = module.params["report"]
    if report == "all":
        listed = run.audit.pods
    elif report == "attention":
        listed = [pod for pod in run.audit.pods if pod.pod_class not in (CURRENT, UNMANAGED)]
    else:
        listed = []
    audited = set(run.namespaces)
    result = {
        "changed": False,
        "msg": summary_line(run) + "\n" + format_table(run.audit),
        "revision": run.audit.target,
        "revision_requested": run.revision_requested,
        "namespaces": run.namespaces,
        "namespaces_skipped": [item for item in run.scope.skipped if item["name"] not in audited],
        "summary": run.audit.summary(),
        "pods": [pod.as_dict() for pod in listed],
        "finished": run.audit.finished,
    }
    if moving_from:
        result["move_attention"] = attention_of_move(module, run)
    fail_on, gate = module.params["fail_on"], module.params["gate"]
    blocking = run.audit.blocking(fail_on, gate)
    if blocking:
        counted = "%d pod%s" % (len(blocking), " is" if len(blocking) == 1 else "s are")
        raise MeshError("Gate refused, nothing was changed: %s %s: %s. Do what each pod needs, then run the audit again.\n%s"
                        % (counted, refusal(run.audit.target, fail_on, gate), describe_pods(blocking, GATE_LIMIT), result["msg"]),
                        result=result)
    return result


def refusal(target: str | None, fail_on: list, gate: bool) -> str:
    """What the refused pods are: off the revision (gate) and/or in the classes of fail_on."""
    reasons = []
    if gate:
        reasons.append("not running the sidecar of %s" % ("revision %s" % target if target else "the revision a restart gives"))
    if fail_on:
        reasons.append("in class %s (fail_on)" % " or ".join(fail_on))
    return " or ".join(reasons)


def main() -> None:
    """Run the module."""
    run_module(audit, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
