# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what the sidecar audit needs and run it: the glue shared by sidecar_audit and workload_restart.

Requests, whatever the number of pods: one LIST each of namespaces, istiod Deployments (``app=istiod``) and
MutatingWebhookConfigurations, and the pods and ReplicaSets of the scope (see k8s/scoped_list.py: one paginated
cluster-wide LIST, or one LIST per namespace when the scope is smaller than the pages left).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio.audit import Audit, Auditor, audit_pods, revision_versions
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import ControlPlane, discover
from ansible_collections.meshops.istio.plugins.module_utils.istio.revision import revision_problems
from ansible_collections.meshops.istio.plugins.module_utils.istio.scope import (
    SKIP_DISABLED,
    Scope,
    ScopeOptions,
    scope_problems,
    select_namespaces,
)
from ansible_collections.meshops.istio.plugins.module_utils.istio.target_revision import resolve_target
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.scoped_list import list_in_namespaces


@dataclass
class AuditRun:
    """Everything one audit read and found."""

    audit: Audit
    scope: Scope
    namespaces: list
    control_plane: ControlPlane
    revision_requested: str | None
    list_modes: dict = field(default_factory=dict)
    pods: list = field(default_factory=list)
    namespace_labels: dict = field(default_factory=dict)
    every_namespace: bool = False


def audit_scope_options(params: dict) -> ScopeOptions:
    """The scope options of an audit; with none of namespaces, namespace_selector and all_injected: every namespace."""
    options = ScopeOptions.from_params(params)
    if options.namespaces is None and options.namespace_selector is None and not options.all_injected:
        options = ScopeOptions(namespace_selector="", exclude=options.exclude)
    return options


def input_problems(params: dict) -> list[str]:
    """Problems with the scope and revision options, found before any request."""
    problems = scope_problems(audit_scope_options(params))
    revision = params.get("revision")
    if revision is not None:
        problems += ["revision: %s" % problem for problem in revision_problems(revision)]
    return problems


def audit_target(control_plane: ControlPlane, name: str | None) -> str | None:
    """The revision ``name`` (a revision or a tag) stands for, to audit against (istio/target_revision.py: it need
    not be ready); None without ``name``. Raises MeshError naming what is installed."""
    if name is None:
        return None
    target, problems = resolve_target(control_plane, name, require_ready=False)
    if problems:
        raise MeshError("; ".join(problems), revision=name)
    return target.revision


def run_audit(api, params: dict) -> AuditRun:
    """Read the scope's namespaces, the control plane, pods and ReplicaSets, and classify every pod.

    Namespaces chosen by label but skipped because injection is turned off there are audited too: their pods may
    still carry sidecars (class ``will_lose_sidecar``). Raises MeshError for bad input (before any write).
    """
    problems = input_problems(params)
    if problems:
        raise MeshError("; ".join(problems))
    options = audit_scope_options(params)
    namespaces = api.list(R.NAMESPACES.path(), label_selector=options.server_selector)
    scope = select_namespaces(namespaces, options)
    if scope.not_found:
        raise MeshError("namespace%s %s not found: create %s or remove %s from namespaces"
                        % ("" if len(scope.not_found) == 1 else "s", ", ".join(scope.not_found),
                           "it" if len(scope.not_found) == 1 else "them", "it" if len(scope.not_found) == 1 else "them"),
                        namespaces_not_found=scope.not_found)
    by_name = {(ns.get("metadata") or {}).get("name"): ns for ns in namespaces}
    audited = list(scope.namespaces) + [by_name[item["name"]] for item in scope.skipped if item["reason"] == SKIP_DISABLED]
    audited.sort(key=lambda ns: ns["metadata"]["name"])

    deployments = api.list(R.DEPLOYMENTS.path(), label_selector="%s=%s" % (L.APP, L.APP_ISTIOD))
    mutating = api.list(R.MUTATING_WEBHOOKS.path())
    control_plane = discover(deployments, mutating, [])
    target = audit_target(control_plane, params.get("revision"))

    names = [ns["metadata"]["name"] for ns in audited]
    every = len(names) == len(namespaces) and options.server_selector is None
    pods = list_in_namespaces(api, R.PODS, None if every else names)
    replicasets = list_in_namespaces(api, R.REPLICASETS, None if every else names)
    auditor = Auditor(audited, mutating, replicasets.items, revision_versions(control_plane), target)
    return AuditRun(audit=audit_pods(pods.items, auditor), scope=scope, namespaces=names, control_plane=control_plane,
                    revision_requested=params.get("revision"), list_modes={"pods": pods.mode, "replicasets": replicasets.mode},
                    pods=pods.items, namespace_labels={ns["metadata"]["name"]: ns["metadata"].get("labels") or {} for ns in audited},
                    every_namespace=every)
