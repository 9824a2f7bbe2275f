"""operator_rbac and access_review against the simulated cluster, which enforces RBAC."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio import permissions as perms
from ansible_collections.meshops.istio.plugins.modules import access_review, operator_rbac

RBAC = "rbac.authorization.k8s.io"
SUBJECT = {"kind": "ServiceAccount", "name": "runner", "namespace": "istio-system"}


@pytest.fixture(autouse=True)
def control_plane_namespace(sim):
    """The namespace of the Roles and the ServiceAccount."""
    sim.load([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}])


def _token_auth(sim, sim_auth) -> dict:
    return dict(sim_auth, api_key=sim.service_account_token("istio-system", "runner"))


def test_operator_rbac_check_diff_apply_idempotent_absent(sim, sim_auth, run_module):
    args = dict(sim_auth, subject=SUBJECT, installers=["helm"])
    planned = run_module(operator_rbac.main, args, check_mode=True, diff=True)
    assert planned.rc == 0 and planned.result["changed"], planned.result
    assert not sim.writes() and sim.store.get("serviceaccounts", "istio-system", "runner") is None
    assert [o["metadata"]["name"] for o in planned.result["diff"]["after"]][:1] == ["meshops-istio-read"]
    assert planned.result["diff"]["before"][0] is None

    applied = run_module(operator_rbac.main, args)
    assert applied.rc == 0 and applied.result["changed"]
    assert applied.result["rule_sets"] == ["read", "upgrade", "installer-helm"]
    assert applied.result["changed_objects"][0] == "ServiceAccount/istio-system/runner"
    helm_role = sim.store.get(f"{RBAC}/roles", "istio-system", "meshops-istio-installer-helm")
    assert {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "create", "update", "delete"]} in helm_role["rules"]
    assert sim.store.get(f"{RBAC}/clusterroles", None, "meshops-istio-installer-manifest") is None

    sim.clear_requests()
    again = run_module(operator_rbac.main, args)
    assert again.rc == 0 and not again.result["changed"] and not sim.writes()

    role = sim.store.get(f"{RBAC}/clusterroles", None, "meshops-istio-upgrade")
    role["rules"] = role["rules"][1:]
    sim.store.update(role)
    repaired = run_module(operator_rbac.main, args)
    assert repaired.result["changed_objects"] == ["ClusterRole/meshops-istio-upgrade"]

    removed = run_module(operator_rbac.main, dict(args, state="absent"))
    assert removed.rc == 0 and removed.result["changed"]
    assert removed.result["changed_objects"][0].startswith("ClusterRoleBinding/")  # bindings first
    assert not [o for o in sim.store.list(f"{RBAC}/clusterroles")[0] if o["metadata"]["name"].startswith("meshops-istio-")]
    assert not run_module(operator_rbac.main, dict(args, state="absent")).result["changed"]


def test_operator_rbac_needs_an_installer_or_read_only(sim_auth, sim, run_module):
    failed = run_module(operator_rbac.main, dict(sim_auth, subject=SUBJECT, installers=[]))
    assert failed.failed and "installers is empty" in failed.result["msg"] and not sim.requests


def test_access_review_lists_every_missing_permission_and_passes_once_granted(sim, sim_auth, run_module):
    run_module(operator_rbac.main, dict(sim_auth, subject=SUBJECT, read_only=True))
    args = dict(_token_auth(sim, sim_auth), run_tags=["data_plane"])
    sim.clear_requests()
    refused = run_module(access_review.main, args, check_mode=True)
    assert refused.failed
    missing = refused.result["error"]["missing"]
    needed = perms.required(["preflight", "data_plane"], ["manifest"], "istio-system")
    assert len(missing) == len([e for e in needed if e["rule_set"] != "read"]) > 0
    assert "- patch namespaces cluster-wide (rule set meshops-istio-upgrade), needed by preflight, data_plane" in refused.result["msg"]
    assert "- create configmaps in namespace istio-system (rule set meshops-istio-upgrade)" in refused.result["msg"]
    assert not sim.writes() and {r.resource for r in sim.requests} == {"authorization.k8s.io/selfsubjectaccessreviews"}

    run_module(operator_rbac.main, dict(sim_auth, subject=SUBJECT))
    held = run_module(access_review.main, args)
    assert held.rc == 0 and held.result["missing"] == [] and held.result["stages"] == ["preflight", "data_plane"]
    assert held.result["checked"] == len(needed)
