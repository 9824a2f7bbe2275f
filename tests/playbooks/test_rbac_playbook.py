"""Least privilege, proven on the simulated cluster (which enforces RBAC as kube-apiserver does).

playbooks/rbac.yml grants a ServiceAccount the shipped rules; upgrade, rollback and finalize then pass as that
ServiceAccount (its token from TokenRequest). From the request log of those runs, every shipped rule is shown to be
the only one allowing at least one request (evaluated with the simulated cluster's own RBAC evaluator); removing a
rule makes preflight list it, and the module that meets the 403 names verb, resource, namespace and what to do.
"""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.meshops.istio.plugins.module_utils.istio import permissions as perms
from ansible_collections.meshops.istio.plugins.modules import namespace_revision

from tests.playbooks.conftest import SOURCE, TARGET, source_installed_with_manifest, state
from tests.simcluster import rbac

SA_NAMESPACE, SA_NAME = "istio-system", "mesh-upgrader"
SA_USER = f"system:serviceaccount:{SA_NAMESPACE}:{SA_NAME}"
RBAC_VARS = {"istio_rbac_subject_name": SA_NAME, "istio_rbac_installers": ["manifest"]}
# Permissions of the manifest installer's rule set the sample control plane does not exercise, and why they stay.
# (group, resource, verb or "*") -> why; each is needed on the real cluster (tests/real/test_real_rbac.py).
NOT_EXERCISED = {
    ("policy", "poddisruptionbudgets", "*"): "Istio's istiod chart renders a PodDisruptionBudget; the sample control plane has none",
    ("apiextensions.k8s.io", "customresourcedefinitions", "*"): "the sample's target manifest holds no CRDs, so none is "
                                                                "written (tests/modules/test_mesh_control_plane_crds.py)",
    ("", "services", "update"): "istioctl tag set makes a Service per tag, which revision_tag moves; the sample mesh's tags have none",
}


def _not_exercised(rule: dict) -> bool:
    group, resource, verb = rule["apiGroups"][0], rule["resources"][0], rule["verbs"][0]
    return (group, resource, "*") in NOT_EXERCISED or (group, resource, verb) in NOT_EXERCISED


_RBAC_WRITES = ("create", "update", "patch")


def _attributes(record: dict) -> list[rbac.Attributes]:
    """What the API server authorized for one logged request (the create of an apply that created, the escalate /
    bind check of an RBAC write included)."""
    user = rbac.User(record["user"], ())
    if not record["verb"]:
        return [rbac.Attributes(user, "get", path=record["path"], resource_request=False)]
    group, _slash, plural = record["resource"].rpartition("/")
    namespace = record["namespace"] or (record["name"] if plural == "namespaces" else "")
    found = [rbac.Attributes(user, record["verb"], group, plural, record["subresource"], namespace, record["name"])]
    if record["verb"] == "patch" and record["status"] == 201:  # a server-side apply that created: create is asked too
        found.append(rbac.Attributes(user, "create", group, plural, "", namespace, record["name"]))
    if group == rbac.RBAC_GROUP and record["verb"] in _RBAC_WRITES:
        if plural in ("roles", "clusterroles"):
            found.append(rbac.Attributes(user, "escalate", group, plural, "", namespace, record["name"]))
        else:  # the sample control plane's bindings are named as their roles
            found.append(rbac.Attributes(user, "bind", group, plural.replace("bindings", "s"), "", namespace, record["name"]))
    return found


def _atoms(sets, namespace: str) -> list[tuple[str, dict]]:
    """Each shipped (set, scope, group, resource, verb) as one single-verb rule, with where it applies."""
    atoms = []
    for permission in perms.PERMISSIONS:
        if permission.rule_set not in sets:
            continue
        where = namespace if permission.scope == "control_plane" else ""
        for resource in permission.resources:
            for verb in permission.verbs:
                atoms.append((where, {"apiGroups": [permission.group], "resources": [resource], "verbs": [verb],
                                      "set": permission.rule_set}))
    return atoms


def unique_atoms(records: list[dict], sets, namespace: str) -> tuple[set, list]:
    """The shipped single-verb rules that alone allow some request, and the requests no shipped rule allows."""
    atoms = _atoms(sets, namespace)
    alone, unallowed = set(), []
    for record in records:
        for attrs in _attributes(record):
            if not attrs.resource_request or (attrs.group, attrs.resource) in (("authorization.k8s.io", "selfsubjectaccessreviews"),):
                continue  # discovery and self reviews: the bootstrap policy of every authenticated user
            allowing = [i for i, (where, rule) in enumerate(atoms)
                        if (not where or where == attrs.namespace) and rbac.rule_allows(rule, attrs)]
            if not allowing:
                unallowed.append(f"{attrs.verb} {attrs.resource} {attrs.namespace}/{attrs.name}")
            elif len(allowing) == 1:
                alone.add(allowing[0])
    return alone, unallowed


@pytest.fixture
def upgrader(sample_mesh, sim_kubeconfig, run_playbook, tmp_path):
    """The sample mesh, the shipped rules granted to istio-system/mesh-upgrader by rbac.yml, and its kubeconfig."""
    source_installed_with_manifest(sample_mesh, sim_kubeconfig)
    planned = run_playbook("rbac", "--check", "--diff", **RBAC_VARS)
    assert planned.rc == 0 and planned.changed == 1, planned.output
    assert sample_mesh.store.get("rbac.authorization.k8s.io/clusterroles", None, "meshops-istio-upgrade") is None
    granted = run_playbook("rbac", **RBAC_VARS)
    assert granted.rc == 0 and granted.changed == 1, granted.output
    again = run_playbook("rbac", **RBAC_VARS)
    assert again.rc == 0 and again.changed == 0, again.output
    token = sample_mesh.service_account_token(SA_NAMESPACE, SA_NAME)
    return sample_mesh.write_kubeconfig(str(tmp_path / "upgrader.kubeconfig"), token)


