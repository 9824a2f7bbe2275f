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

from dataclasses import dataclass, field

from ansible_collections.meshops.istio.plugins.module_utils.istio import gateway as G
from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio.target_revision import resolve_target
from ansible_collections.meshops.istio.plugins.module_utils.istio.waves import Workload
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import evaluate_injection
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.module import MeshModule, diff_of
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
DEFAULT_CANARY_REPLICAS = 1


@dataclass
class GatewayChange:
    """One gateway: what it is, and what this run does to it and to its canary."""

    gateway: dict
    canary: dict | None
    labels_after: dict
    main_patch: dict | None = None
    canary_op: str | None = None  # "create", "patch" or "delete"
    canary_body: dict | None = None
    canary_labels_after: dict | None = None
    canary_replicas_after: int | None = None
    result: dict = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        """The gateway's namespace."""
        return self.gateway["metadata"]["namespace"]

    @property
    def name(self) -> str:
        """The gateway Deployment's name."""
        return self.gateway["metadata"]["name"]

    @property
    def key(self) -> str:
        """``namespace/name``."""
        return "%s/%s" % (self.namespace, self.name)

    @property
    def changed(self) -> bool:
        """True when the gateway or its canary is written."""
        return self.main_patch is not None or self.canary_op is not None


def option_problems(params: dict) -> list[str]:
    """What is wrong with the options, found before any request."""
    problems = []
    strategy, action = params["strategy"], params["action"]
    if params["names"] is not None and not params["namespace"]:
        problems.append("names needs namespace: give the namespace of the gateways %s" % ", ".join(params["names"]))
    if params["names"] is not None and not params["names"]:
        problems.append("names is empty: give at least one gateway Deployment name, or use selector")
    if params["selector"] is not None and not [s for s in params["selector"] if s.strip()]:
        problems.append("selector is empty: give a label selector such as istio=ingressgateway, or use names")
    if strategy == "in_place" and action != "start":
        problems.append("action=%s only applies to strategy=canary; with strategy=in_place leave action out" % action)
    if params["canary_replicas"] is not None:
        if strategy != "canary" or action != "start":
            problems.append("canary_replicas only applies to strategy=canary with action=start; leave it out")
        elif params["canary_replicas"] < 1:
            problems.append("canary_replicas must be at least 1 (to remove the canary use action=abort), not %d"
                            % params["canary_replicas"])
    if action != "abort" and not params["revision"]:
        problems.append("revision is required with action=%s: give the revision or tag to move the gateways to" % action)
    if params["wait_timeout"] < 0:
        problems.append("wait_timeout must be 0 or more seconds, not %d" % params["wait_timeout"])
    return problems


def read_namespaces(api, namespace: str | None) -> dict:
    """Labels of the namespaces by name: only ``namespace`` when given (a LIST narrowed by field selector), else all."""
    field_selector = "metadata.name=%s" % namespace if namespace else None
    found = api.list(R.NAMESPACES.path(), field_selector=field_selector)
    return {ns["metadata"]["name"]: (ns["metadata"].get("labels") or {}) for ns in found}


def select_gateways(deployments: list, params: dict) -> tuple[list, dict, list]:
    """The gateway Deployments chosen, every Deployment read by ``(namespace, name)``, and the problems found."""
    by_key = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in deployments}
    problems = []
    if params["names"] is not None:
        chosen = []
        for name in sorted(set(params["names"])):
            found = by_key.get((params["namespace"], name))
            if found is None:
                problems.append("gateway Deployment %s/%s not found; check the name and namespace" % (params["namespace"], name))
            elif G.canary_of(found):
                problems.append("Deployment %s/%s is the canary of gateway %s made by this module: name the gateway, not "
                                "its canary" % (params["namespace"], name, G.canary_of(found)))
            else:
                chosen.append(found)
    else:
        chosen = [d for d in deployments if not G.canary_of(d)]
        if not chosen:
            problems.append("no Deployment matches the selector %s in %s; check the selector with kubectl get deployments -l"
                            % (",".join(params["selector"]), "namespace %s" % params["namespace"] if params["namespace"]
                               else "any namespace"))
    for deployment in chosen:
        kind, why = G.gateway_kind(deployment)
        if kind != G.INJECTED:
            problems.append("Deployment %s/%s cannot be moved: %s" % (deployment["metadata"]["namespace"],
                                                                      deployment["metadata"]["name"], why))
    chosen.sort(key=lambda d: (d["metadata"]["namespace"], d["metadata"]["name"]))
    return chosen, by_key, problems


