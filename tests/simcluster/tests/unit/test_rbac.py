"""The simulated cluster's RBAC rules, case by case (tests/simcluster/rbac.py), against a store of Roles and bindings."""
from __future__ import annotations

import pytest

from tests.simcluster import rbac
from tests.simcluster.store import Store

ALICE = rbac.User("alice", ("devs", rbac.AUTHENTICATED))
SA = rbac.User("system:serviceaccount:ops:runner", ("system:serviceaccounts", "system:serviceaccounts:ops", rbac.AUTHENTICATED))


def _a(verb, resource="", group="", namespace="", name="", subresource="", user=ALICE):
    return rbac.Attributes(user, verb, group, resource, subresource, namespace, name)


def _url(verb, path, user=ALICE):
    return rbac.Attributes(user, verb, path=path, resource_request=False)


RULE_CASES = [
    # (rule, attributes, allowed)
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, _a("get", "pods", namespace="x"), True),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, _a("list", "pods", namespace="x"), False),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}, _a("delete", "pods", namespace="x"), True),
    ({"apiGroups": ["apps"], "resources": ["pods"], "verbs": ["get"]}, _a("get", "pods"), False),
    ({"apiGroups": ["*"], "resources": ["deployments"], "verbs": ["get"]}, _a("get", "deployments", "apps"), True),
    ({"apiGroups": ["apps"], "resources": ["*"], "verbs": ["patch"]}, _a("patch", "deployments", "apps"), True),
    # a subresource is its own resource: pods does not grant pods/status, pods/status does not grant pods
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["patch"]}, _a("patch", "pods", subresource="status"), False),
    ({"apiGroups": [""], "resources": ["pods/status"], "verbs": ["patch"]}, _a("patch", "pods", subresource="status"), True),
    ({"apiGroups": [""], "resources": ["pods/status"], "verbs": ["patch"]}, _a("patch", "pods"), False),
    ({"apiGroups": [""], "resources": ["*/status"], "verbs": ["get"]}, _a("get", "services", subresource="status"), True),
    ({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}, _a("get", "pods", subresource="log"), True),
    # resourceNames limit named requests; a list has no name, so it is not allowed
    ({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["rec"], "verbs": ["get"]}, _a("get", "configmaps", name="rec"), True),
    ({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["rec"], "verbs": ["get"]}, _a("get", "configmaps", name="other"), False),
    ({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["rec"], "verbs": ["list"]}, _a("list", "configmaps"), False),
    # non-resource URLs: exact or a trailing *; a resource rule never allows a path
    ({"nonResourceURLs": ["/healthz"], "verbs": ["get"]}, _url("get", "/healthz"), True),
    ({"nonResourceURLs": ["/apis/*"], "verbs": ["get"]}, _url("get", "/apis/apps/v1"), True),
    ({"nonResourceURLs": ["/apis"], "verbs": ["get"]}, _url("get", "/apis/apps"), False),
    ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, _url("get", "/metrics"), False),
    ({"nonResourceURLs": ["*"], "verbs": ["*"]}, _a("get", "pods"), False),
]


@pytest.mark.parametrize("rule,attrs,allowed", RULE_CASES)
def test_rule_allows(rule, attrs, allowed):
    assert rbac.rule_allows(rule, attrs) is allowed


SUBJECT_CASES = [
    ({"kind": "User", "name": "alice"}, ALICE, "", True),
    ({"kind": "User", "name": "bob"}, ALICE, "", False),
    ({"kind": "Group", "name": "devs"}, ALICE, "", True),
    ({"kind": "Group", "name": "system:serviceaccounts:ops"}, SA, "", True),
    ({"kind": "ServiceAccount", "name": "runner", "namespace": "ops"}, SA, "", True),
    ({"kind": "ServiceAccount", "name": "runner"}, SA, "ops", True),  # a RoleBinding's own namespace
    ({"kind": "ServiceAccount", "name": "runner", "namespace": "other"}, SA, "", False),
]


@pytest.mark.parametrize("subject,user,namespace,matches", SUBJECT_CASES)
def test_subject_matches(subject, user, namespace, matches):
    assert rbac.subject_matches(subject, user, namespace) is matches