def _as(kubeconfig: str) -> dict:
    return {"istio_k8s_auth": {"kubeconfig": kubeconfig}}


def test_upgrade_rollback_finalize_as_a_service_account_with_only_the_shipped_rules(upgrader, sample_mesh, run_playbook):
    # the bare pod no restart rebuilds: verify would refuse it (tests/playbooks/test_upgrade_playbook.py shows that)
    sample_mesh.store.delete("pods", "tagged", "debug")
    sample_mesh.settle(20)
    before = state(sample_mesh)
    sample_mesh.clear_requests()
    done = run_playbook("upgrade", **_as(upgrader))
    assert done.rc == 0, done.output
    assert state(sample_mesh)["sidecars"]["bookinfo"] == {TARGET}
    back = run_playbook("rollback", **_as(upgrader))
    assert back.rc == 0, back.output
    assert state(sample_mesh)["labels"] == before["labels"] and state(sample_mesh)["stage"] == "rolled_back"
    for namespace, key, name in (("batch", "apps/deployments", "worker"), ("batch", "batch/jobs", "report")):
        sample_mesh.store.delete(key, namespace, name)
    sample_mesh.settle(20)
    final = run_playbook("upgrade", **_as(upgrader), istio_upgrade_finalize=True)
    assert final.rc == 0, final.output
    finalized = state(sample_mesh)
    assert finalized["istiods"] == ["istiod-" + TARGET] and finalized["stage"] == "finalized"

    records = [r.to_dict() for r in sample_mesh.requests]
    assert records and {r["user"] for r in records} == {SA_USER}
    assert not [r for r in records if r["status"] == 403], [f'{r["verb"]} {r["resource"]} {r["namespace"]}' for r in records if r["status"] == 403]
    sets = perms.rule_sets(["manifest"])
    alone, unallowed = unique_atoms(records, sets, "istio-system")
    assert not unallowed
    atoms = _atoms(sets, "istio-system")
    needless = sorted({f'{rule["set"]}: {rule["verbs"][0]} {rule["resources"][0]}.{rule["apiGroups"][0]}' for i, (_w, rule) in enumerate(atoms)
                       if i not in alone and not _not_exercised(rule)})
    assert not needless, "shipped permissions no request needed:\n" + "\n".join(needless)


def test_a_missing_rule_is_listed_by_preflight_before_any_write(upgrader, sample_mesh, run_playbook):
    rules = "rbac.authorization.k8s.io/clusterroles"
    role = sample_mesh.store.get(rules, None, "meshops-istio-upgrade")
    role["rules"] = [r for r in role["rules"] if r["resources"] != ["namespaces"]]
    sample_mesh.store.update(role)
    installer = sample_mesh.store.get(rules, None, "meshops-istio-installer-manifest")
    installer["rules"] = [r for r in installer["rules"] if "escalate" not in r["verbs"]]
    sample_mesh.store.update(installer)
    sample_mesh.clear_requests()

    refused = run_playbook("upgrade", **_as(upgrader))
    assert refused.rc != 0
    assert "lacks 3 permission(s)" in refused.output, refused.output
    assert "patch namespaces cluster-wide (rule set meshops-istio-upgrade), needed by preflight, data_plane" in refused.output
    assert "escalate clusterroles.rbac.authorization.k8s.io cluster-wide (rule set meshops-istio-installer-manifest)" in refused.output
    assert "bind clusterroles.rbac.authorization.k8s.io cluster-wide" in refused.output
    assert not sample_mesh.writes(), [f"{r.verb} {r.resource}" for r in sample_mesh.writes()]
    assert state(sample_mesh)["stage"] is None


def test_the_403_a_stage_meets_names_verb_resource_namespace_and_what_to_do(upgrader, sample_mesh, capsys):
    role = sample_mesh.store.get("rbac.authorization.k8s.io/clusterroles", None, "meshops-istio-upgrade")
    role["rules"] = [r for r in role["rules"] if r["resources"] != ["namespaces"]]
    sample_mesh.store.update(role)
    args = {"revision": SOURCE, "namespaces": ["bookinfo"], "kubeconfig": upgrader, "_ansible_check_mode": False, "_ansible_diff": False}
    with patch_module_args(args), pytest.raises(SystemExit):
        namespace_revision.main()
    failed = json.loads(capsys.readouterr().out)
    assert failed["failed"] and failed["msg"].startswith('forbidden: cannot patch namespaces "bookinfo" at '), failed["msg"]
    expected = (f'namespaces "bookinfo" is forbidden: User "{SA_USER}" cannot patch resource "namespaces" '
                'in API group "" in the namespace "bookinfo"')
    assert expected in failed["msg"], failed["msg"]
    assert "Grant this permission" in failed["msg"] and "playbooks/rbac.yml" in failed["msg"], failed["msg"]
    denied = [r for r in sample_mesh.requests if r.status == 403]
    assert [(r.verb, r.resource, r.name) for r in denied] == [("patch", "namespaces", "bookinfo")]
