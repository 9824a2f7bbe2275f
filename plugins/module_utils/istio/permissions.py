# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The least-privilege RBAC rules of the collection: the one list both the shipped Roles and the preflight read.

Every permission the playbooks use is one :class:`Permission`: which rule set holds it (``read``: every stage and
``mesh_info``/``sidecar_audit``; ``upgrade``: the writes of the stages; ``installer-<name>``: what one installer adds),
where it applies (``cluster``: a ClusterRole bound cluster-wide; ``control_plane``: a Role in the control plane's
namespace), and which stages need it. They were found from the code and proven from the simulated cluster's
request log of a full upgrade, finalize and rollback (tests/playbooks/test_rbac_playbook.py): each rule allows at
least one request no other rule allows.

A server-side apply that creates its object needs ``create`` as well as ``patch`` (kube-apiserver asks for both),
so the installers that apply hold both.

``rbac_objects`` renders the ClusterRoles, Roles and their bindings; ``required`` lists the (verb, group, resource,
namespace, stage) a run of some stages needs, for a SelfSubjectAccessReview each. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

STAGES = ("preflight", "control_plane", "data_plane", "gateways", "verify", "finalize", "rollback")
INSTALLERS = ("manifest", "helm", "istioctl")
NAME_PREFIX = "meshops-istio-"

_ALL = STAGES
_READ_VERBS = ("get", "list")
_WEBHOOKS = ("mutatingwebhookconfigurations", "validatingwebhookconfigurations")
_REMOVES = ("finalize", "rollback")  # the stages that take a control plane offline
_INSTALLS = ("preflight", "control_plane") + _REMOVES  # preflight dry-runs the install


@dataclass(frozen=True)
class Permission:
    """Some verbs on some resources of one API group, in one rule set and scope, and the stages that use them."""

    rule_set: str
    scope: str  # "cluster" or "control_plane"
    group: str
    resources: tuple
    verbs: tuple
    stages: tuple
    why: str

    def rule(self) -> dict:
        """The PolicyRule."""
        return {"apiGroups": [self.group], "resources": list(self.resources), "verbs": list(self.verbs)}


def _p(rule_set, scope, group, resources, verbs, stages, why) -> Permission:
    return Permission(rule_set, scope, group, tuple(resources), tuple(verbs), tuple(stages), why)


