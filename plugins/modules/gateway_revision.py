#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gateway_revision
short_description: Move injected Istio gateways to a revision, in place or through a canary Deployment
version_added: 0.1.0
description:
  - Moves gateway Deployments whose proxy is injected (as the C(istio/gateway) Helm chart deploys them, with an
    C(istio-proxy) container of C(image=auto) and the pod annotation C(inject.istio.io/templates=gateway)) to an Istio
    revision or revision tag, by setting the pod template label C(istio.io/rev). The label
    C(sidecar.istio.io/inject=true) stays beside it, as the chart writes it; a C(sidecar.istio.io/inject=false)
    that would stop every injector is turned into C(true).
  - With O(strategy=in_place), the gateway's pod template is changed, so its pods are replaced by a rolling update.
  - With O(strategy=canary), O(action=start) creates (or updates) C(<name>-canary), a copy of the gateway with the same
    selector and pod labels on the new revision, so that the gateway's Service sends it a share of the traffic in
    proportion to its replicas. O(action=promote) then moves the gateway itself in place and, once its rollout is
    complete, deletes the canary; O(action=abort) deletes the canary and leaves the gateway as it is.
  - Everything is checked before any write; if anything is wrong the module fails and changes nothing. The revision or
    tag must exist and its istiod must be ready; every gateway named must exist and be an injected gateway; and, by
    evaluating the MutatingWebhookConfigurations present with the namespace's labels as the API server does, new
    gateway pods must really be injected by that revision. A namespace labelled C(istio-injection) or C(istio.io/rev)
    takes precedence over the pod's C(istio.io/rev) label and makes this check fail.
  - Gateways deployed by an istioctl profile are not injected (C(sidecar.istio.io/inject=false) with a real
    C(proxyv2) image) and are refused; C(istioctl install --revision) rewrites those in place.
  - Reads with one LIST each of istiod Deployments, mutating and validating webhook configurations, namespaces
    (only the one of O(namespace) when it is given) and gateway Deployments; writes only what changes.
author:
  - meshops.istio maintainers (@meshops)
options:
  names:
    description:
      - Names of the gateway Deployments in O(namespace).
      - One of O(names) and O(selector) is required; they are mutually exclusive.
    type: list
    elements: str
    aliases:
      - name
  namespace:
    description:
      - Namespace of the gateways. Required with O(names).
      - With O(selector), look only in this namespace; without it, in every namespace.
    type: str
  selector:
    description:
      - Act on the Deployments whose labels match these label selectors (all of them), written as C(kubectl -l) takes
        them, for example V(istio=ingressgateway). Sent with the Deployment LIST, so the API server filters.
      - Every Deployment that matches must be an injected gateway. Canary Deployments made by this module are never
        selected as gateways of their own; they belong to their gateway.
    type: list
    elements: str
  revision:
    description:
      - The revision (for example V(1-29-2)) or revision tag (for example V(prod-stable)) to move the gateways to.
        A tag is written into the pod template as it is, so the gateway follows the tag afterwards.
      - Required unless O(action=abort), where it is not used.
    type: str
  strategy:
    description:
      - V(in_place) changes the gateway's own pod template.
      - V(canary) works through a second Deployment C(<name>-canary); see O(action).
    type: str
    choices:
      - in_place
      - canary
    default: in_place
  action:
    description:
      - What to do with O(strategy=canary). V(start) creates or updates the canary on O(revision). V(promote) moves
        the gateway in place to O(revision) and then deletes the canary (which must be on O(revision)). V(abort)
        deletes the canary.
      - Only V(start) applies to O(strategy=in_place).
    type: str
    choices:
      - start
      - promote
      - abort
    default: start
  canary_replicas:
    description:
      - Replicas of the canary Deployment. The gateway's Service spreads connections over the pods of both
        Deployments, so the canary's share of the traffic is about its replicas over the total.
      - Only with O(strategy=canary) and O(action=start). Default is V(1).
    type: int
  wait:
    description:
      - Wait until the rollouts of the Deployments changed are complete (every replica updated and available), as
        C(kubectl rollout status) does. Not done in check mode.
      - With O(action=promote), the canary is deleted only after the gateway's rollout is complete.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for the rollouts. When they do not complete in time, the module fails (changes
        made stay made) and names the gateways still rolling.
    type: int
    default: 300
extends_documentation_fragment:
  - meshops.istio.connection
  - meshops.istio.attributes
  - meshops.istio.attributes.check_mode
  - meshops.istio.attributes.diff_mode
notes:
  - RV(gateways[].before) and RV(gateways[].after) describe the pod template, that is the revision new pods get;
    pods created before keep their proxies until they are replaced.
seealso:
  - module: meshops.istio.mesh_info
  - module: meshops.istio.namespace_revision
"""

EXAMPLES = r"""
- name: Move the ingress gateway to the new revision in place
  meshops.istio.gateway_revision:
    names:
      - istio-ingressgateway
    namespace: istio-ingress
    revision: 1-29-2