def plan(gateway: dict, by_key: dict, params: dict, target_name: str | None, warnings: list) -> tuple[GatewayChange, list]:
    """What to write for one gateway, and the problems that forbid it."""
    meta = gateway["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    labels = G.template_labels(gateway)
    annotations = G.template_annotations(gateway)
    existing = by_key.get((namespace, G.canary_name(name)))
    ours = existing if existing is not None and G.canary_of(existing) == name else None
    change = GatewayChange(gateway=gateway, canary=ours, labels_after=labels)
    strategy, action = params["strategy"], params["action"]
    problems = []
    if existing is not None and ours is None:
        text = ("Deployment %s/%s exists but was not made by this module for gateway %s (no annotation %s=%s)"
                % (namespace, G.canary_name(name), name, G.CANARY_OF, name))
        if strategy == "canary" and action == "start":
            problems.append(text + "; remove or rename it, or move it as a gateway of its own")
        elif strategy == "canary":
            warnings.append(text + "; it was left alone")
    if strategy == "in_place" or action == "promote":
        change.labels_after = G.moved_labels(labels, annotations, target_name)
        change.main_patch = G.labels_patch(labels, change.labels_after)
    if strategy == "in_place" and ours is not None:
        warnings.append("%s/%s: its canary %s still exists; remove it with strategy=canary action=abort"
                        % (namespace, name, G.canary_name(name)))
    if strategy == "canary" and action == "start" and not problems:
        replicas = params["canary_replicas"] or DEFAULT_CANARY_REPLICAS
        change.canary_replicas_after = replicas
        if ours is None:
            change.canary_op, change.canary_body = "create", G.canary_deployment(gateway, target_name, replicas)
        else:
            change.canary_body = G.canary_patch(ours, target_name, replicas)
            change.canary_op = "patch" if change.canary_body else None
        source = ours if ours is not None else change.canary_body
        change.canary_labels_after = G.moved_labels(G.template_labels(source), G.template_annotations(source), target_name)
    elif ours is not None and action in ("promote", "abort"):
        canary_label = G.template_labels(ours).get(L.REV)
        if action == "promote" and canary_label != target_name:
            problems.append("the canary %s/%s runs %s=%s, not %s: promote with revision %s, or abort the canary"
                            % (namespace, G.canary_name(name), L.REV, canary_label, target_name, canary_label))
        change.canary_op = "delete"
    elif ours is not None:
        change.canary_labels_after = G.template_labels(ours)
        change.canary_replicas_after = (ours.get("spec") or {}).get("replicas")
    return change, problems


def describe(change: GatewayChange, params: dict, mutating: list, namespaces: dict, target, warnings: list) -> list[str]:
    """Fill ``change.result`` (revisions before and after, by evaluating the webhooks) and check the target is reached."""
    problems = []
    ns_labels = namespaces.get(change.namespace, {})

    def injecting(deployment: dict, pod_labels: dict):
        spec = G.pod_template(deployment).get("spec") or {}
        decision = evaluate_injection(mutating, change.namespace, ns_labels, pod_labels, G.template_annotations(deployment),
                                      bool(spec.get("hostNetwork")))
        if decision.overlap:
            warnings.append("%s: %s" % (change.key, decision.reason))
        return decision

    before = injecting(change.gateway, G.template_labels(change.gateway))
    after = injecting(change.gateway, change.labels_after)
    canary = None
    moved = []
    if params["strategy"] == "in_place" or params["action"] == "promote":
        moved.append((change.key, after))
    if params["strategy"] == "canary":
        name = G.canary_name(change.name)
        canary_before = injecting(change.canary, G.template_labels(change.canary)).revision if change.canary else None
        canary_after = None
        if change.canary_labels_after is not None:
            source = change.canary if change.canary is not None else change.canary_body
            decision = injecting(source, change.canary_labels_after)
            canary_after = decision.revision
            if params["action"] == "start":
                moved.append(("%s/%s" % (change.namespace, name), decision))
        canary = {"name": name, "before": canary_before, "after": canary_after,
                  "replicas": change.canary_replicas_after if change.canary_labels_after is not None else None}
    for key, decision in moved:
        if decision.revision != target.revision or not decision.injected:
            problems.append("%s: new pods would %s, not by revision %s: %s.%s" % (
                key, "be injected by revision %s" % decision.revision if decision.injected else "get no proxy",
                target.revision, decision.reason, _namespace_hint(change.namespace, ns_labels, target.name)))
    change.result = {
        "namespace": change.namespace, "name": change.name, "strategy": params["strategy"], "action": params["action"],
        "changed": change.changed, "before": before.revision, "after": after.revision,
        "label_before": G.template_labels(change.gateway).get(L.REV), "label_after": change.labels_after.get(L.REV),
        "canary": canary,
    }
    return problems


def _namespace_hint(namespace: str, ns_labels: dict, target_name: str) -> str:
    found = ["%s=%s" % (key, ns_labels[key]) for key in (L.ISTIO_INJECTION, L.REV) if key in ns_labels]
    if not found:
        return " Check the revision's MutatingWebhookConfiguration"
    return (" The namespace %s is labelled %s, which takes precedence over the pod's %s label: point the namespace at %s "
            "(meshops.istio.namespace_revision) or remove its injection labels first" % (
                namespace, ", ".join(found), L.REV, target_name))


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
            module.fail_json(
                msg="the rollout of %s did not complete: %s. The changes were made; canaries to delete were kept. Check "
                    "the pods (kubectl -n <namespace> get pods) and istiod of the new revision, then run again, or move the "
                    "gateways back to their earlier revision" % (
                        ", ".join("%s/%s" % (w.namespace, w.name) for w in stuck),
                        "; ".join(waited.messages[w] for w in stuck)),
                changed=True, gateways=[c.result for c in changes])
    for change in changes:
        if change.canary_op == "delete":
            api.delete(R.DEPLOYMENTS.path(change.namespace, G.canary_name(change.name)), dry_run=dry_run,
                       propagation_policy="Background", missing_ok=True)


def run(module: MeshModule) -> dict:
    """Validate, read, plan and check every gateway, then write."""
    params = module.params
    problems = option_problems(params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    snapshot = read_control_plane(module.api)
    target = None
    if params["action"] != "abort":
        target, problems = resolve_target(snapshot.control_plane, params["revision"])
        if problems:
            module.fail_json(msg="; ".join(problems) + "; nothing was changed")
    namespaces = read_namespaces(module.api, params["namespace"])
    if params["namespace"] and params["namespace"] not in namespaces:
        module.fail_json(msg="namespace %s not found; nothing was changed. Check the namespace of the gateways" % params["namespace"])
    selector = ",".join(s for s in params["selector"] or [] if s.strip()) or None
    deployments = module.api.list(R.DEPLOYMENTS.path(params["namespace"]), label_selector=selector)
    gateways, by_key, problems = select_gateways(deployments, params)
    warnings: list = []
    changes = []
    target_name = target.name if target else None
    for gateway in gateways:
        change, found = plan(gateway, by_key, params, target_name, warnings)
        problems += found
        if not found and target is not None:
            problems += describe(change, params, snapshot.mutating_webhooks, namespaces, target, warnings)
        elif not found:
            describe_abort(change, params)
        changes.append(change)
    if problems:
        module.fail_json(msg="; ".join(problems) + "; nothing was changed")
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
        "diff": diff_of({k: v for c in changed for k, v in _state(c, after=False).items()},
                        {k: v for c in changed for k, v in _state(c, after=True).items()}),
    }


def describe_abort(change: GatewayChange, params: dict) -> None:
    """Fill ``change.result`` for action=abort: the gateway is left as it is, the canary goes."""
    revision = G.template_labels(change.gateway).get(L.REV)
    canary = G.canary_name(change.name)
    change.result = {
        "namespace": change.namespace, "name": change.name, "strategy": params["strategy"], "action": params["action"],
        "changed": change.changed, "before": None, "after": None, "label_before": revision, "label_after": revision,
        "canary": {"name": canary, "before": G.template_labels(change.canary).get(L.REV) if change.canary else None,
                   "after": None, "replicas": None},
    }


def _state(change: GatewayChange, after: bool) -> dict:
    """The diff entries of one gateway: the gateway and its canary, by ``namespace/name`` (absent canary left out)."""
    replicas = (change.gateway.get("spec") or {}).get("replicas")
    labels = change.labels_after if after else G.template_labels(change.gateway)
    state = {change.key: G.summary(labels, replicas)}
    canary_key = "%s/%s" % (change.namespace, G.canary_name(change.name))
    if after and change.canary_op in ("create", "patch"):
        state[canary_key] = G.summary(change.canary_labels_after, change.canary_replicas_after)
    elif change.canary is not None and not (after and change.canary_op == "delete"):
        state[canary_key] = G.summary(G.template_labels(change.canary), (change.canary.get("spec") or {}).get("replicas"))
    return state


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
    module = MeshModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                        mutually_exclusive=[("names", "selector")], required_one_of=[("names", "selector")])
    module.run(run)


if __name__ == "__main__":
    main()