PERMISSIONS = (
    # read: every stage reads the mesh (context.yml, mesh_info, sidecar_audit, the gates)
    _p("read", "cluster", "", ("namespaces",), _READ_VERBS, _ALL, "the mesh's namespaces"),
    _p("read", "cluster", "", ("pods",), ("list",), _ALL, "the pods and their sidecars (sidecar_audit, the gates)"),
    _p("read", "cluster", "apps", ("deployments", "statefulsets", "daemonsets"), _READ_VERBS, _ALL,
       "workloads to restart, istiod Deployments and gateways"),
    _p("read", "cluster", "apps", ("replicasets",), ("list",), _ALL, "the owners of pods (which workload restarts them)"),
    _p("read", "cluster", "admissionregistration.k8s.io", _WEBHOOKS, _READ_VERBS, _ALL,
       "revisions, tags and the default validator"),
    _p("read", "control_plane", "", ("configmaps",), ("get",), _ALL, "the upgrade record and each revision's installer record"),
    _p("read", "control_plane", "", ("services",), ("list",), _ALL, "the Services of the revisions and tags"),
    # upgrade: the writes of the stages, whatever the installer
    _p("upgrade", "control_plane", "", ("configmaps",), ("create", "update"), _ALL, "the upgrade record (upgrade_record)"),
    _p("upgrade", "cluster", "", ("namespaces",), ("patch",), ("preflight", "data_plane", "rollback"),
       "the namespaces' injection labels (namespace_revision)"),
    _p("upgrade", "cluster", "apps", ("deployments", "statefulsets", "daemonsets"), ("patch",),
       ("preflight", "control_plane", "data_plane", "gateways", "rollback"),
       "restarts in waves (workload_restart), gateway moves (gateway_revision), istiod's Deployment"),
    _p("upgrade", "cluster", "admissionregistration.k8s.io", _WEBHOOKS, ("update",), ("data_plane", "finalize", "rollback"),
       "moving revision tags and the default validator (revision_tag)"),
    _p("upgrade", "control_plane", "", ("services",), ("create", "delete"), _INSTALLS + ("data_plane",),
       "the Services of the tags and revisions (revision_tag, control plane install and removal)"),
    _p("upgrade", "control_plane", "", ("services",), ("update",), ("data_plane", "finalize", "rollback"),
       "moving a tag's Service (istiod-revision-tag-<tag>, made by istioctl tag set) with its tag (revision_tag)"),
    # the manifest installer: the control plane's own objects, applied server-side and removed by its record
    _p("installer-manifest", "control_plane", "", ("configmaps",), ("patch", "delete"), _INSTALLS,
       "istiod's ConfigMaps and the installer's record (created with the upgrade set's create)"),
    _p("installer-manifest", "control_plane", "", ("serviceaccounts",), ("create", "patch", "delete"), _INSTALLS,
       "istiod's ServiceAccount"),
    _p("installer-manifest", "control_plane", "", ("services",), ("patch",), _INSTALLS, "istiod's Service"),
    _p("installer-manifest", "control_plane", "apps", ("deployments",), ("create", "delete"), _INSTALLS,
       "istiod's Deployment (patched with the upgrade set's patch)"),
    _p("installer-manifest", "control_plane", "autoscaling", ("horizontalpodautoscalers",), ("create", "patch", "delete"), _INSTALLS,
       "istiod's HorizontalPodAutoscaler"),
    _p("installer-manifest", "control_plane", "policy", ("poddisruptionbudgets",), ("create", "patch", "delete"), _INSTALLS,
       "istiod's PodDisruptionBudget"),
    _p("installer-manifest", "control_plane", "rbac.authorization.k8s.io", ("roles", "rolebindings"), ("create", "patch", "delete"),
       _INSTALLS, "istiod's Role and RoleBinding"),
    _p("installer-manifest", "control_plane", "rbac.authorization.k8s.io", ("roles",), ("bind", "escalate"), _INSTALLS,
       "istiod's Role grants what this identity does not hold: the API server asks for escalate and bind"),
    _p("installer-manifest", "cluster", "rbac.authorization.k8s.io", ("clusterroles", "clusterrolebindings"),
       ("create", "patch", "delete"), _INSTALLS, "istiod's ClusterRoles and ClusterRoleBindings"),
    _p("installer-manifest", "cluster", "rbac.authorization.k8s.io", ("clusterroles",), ("bind", "escalate"), _INSTALLS,
       "istiod's ClusterRoles grant what this identity does not hold: the API server asks for escalate and bind"),
    _p("installer-manifest", "cluster", "admissionregistration.k8s.io", _WEBHOOKS, ("create", "patch", "delete"), _INSTALLS,
       "istiod's injector and validator webhook configurations"),
    _p("installer-manifest", "cluster", "apiextensions.k8s.io", ("customresourcedefinitions",),
       ("get", "list", "create", "patch", "update"), ("preflight", "control_plane"), "Istio's CRDs"),
    # helm: the same objects written by helm, and its release Secrets in the namespace
    _p("installer-helm", "control_plane", "", ("secrets",), ("get", "list", "create", "update", "delete"), _INSTALLS,
       "Helm's release records (Secrets sh.helm.release.v1.*)"),
    _p("installer-helm", "control_plane", "", ("configmaps", "services", "serviceaccounts"),
       ("get", "list", "create", "update", "patch", "delete"), _INSTALLS, "istiod's ConfigMaps, Service and ServiceAccount"),
    _p("installer-helm", "control_plane", "apps", ("deployments",), ("get", "list", "create", "update", "patch", "delete"),
       _INSTALLS, "istiod's Deployment"),
    _p("installer-helm", "control_plane", "autoscaling", ("horizontalpodautoscalers",),
       ("get", "list", "create", "update", "patch", "delete"), _INSTALLS, "istiod's HorizontalPodAutoscaler"),
    _p("installer-helm", "control_plane", "policy", ("poddisruptionbudgets",), ("get", "list", "create", "update", "patch", "delete"),
       _INSTALLS, "istiod's PodDisruptionBudget"),
    _p("installer-helm", "control_plane", "rbac.authorization.k8s.io", ("roles", "rolebindings"),
       ("get", "list", "create", "update", "patch", "delete"), _INSTALLS, "istiod's Role and RoleBinding"),
    _p("installer-helm", "control_plane", "rbac.authorization.k8s.io", ("roles",), ("bind", "escalate"), _INSTALLS,
       "istiod's Role grants what this identity does not hold: the API server asks for escalate and bind"),
    _p("installer-helm", "cluster", "rbac.authorization.k8s.io", ("clusterroles", "clusterrolebindings"),
       ("get", "list", "create", "update", "patch", "delete"), _INSTALLS, "istiod's ClusterRoles and ClusterRoleBindings"),
    _p("installer-helm", "cluster", "rbac.authorization.k8s.io", ("clusterroles",), ("bind", "escalate"), _INSTALLS,
       "istiod's ClusterRoles grant what this identity does not hold: the API server asks for escalate and bind"),
    _p("installer-helm", "cluster", "admissionregistration.k8s.io", _WEBHOOKS, ("get", "list", "create", "update", "patch", "delete"),
       _INSTALLS, "istiod's injector and validator webhook configurations"),
    _p("installer-helm", "cluster", "apiextensions.k8s.io", ("customresourcedefinitions",),
       ("get", "list", "create", "patch", "update"), ("preflight", "control_plane"), "Istio's CRDs"),
    # istioctl: applies server-side, and its uninstall finds the revision's objects by label in every namespace
    _p("installer-istioctl", "cluster", "", ("configmaps", "services", "serviceaccounts"), ("get", "list", "create", "patch", "delete"),
       _INSTALLS, "istiod's ConfigMaps, Service and ServiceAccount (uninstall lists them cluster-wide)"),
    _p("installer-istioctl", "cluster", "apps", ("deployments",), ("get", "list", "create", "patch", "delete"), _INSTALLS,
       "istiod's Deployment"),
    _p("installer-istioctl", "cluster", "autoscaling", ("horizontalpodautoscalers",), ("get", "list", "create", "patch", "delete"), _INSTALLS,
       "istiod's HorizontalPodAutoscaler"),
    _p("installer-istioctl", "cluster", "policy", ("poddisruptionbudgets",), ("get", "list", "create", "patch", "delete"), _INSTALLS,
       "istiod's PodDisruptionBudget"),
    _p("installer-istioctl", "cluster", "rbac.authorization.k8s.io", ("roles", "rolebindings", "clusterroles", "clusterrolebindings"),
       ("get", "list", "create", "patch", "delete"), _INSTALLS, "istiod's Roles, ClusterRoles and their bindings"),
    _p("installer-istioctl", "cluster", "rbac.authorization.k8s.io", ("roles", "clusterroles"), ("bind", "escalate"), _INSTALLS,
       "istiod's roles grant what this identity does not hold: the API server asks for escalate and bind"),
    _p("installer-istioctl", "cluster", "admissionregistration.k8s.io", _WEBHOOKS, ("get", "list", "create", "patch", "delete"), _INSTALLS,
       "istiod's injector and validator webhook configurations"),
    _p("installer-istioctl", "cluster", "apiextensions.k8s.io", ("customresourcedefinitions",),
       ("get", "list", "create", "patch", "update"), ("preflight", "control_plane"), "Istio's CRDs"),
)