- name: Send a share of the traffic of every ingress gateway to the new revision
  meshops.istio.gateway_revision:
    selector:
      - istio=ingressgateway
    revision: 1-29-2
    strategy: canary
    canary_replicas: 1

- name: Promote the canary (the gateway moves in place, then the canary goes)
  meshops.istio.gateway_revision:
    selector:
      - istio=ingressgateway
    revision: 1-29-2
    strategy: canary
    action: promote

- name: Or give up the canary
  meshops.istio.gateway_revision:
    selector:
      - istio=ingressgateway
    strategy: canary
    action: abort

- name: Preview, with the connection set once for the collection
  module_defaults:
    group/meshops.istio.istio:
      context: prod-cluster
  block:
    - name: What would move
      meshops.istio.gateway_revision:
        names: [istio-ingressgateway, istio-egressgateway]
        namespace: istio-gateways
        revision: prod-stable
      check_mode: true
      diff: true
"""

RETURN = r"""
msg:
  description: One-line summary.
  returned: always
  type: str
  sample: "1 gateway, 1 changed: istio-ingress/istio-ingressgateway moved to 1-29-2"
revision:
  description: The revision the gateways were moved to (O(revision) resolved through its tag); null for O(action=abort).
  returned: always
  type: str
  sample: 1-29-2
tag:
  description: The tag O(revision) named, null when it named a revision.
  returned: always
  type: str
  sample: null
version:
  description: The Istio version of RV(revision), read from its istiod image; null when unknown.
  returned: always
  type: str
  sample: 1.29.2
gateways:
  description: The gateways acted on, sorted by namespace and name.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: The gateway's namespace.
      type: str
      sample: istio-ingress
    name:
      description: The gateway Deployment.
      type: str
      sample: istio-ingressgateway
    strategy:
      description: O(strategy).
      type: str
      sample: in_place
    action:
      description: O(action).
      type: str
      sample: start
    changed:
      description: Whether the gateway or its canary was (or, in check mode, would be) changed.
      type: bool
      sample: true
    before:
      description: The revision that injected the gateway's new pods before; null when none would.
      type: str
      sample: 1-27-3
    after:
      description: The revision that injects the gateway's new pods now; null when none would.
      type: str
      sample: 1-29-2
    label_before:
      description: The pod template's C(istio.io/rev) label before; null when absent.
      type: str
      sample: 1-27-3
    label_after:
      description: The pod template's C(istio.io/rev) label now.
      type: str
      sample: 1-29-2
    canary:
      description: The canary Deployment; null with O(strategy=in_place).
      type: dict
      contains:
        name:
          description: Name of the canary Deployment.
          type: str
          sample: istio-ingressgateway-canary
        before:
          description: The revision that injected the canary's new pods before; null when there was no canary.
          type: str
          sample: null
        after:
          description: The revision that injects the canary's new pods now; null when there is no canary.
          type: str
          sample: 1-29-2
        replicas:
          description: The canary's replicas now; null when there is no canary.
          type: int
          sample: 1
