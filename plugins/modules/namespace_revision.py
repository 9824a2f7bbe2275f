#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: namespace_revision
short_description: Point namespaces' sidecar injection at an Istio revision or tag, or restore their earlier labels
version_added: 0.1.0
description:
  - With O(revision), sets C(istio.io/rev=<revision>) on every namespace in scope and removes C(istio-injection),
    which would otherwise take precedence over C(istio.io/rev). A namespace labelled with both is fixed the same way.
  - A namespace selected through a revision tag (for example C(istio.io/rev=prod-stable)) is pointed at O(revision)
    too, so it no longer follows the tag; leave it out with O(exclude) to keep it on the tag.
  - With O(restore), applies saved injection labels exactly (those present are set, those absent removed), so a
    rollback brings back C(istio-injection=enabled) where it was. Pass the RV(restore) an earlier run returned.
  - Only the labels C(istio-injection) and C(istio.io/rev) are ever changed. Existing pods keep their sidecars until
    they are restarted; the new labels apply to pods created from now on.
  - Everything is checked before any write. The revision or tag must exist and its istiod must be ready, and every
    namespace named in O(namespaces) or O(restore) must exist. Otherwise the module fails and changes nothing.
  - Reads with one LIST each of istiod Deployments, mutating and validating webhook configurations and namespaces,
    then sends one PATCH per namespace whose labels change.
author:
  - meshops.istio maintainers (@meshops)
options:
  revision:
    description:
      - The revision (for example V(1-29-2)) or revision tag (for example V(prod-stable) or V(default)) the namespaces
        in scope are pointed at.
      - One of O(revision) and O(restore) is required; they are mutually exclusive.
    type: str
  restore:
    description:
      - A map of namespace name to the labels it had (each namespace's RV(namespaces[].before), or the RV(restore)
        map an earlier run returned). Only C(istio-injection) and C(istio.io/rev) are read from each map; other keys
        are ignored.
      - The namespaces to act on are the keys of this map (minus O(exclude)); O(namespaces), O(namespace_selector)
        and O(all_injected) cannot be used with it.
    type: dict
extends_documentation_fragment:
  - meshops.istio.scope
  - meshops.istio.connection
  - meshops.istio.attributes
  - meshops.istio.attributes.check_mode
  - meshops.istio.attributes.diff_mode
"""

EXAMPLES = r"""
- name: Point every injected namespace at the new revision
  meshops.istio.namespace_revision:
    revision: 1-29-2
    all_injected: true
  register: moved

- name: Roll back exactly to the labels of before
  meshops.istio.namespace_revision:
    restore: "{{ moved.restore }}"

- name: Two namespaces onto the canary tag, connection set once for the collection
  module_defaults:
    group/meshops.istio.istio:
      context: prod-cluster
  block:
    - name: Move shop and payments
      meshops.istio.namespace_revision:
        revision: canary
        namespaces:
          - shop
          - payments

- name: Preview moving the team's namespaces, except one
  meshops.istio.namespace_revision:
    revision: 1-29-2
    namespace_selector: team=payments
    exclude:
      - payments-batch
  check_mode: true
  diff: true
"""

RETURN = r"""
msg:
  description: One-line summary.
  returned: always
  type: str
  sample: "4 namespaces in scope, 4 changed: bookinfo, payments, shop, tagged now on revision 1-29-2; 1 skipped (legacy: disabled)"
revision:
  description: The revision the namespaces were pointed at (the one O(revision) stands for); null with O(restore).
  returned: always
  type: str
  sample: 1-29-2
tag:
  description: The tag given in O(revision), if it is one.
  returned: always
  type: str
  sample: null
namespaces:
  description: Every namespace in scope, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The namespace.
      type: str
      sample: bookinfo
    before:
      description: Its injection labels before (C(istio-injection), C(istio.io/rev); absent keys were not set).
      type: dict
      sample: {"istio-injection": "enabled"}
    after:
      description: Its injection labels after.
      type: dict
      sample: {"istio.io/rev": "1-29-2"}
    changed:
      description: Whether its labels changed (in check mode, would change).
      type: bool
      sample: true
    injected:
      description: Whether a new pod there (without injection labels of its own) gets a sidecar, with the labels after.
      type: bool
      sample: true
    new_pod_revision:
      description: The revision whose istiod injects new pods there, found by evaluating the webhooks present on the
        labels after; null when none does.
      type: str
      sample: 1-29-2
    new_pod_tag:
      description: The tag through which that revision is selected, if any.
      type: str
      sample: null
    reason:
      description: Why new pods there are or are not injected.
      type: str
      sample: webhook rev.namespace.sidecar-injector.istio.io of istio-sidecar-injector-1-29-2 matches; revision 1-29-2 injects
restore:
  description: Namespace name to its injection labels before this run; pass it as O(restore) to undo the change.
  returned: always
  type: dict
  sample: {"bookinfo": {"istio-injection": "enabled"}, "shop": {"istio.io/rev": "1-28-1"}}
namespaces_skipped:
  description: Namespaces chosen by label (or named in O(exclude)) but left alone, with the reason.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The namespace.
      type: str
      sample: legacy
    reason:
      description: V(excluded), V(system), V(disabled) or V(terminating).
      type: str
      sample: disabled
    message:
      description: The reason in words.
      type: str
      sample: "injection is turned off (istio-injection=disabled); left alone: name it in namespaces to include it"