def rule_sets(installers=INSTALLERS, read_only: bool = False) -> tuple:
    """The rule sets to ship: ``read`` alone, or ``read``, ``upgrade`` and one per installer."""
    unknown = sorted(set(installers) - set(INSTALLERS))
    if unknown:
        raise ValueError("unknown installer(s) %s: choose from %s" % (", ".join(unknown), ", ".join(INSTALLERS)))
    if read_only:
        return ("read",)
    return ("read", "upgrade") + tuple("installer-%s" % name for name in INSTALLERS if name in installers)


def permissions(sets, stages=STAGES, permission_list=PERMISSIONS) -> list:
    """The permissions of some rule sets used by some stages."""
    return [p for p in permission_list if p.rule_set in sets and set(p.stages) & set(stages)]


def role_name(rule_set: str) -> str:
    """``meshops-istio-<set>``: the name of a set's ClusterRole and Role, and of their bindings."""
    return NAME_PREFIX + rule_set


def _subject(subject: dict) -> dict:
    kind = subject.get("kind") or "ServiceAccount"
    entry = {"kind": kind, "name": subject["name"]}
    if kind == "ServiceAccount":
        entry["namespace"] = subject["namespace"]
    else:
        entry["apiGroup"] = "rbac.authorization.k8s.io"
    return entry