def _rbac_store() -> Store:
    store = Store()
    role = {"apiVersion": "rbac.authorization.k8s.io/v1"}
    store.load([
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}},
        dict(role, kind="ClusterRole", metadata={"name": "reader"},
             rules=[{"apiGroups": [""], "resources": ["pods", "namespaces"], "verbs": ["get", "list"]}]),
        dict(role, kind="ClusterRole", metadata={"name": "labeller"},
             rules=[{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["patch"]}]),
        dict(role, kind="Role", metadata={"name": "writer", "namespace": "shop"},
             rules=[{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]}]),
        dict(role, kind="ClusterRoleBinding", metadata={"name": "devs-read"},
             roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "reader"},
             subjects=[{"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"}]),
        dict(role, kind="RoleBinding", metadata={"name": "alice-write", "namespace": "shop"},
             roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "writer"},
             subjects=[{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]),
        # a ClusterRole bound in one namespace only
        dict(role, kind="RoleBinding", metadata={"name": "alice-label", "namespace": "shop"},
             roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "labeller"},
             subjects=[{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]),
        dict(role, kind="ClusterRoleBinding", metadata={"name": "dangling"},
             roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "gone"},
             subjects=[{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]),
    ])
    return store


AUTHORIZE_CASES = [
    # (attributes, allowed, reason contains)
    (_a("get", "pods", namespace="other", name="p"), True, 'ClusterRoleBinding "devs-read" of ClusterRole "reader"'),
    (_a("patch", "deployments", "apps", "shop", "d"), True, 'RoleBinding "alice-write" in namespace "shop"'),
    (_a("patch", "deployments", "apps", "other", "d"), False, 'clusterrole.rbac.authorization.k8s.io "gone" not found'),
    (_a("patch", "deployments", "apps", "", ""), False, "gone"),  # every namespace: the RoleBinding does not count
    # the namespace of namespaces/<name> is its name: a RoleBinding in "shop" reaches namespace shop itself
    (_a("patch", "namespaces", "", "shop", "shop"), True, 'RoleBinding "alice-label"'),
    (_a("patch", "namespaces", "", "other", "other"), False, "gone"),
    (_a("get", "pods", user=SA), False, ""),
    (_a("create", "selfsubjectaccessreviews", "authorization.k8s.io", user=SA), True, "bootstrap"),
    (_url("get", "/apis/apps/v1", user=SA), True, "bootstrap"),
    (_url("get", "/metrics", user=SA), False, ""),
    (_a("delete", "nodes", user=rbac.User("root", (rbac.MASTERS,))), True, ""),
]


@pytest.mark.parametrize("attrs,allowed,reason", AUTHORIZE_CASES)
def test_authorize(attrs, allowed, reason):
    got, why = rbac.Authorizer(_rbac_store()).authorize(attrs)
    assert got is allowed and reason in why, why


FORBIDDEN_CASES = [
    (_a("patch", "namespaces", "", "shop", "shop", user=SA),
     'namespaces "shop" is forbidden: User "system:serviceaccount:ops:runner" cannot patch resource "namespaces" in API group "" '
     'in the namespace "shop"'),
    (_a("list", "deployments", "apps", user=SA),
     'deployments.apps is forbidden: User "system:serviceaccount:ops:runner" cannot list resource "deployments" in API group '
     '"apps" at the cluster scope'),
    (_a("update", "deployments", "apps", "shop", "web", "scale", user=SA),
     'deployments.apps "web" is forbidden: User "system:serviceaccount:ops:runner" cannot update resource "deployments/scale" '
     'in API group "apps" in the namespace "shop"'),
    (_url("get", "/metrics", user=SA), 'forbidden: User "system:serviceaccount:ops:runner" cannot get path "/metrics"'),
]


@pytest.mark.parametrize("attrs,message", FORBIDDEN_CASES)
def test_forbidden_message_is_kube_apiservers(attrs, message):
    error = rbac.forbidden(attrs)
    assert (error.code, error.reason, error.message) == (403, "Forbidden", message)
    if attrs.resource_request:
        assert error.status()["details"] == {k: v for k, v in {"name": attrs.name, "group": attrs.group, "kind": attrs.resource}.items() if v}


COVER_CASES = [
    # (owner rules, granted rules, uncovered count)
    ([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}], [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}], 0),
    ([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}], [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "delete"]}], 1),
    ([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}], [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}], 0),
    # a wildcard is granted only by a wildcard
    ([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}], [{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}], 1),
    ([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
     [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["a"], "verbs": ["get"]}], 0),
    ([{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["a"], "verbs": ["get"]}],
     [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}], 1),
    ([{"nonResourceURLs": ["/apis/*"], "verbs": ["get"]}], [{"nonResourceURLs": ["/apis/apps"], "verbs": ["get"]}], 0),
]


@pytest.mark.parametrize("owner,rules,count", COVER_CASES)
def test_escalation_needs_every_granted_permission(owner, rules, count):
    assert len(rbac.uncovered(owner, rules)) == count
