"""The one list of permissions (plugins/module_utils/istio/permissions.py): the shipped objects, the preflight's
checks and the table of docs/rbac.md all come from it."""

from __future__ import annotations

import os

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio import permissions as perms

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "rbac.md")
SA = {"kind": "ServiceAccount", "name": "mesh-upgrader", "namespace": "ops"}


def rules_table() -> str:
    """The table of docs/rbac.md, rendered from the permissions."""
    lines = ["| rule set | where | API group | resources | verbs | stages | why |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for p in perms.PERMISSIONS:
        where = "ClusterRole" if p.scope == "cluster" else "Role in the control plane's namespace"
        cells = (perms.role_name(p.rule_set), where, p.group or '""', ", ".join(p.resources), ", ".join(p.verbs),
                 ", ".join(p.stages), p.why)
        lines.append("| %s |" % " | ".join(cells))
    return "\n".join(lines)


def test_the_docs_table_is_the_shipped_list():
    with open(DOC, encoding="utf-8") as handle:
        assert rules_table() in handle.read(), "docs/rbac.md's table differs from permissions.py: paste\n" + rules_table()


def test_objects_per_rule_set_and_scope():
    objects = perms.rbac_objects(SA, perms.rule_sets(["manifest"]), "istio-system")
    names = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects]
    assert names == [("ClusterRole", None, "meshops-istio-read"), ("ClusterRoleBinding", None, "meshops-istio-read"),
                     ("Role", "istio-system", "meshops-istio-read"), ("RoleBinding", "istio-system", "meshops-istio-read"),
                     ("ClusterRole", None, "meshops-istio-upgrade"), ("ClusterRoleBinding", None, "meshops-istio-upgrade"),
                     ("Role", "istio-system", "meshops-istio-upgrade"), ("RoleBinding", "istio-system", "meshops-istio-upgrade"),
                     ("ClusterRole", None, "meshops-istio-installer-manifest"),
                     ("ClusterRoleBinding", None, "meshops-istio-installer-manifest"),
                     ("Role", "istio-system", "meshops-istio-installer-manifest"),
                     ("RoleBinding", "istio-system", "meshops-istio-installer-manifest")]
    assert objects[1]["subjects"] == [{"kind": "ServiceAccount", "name": "mesh-upgrader", "namespace": "ops"}]
    read_only = perms.rbac_objects({"kind": "Group", "name": "sre"}, perms.rule_sets((), read_only=True), "istio-system")
    assert {o["metadata"]["name"] for o in read_only} == {"meshops-istio-read"}
    assert all(set(rule["verbs"]) <= {"get", "list"} for o in read_only if "rules" in o for rule in o["rules"])
    assert read_only[1]["subjects"] == [{"kind": "Group", "name": "sre", "apiGroup": "rbac.authorization.k8s.io"}]


def test_unknown_installer():
    with pytest.raises(ValueError, match="unknown installer"):
        perms.rule_sets(["kustomize"])


@pytest.mark.parametrize("entry,tags,finalize,stages", [
    ("upgrade", ["all"], False, ["preflight", "control_plane", "data_plane", "gateways", "verify"]),
    ("upgrade", ["all"], True, ["preflight", "control_plane", "data_plane", "gateways", "verify", "finalize"]),
    ("upgrade", ["control_plane"], False, ["preflight", "control_plane"]),
    ("upgrade", ["finalize"], False, ["preflight", "finalize"]),
    ("rollback", ["all"], False, ["rollback"]),
])
def test_stages_of_a_run(entry, tags, finalize, stages):
    assert perms.stages_for(entry, tags, finalize) == stages


def test_required_lists_each_permission_once_with_its_stages():
    needed = perms.required(["preflight", "control_plane"], ["manifest"], "istio-system")
    keys = [(e["verb"], e["group"], e["resource"], e["namespace"]) for e in needed]
    assert len(keys) == len(set(keys))
    patch_namespaces = next(e for e in needed if (e["verb"], e["resource"]) == ("patch", "namespaces"))
    assert patch_namespaces == {"verb": "patch", "group": "", "resource": "namespaces", "namespace": "", "stages": ["preflight"],
                                "rule_set": "upgrade"}
    assert ("create", "apps", "deployments", "istio-system") in keys  # a server-side apply that creates needs create
    # the data plane stage alone touches no control plane object
    assert not [e for e in perms.required(["data_plane"], ["manifest"], "istio-system") if e["rule_set"] == "installer-manifest"]
    assert ("get", "", "configmaps", "istio-system") in keys
    helm = perms.required(["control_plane"], ["helm"], "istio-system")
    assert any(e["resource"] == "secrets" for e in helm) and not any(e["rule_set"] == "installer-manifest" for e in helm)
    assert perms.describe_missing(patch_namespaces) == "patch namespaces cluster-wide (rule set meshops-istio-upgrade), needed by preflight"