"""

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio.namespace_labels import (
    LabelChange,
    restore_labels,
    restore_problems,
    revision_labels,
)
from ansible_collections.meshops.istio.plugins.module_utils.istio.revision import revision_problems
from ansible_collections.meshops.istio.plugins.module_utils.istio.scope import (
    ScopeOptions,
    namespace_labels,
    namespace_name,
    scope_problems,
)
from ansible_collections.meshops.istio.plugins.module_utils.istio.target_revision import reaches_target, resolve_target
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import InjectionDecision, evaluate_injection
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.module import MeshModule, diff_of, run_module
from ansible_collections.meshops.istio.plugins.module_utils.k8s.scope_args import with_scope
from ansible_collections.meshops.istio.plugins.module_utils.mesh_reads.snapshot import read_control_plane
from ansible_collections.meshops.istio.plugins.module_utils.mesh_reads.namespace_scope import read_scope

ARGUMENT_SPEC = with_scope({
    "revision": {"type": "str"},
    "restore": {"type": "dict"},
})


def scope_of(params: dict) -> tuple[ScopeOptions, list[str]]:
    """The namespace scope and the problems with the options, found before any request."""
    restore = params["restore"]
    if restore is None:
        options = ScopeOptions.from_params(params)
    else:
        options = ScopeOptions(namespaces=tuple(restore), exclude=tuple(params["exclude"] or ()))
    if params["revision"] is None and restore is None:
        return options, ["give revision (to point namespaces at it) or restore (to bring back the labels an earlier run returned)"]
    if params["revision"] is not None and restore is not None:
        return options, ["revision and restore are mutually exclusive: point namespaces at a revision, or restore earlier labels"]
    problems = revision_problems(params["revision"]) if restore is None else []
    if restore is not None:
        used = [name for name in ("namespaces", "namespace_selector") if params[name] is not None]
        used += ["all_injected"] if params["all_injected"] else []
        if used:
            problems.append("restore chooses the namespaces itself (the keys of the map): leave out %s" % ", ".join(used))
        problems += restore_problems(restore)
    return options, problems + scope_problems(options)


def run(module: MeshModule) -> dict:
    """Validate, read the control plane and the namespaces, then patch the namespaces whose labels change."""
    params = module.params
    restore = params["restore"]
    options, problems = scope_of(params)
    if problems:
        raise MeshError("; ".join(problems))
    snapshot = read_control_plane(module.api)
    target = None
    if restore is None:
        target, problems = resolve_target(snapshot.control_plane, params["revision"])
        if problems:
            raise MeshError("; ".join(problems))
    scope = read_scope(module.api, options)
    if scope.not_found:
        raise MeshError("namespaces not found: %s; nothing was changed. Create them, or leave them out (exclude)"
                        % ", ".join(scope.not_found), result={"namespaces_not_found": scope.not_found})

    changes = [LabelChange(namespace_name(ns), namespace_labels(ns),
                           restore_labels(restore[namespace_name(ns)]) if restore is not None else revision_labels(target.name))
               for ns in scope.namespaces]
    decisions = [evaluate_injection(snapshot.mutating_webhooks, change.name, change.labels_after) for change in changes]
    results = [_describe(change, decision) for change, decision in zip(changes, decisions)]
    if target is not None:
        # istiod injects no pod in the Kubernetes system namespaces whatever their labels: nothing to reach there
        wrong = [r for r, decision in zip(results, decisions)
                 if r["name"] not in L.IGNORED_NAMESPACES and not reaches_target(decision, target)]
        if wrong:
            raise MeshError("no injector webhook would give new pods revision %s in %s; nothing was changed. Check the "
                            "revision's MutatingWebhookConfiguration" % (
                                target.revision, "; ".join("%s (%s)" % (r["name"], r["reason"]) for r in wrong)))

    for change in changes:
        if change.changed:
            module.api.patch(R.NAMESPACES.path(name=change.name), change.merge_patch(), "merge", dry_run=module.dry_run)
    if restore is not None:
        for result in results:
            if result["after"] and not result["injected"] and result["name"] not in L.IGNORED_NAMESPACES:
                module.warn("namespace %s: restored labels %s select no revision that injects now: %s"
                            % (result["name"], result["after"], result["reason"]))

    changed_names = [c.name for c in changes if c.changed]
    return {
        "changed": bool(changed_names),
        "msg": _summary(results, changed_names, scope.skipped, target, module.check_mode),
        "revision": target.revision if target else None,
        "tag": target.tag if target else None,
        "namespaces": results,
        "restore": {c.name: c.before for c in changes},
        "namespaces_skipped": scope.skipped,
        "diff": diff_of({c.name: c.before for c in changes if c.changed}, {c.name: c.after for c in changes if c.changed}),
    }


def _describe(change: LabelChange, decision: InjectionDecision) -> dict:
    return {"name": change.name, "before": change.before, "after": dict(change.after), "changed": change.changed,
            "injected": decision.injected, "new_pod_revision": decision.revision, "new_pod_tag": decision.tag,
            "reason": decision.reason}


def _summary(results: list, changed_names: list, skipped: list, target, check_mode: bool) -> str:
    where = "on revision %s" % target.revision if target else "restored"
    if target and target.tag:
        where += " (tag %s)" % target.tag
    verb = "would be" if check_mode else "now"
    msg = "%d namespace%s in scope, %d changed" % (len(results), "" if len(results) == 1 else "s", len(changed_names))
    if changed_names:
        msg += ": %s %s %s" % (", ".join(changed_names), verb, where)
    if skipped:
        msg += "; %d skipped (%s)" % (len(skipped), ", ".join("%s: %s" % (s["name"], s["reason"]) for s in skipped))
    return msg


def main() -> None:
    """Run the module."""
    run_module(run, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
