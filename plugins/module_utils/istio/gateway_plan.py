# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What gateway_revision does to each gateway: the options' problems, the gateways chosen, the writes planned for
each gateway and its canary, and the revisions their new pods get before and after (pure: input are plain dicts).

The module reads the Deployments, namespaces and webhook configurations, calls these functions, and writes the
:class:`GatewayChange` they return; everything that decides is here, with table tests beside the other ``istio/``
ones. Gateways and canaries themselves (which Deployments are injected gateways, the labels that move them, the
canary's body) are in gateway.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.meshops.istio.plugins.module_utils.istio import gateway as G
from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio.target_revision import Target, reaches_target
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import evaluate_injection

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


def plan_gateway(gateway: dict, by_key: dict, params: dict, target_name: str | None,
                 warnings: list) -> tuple[GatewayChange, list]:
    """What to write for one gateway (``by_key``: every Deployment read, by ``(namespace, name)``; ``target_name``:
    the revision or tag given, None for action=abort), and the problems that forbid it; warnings are appended."""
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


def describe_gateway(change: GatewayChange, params: dict, mutating: list, namespaces: dict, target: Target,
                     warnings: list) -> list[str]:
    """Fill ``change.result`` (revisions before and after, by evaluating the webhooks ``mutating`` with the labels of
    ``namespaces``, name -> labels) and return the problems: new pods of a gateway moved, or of its canary, that would
    not be injected by the target's revision."""
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
        if not reaches_target(decision, target):
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


def diff_state(change: GatewayChange, after: bool) -> dict:
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


def plan_gateways(gateways: list, by_key: dict, params: dict, target: Target | None, mutating: list,
                  namespaces: dict) -> tuple[list, list, list]:
    """Plan and describe every gateway chosen: ``(changes, problems, warnings)``; nothing may be written while
    ``problems`` is not empty. ``target`` is None for action=abort."""
    problems: list = []
    warnings: list = []
    changes = []
    for gateway in gateways:
        change, found = plan_gateway(gateway, by_key, params, target.name if target else None, warnings)
        problems += found
        if not found and target is not None:
            problems += describe_gateway(change, params, mutating, namespaces, target, warnings)
        elif not found:
            describe_abort(change, params)
        changes.append(change)
    return changes, problems, warnings