"""

from ansible_collections.meshops.istio.plugins.module_utils.istio import gateway as G
from ansible_collections.meshops.istio.plugins.module_utils.istio.gateway_plan import (
    diff_state,
    option_problems,
    plan_gateways,
    select_gateways,
)
from ansible_collections.meshops.istio.plugins.module_utils.istio.target_revision import resolve_target
from ansible_collections.meshops.istio.plugins.module_utils.istio.waves import Workload
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.module import MeshModule, diff_of, run_module
from ansible_collections.meshops.istio.plugins.module_utils.k8s.rollout import wait_for_rollouts
from ansible_collections.meshops.istio.plugins.module_utils.mesh_reads.snapshot import read_control_plane

ARGUMENT_SPEC = {
    "names": {"type": "list", "elements": "str", "aliases": ["name"]},
    "namespace": {"type": "str"},
    "selector": {"type": "list", "elements": "str"},
    "revision": {"type": "str"},
    "strategy": {"type": "str", "choices": ["in_place", "canary"], "default": "in_place"},
    "action": {"type": "str", "choices": ["start", "promote", "abort"], "default": "start"},
    "canary_replicas": {"type": "int"},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 300},
}
POLL_INTERVAL = 1.0


def read_namespaces(api, namespace: str | None) -> dict:
    """Labels of the namespaces by name: only ``namespace`` when given (a LIST narrowed by field selector), else all."""
    field_selector = "metadata.name=%s" % namespace if namespace else None
    found = api.list(R.NAMESPACES.path(), field_selector=field_selector)
    return {ns["metadata"]["name"]: (ns["metadata"].get("labels") or {}) for ns in found}


def write(module: MeshModule, changes: list) -> None:
    """Patch the gateways and create or patch the canaries, wait, then delete the canaries to delete."""
    api, dry_run = module.api, module.dry_run
    rolling = []
    for change in changes:
        if change.main_patch is not None:
            api.patch(R.DEPLOYMENTS.path(change.namespace, change.name), change.main_patch, "merge", dry_run=dry_run)
            rolling.append(Workload(change.namespace, "Deployment", change.name))
        if change.canary_op == "create":
            api.create(R.DEPLOYMENTS.path(change.namespace), change.canary_body, dry_run=dry_run)
        elif change.canary_op == "patch":
            api.patch(R.DEPLOYMENTS.path(change.namespace, G.canary_name(change.name)), change.canary_body, "merge",
                      dry_run=dry_run)
        if change.canary_op in ("create", "patch"):
            rolling.append(Workload(change.namespace, "Deployment", G.canary_name(change.name)))
    if rolling and module.params["wait"] and not dry_run:
        waited = wait_for_rollouts(api, rolling, module.params["wait_timeout"], POLL_INTERVAL)
        if not waited.ok:
            stuck = [w for w in rolling if waited.status[w] != "complete"]
            raise MeshError(
                "the rollout of %s did not complete: %s. The changes were made; canaries to delete were kept. Check "
                "the pods (kubectl -n <namespace> get pods) and istiod of the new revision, then run again, or move the "
                "gateways back to their earlier revision" % (
                    ", ".join("%s/%s" % (w.namespace, w.name) for w in stuck),
                    "; ".join(waited.messages[w] for w in stuck)),
                result={"changed": True, "gateways": [c.result for c in changes]})
    for change in changes:
        if change.canary_op == "delete":
            api.delete(R.DEPLOYMENTS.path(change.namespace, G.canary_name(change.name)), dry_run=dry_run,
                       propagation_policy="Background", missing_ok=True)


def run(module: MeshModule) -> dict:
    """Validate, read, plan and check every gateway (istio/gateway_plan.py), then write."""
    params = module.params
    problems = option_problems(params)
    if problems:
        raise MeshError("; ".join(problems))
    snapshot = read_control_plane(module.api)
    target = None
    if params["action"] != "abort":
        target, problems = resolve_target(snapshot.control_plane, params["revision"])
        if problems:
            raise MeshError("; ".join(problems) + "; nothing was changed")
    namespaces = read_namespaces(module.api, params["namespace"])
    if params["namespace"] and params["namespace"] not in namespaces:
        raise MeshError("namespace %s not found; nothing was changed. Check the namespace of the gateways" % params["namespace"])
    selector = ",".join(s for s in params["selector"] or [] if s.strip()) or None
    deployments = module.api.list(R.DEPLOYMENTS.path(params["namespace"]), label_selector=selector)
    gateways, by_key, problems = select_gateways(deployments, params)
    changes, found, warnings = plan_gateways(gateways, by_key, params, target, snapshot.mutating_webhooks, namespaces)
    problems += found
    if problems:
        raise MeshError("; ".join(problems) + "; nothing was changed")
    for text in warnings:
        module.warn(text)
    write(module, changes)
    changed = [c for c in changes if c.changed]
    return {
        "changed": bool(changed),
        "msg": _summary(changes, changed, params, target, module.check_mode),
        "revision": target.revision if target else None,
        "tag": target.tag if target else None,
        "version": _version(snapshot.control_plane, target),
        "gateways": [c.result for c in changes],
        "diff": diff_of({k: v for c in changed for k, v in diff_state(c, after=False).items()},
                        {k: v for c in changed for k, v in diff_state(c, after=True).items()}),
    }


def _version(plane, target) -> str | None:
    if target is None or target.revision not in plane.revisions:
        return None
    found = plane.revisions[target.revision].version
    return found.release if found else None


def _summary(changes: list, changed: list, params: dict, target, check_mode: bool) -> str:
    msg = "%d gateway%s, %d changed" % (len(changes), "" if len(changes) == 1 else "s", len(changed))
    if not changed:
        return msg
    where = None
    if target is not None:
        where = target.revision + (" (tag %s)" % target.tag if target.tag else "")
    done = []
    for change in changed:
        canary = "%s/%s" % (change.namespace, G.canary_name(change.name))
        if params["action"] == "abort":
            done.append("%s removed" % canary)
        elif params["strategy"] == "canary" and params["action"] == "start":
            verb = "created" if change.canary_op == "create" else "updated"
            replicas = change.canary_replicas_after
            done.append("%s %s on %s with %d replica%s" % (canary, verb, where, replicas, "" if replicas == 1 else "s"))
        else:
            text = "%s moved to %s" % (change.key, where) if change.main_patch is not None else "%s on %s" % (change.key, where)
            done.append(text + (", canary removed" if change.canary_op == "delete" else ""))
    return msg + ": " + ("would be: " if check_mode else "") + "; ".join(done)


def main() -> None:
    """Run the module."""
    run_module(run, ARGUMENT_SPEC, mutually_exclusive=[("names", "selector")], required_one_of=[("names", "selector")])


if __name__ == "__main__":
    main()