def rbac_objects(subject: dict, sets, control_plane_namespace: str, permission_list=PERMISSIONS) -> list:
    """The ClusterRoles and Roles of ``sets`` (one per set and scope that has rules) bound to ``subject``.

    ``subject``: ``{"kind": "ServiceAccount" | "User" | "Group", "name": ..., "namespace": ...}``.
    """
    labels = {"app.kubernetes.io/managed-by": "meshops.istio", "app.kubernetes.io/part-of": "meshops-istio"}
    objects = []
    for rule_set in sets:
        for scope, role_kind in (("cluster", "ClusterRole"), ("control_plane", "Role")):
            rules = [p.rule() for p in permission_list if p.rule_set == rule_set and p.scope == scope]
            if not rules:
                continue
            name = role_name(rule_set)
            meta = {"name": name, "labels": dict(labels, **{"meshops.istio/rule-set": rule_set})}
            if role_kind == "Role":
                meta["namespace"] = control_plane_namespace
            objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": role_kind, "metadata": meta, "rules": rules})
            objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": role_kind + "Binding", "metadata": dict(meta),
                            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
                            "subjects": [_subject(subject)]})
    return objects


def required(stages, installers, control_plane_namespace: str, permission_list=PERMISSIONS) -> list:
    """One entry per (verb, group, resource, namespace) the stages need, with the stages that need it, in order.

    ``namespace`` is the control plane's for namespaced rules and ``""`` (every namespace) for cluster ones.
    """
    sets = rule_sets(installers)
    found = {}
    for permission in permissions(sets, stages, permission_list):
        namespace = control_plane_namespace if permission.scope == "control_plane" else ""
        for resource in permission.resources:
            for verb in permission.verbs:
                key = (verb, permission.group, resource, namespace)
                entry = found.setdefault(key, {"verb": verb, "group": permission.group, "resource": resource,
                                               "namespace": namespace, "stages": [], "rule_set": permission.rule_set})
                entry["stages"] = sorted(set(entry["stages"]) | (set(permission.stages) & set(stages)), key=STAGES.index)
    return list(found.values())


def stages_for(entry_point: str, run_tags, finalize: bool) -> list:
    """The stages a run will go through, from its entry point (``upgrade``/``rollback``), ``--tags`` and finalize."""
    if entry_point == "rollback":
        return ["rollback"]
    tags = set(run_tags or ("all",))
    chosen = ["preflight"]
    for stage in ("control_plane", "data_plane", "gateways", "verify", "finalize"):
        if "all" in tags and (stage != "finalize" or finalize) or stage in tags:
            chosen.append(stage)
    return chosen


def describe_missing(entry: dict) -> str:
    """``patch namespaces (every namespace), for data_plane, rollback``: one missing permission for a person."""
    resource = "%s.%s" % (entry["resource"], entry["group"]) if entry["group"] else entry["resource"]
    where = "in namespace %s" % entry["namespace"] if entry["namespace"] else "cluster-wide"
    return "%s %s %s (rule set %s), needed by %s" % (
        entry["verb"], resource, where, role_name(entry["rule_set"]), ", ".join(entry["stages"]))
