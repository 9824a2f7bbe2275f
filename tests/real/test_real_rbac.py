"""The shipped least-privilege rules on the real cluster (kube-apiserver with RBAC): upgrade, rollback and finalize
pass as a ServiceAccount bound to only them (its token from a real TokenRequest), and the API server's own 403 is
worded as the simulated cluster's (tests/simcluster/rbac.py)."""

from __future__ import annotations

import json
import urllib.error

import pytest
import yaml

from tests.real.conftest import TARGET, state
from tests.realcluster.cluster import api_request
from tests.simcluster import rbac

SA_NAMESPACE, SA_NAME = "istio-system", "mesh-upgrader"
SA_USER = f"system:serviceaccount:{SA_NAMESPACE}:{SA_NAME}"


def _kubeconfig_with_token(admin_kubeconfig: str, token: str, path) -> str:
    with open(admin_kubeconfig, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    config["users"][0]["user"] = {"token": token}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return str(path)


@pytest.mark.usefixtures("source_adopted")
def test_upgrade_rollback_finalize_as_a_service_account_with_only_the_shipped_rules(real_mesh, run_playbook, tmp_path):
    granted = run_playbook("rbac", istio_rbac_subject_name=SA_NAME)
    assert granted.rc == 0, granted.output
    token = api_request(real_mesh.kubeconfig, "POST", f"/api/v1/namespaces/{SA_NAMESPACE}/serviceaccounts/{SA_NAME}/token",
                        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}})
    upgrader = _kubeconfig_with_token(real_mesh.kubeconfig, token["status"]["token"], tmp_path / "upgrader.kubeconfig")
    as_upgrader = {"istio_k8s_auth": {"kubeconfig": upgrader}}

    # the API server's own 403, as the simulated cluster words it
    with pytest.raises(urllib.error.HTTPError) as denied:
        api_request(upgrader, "GET", "/api/v1/namespaces/istio-system/secrets")
    body = json.loads(denied.value.read())
    attrs = rbac.Attributes(rbac.User(SA_USER), "list", "", "secrets", namespace="istio-system")
    assert (denied.value.code, body["message"]) == (403, rbac.forbidden(attrs).message)

    # the bare pod no restart rebuilds: verify would refuse it (tests/real/test_real_upgrade.py shows that)
    real_mesh.kubectl("delete", "pod", "-n", "tagged", "debug", "--wait=true")
    assert real_mesh.settle(60)
    before = state(real_mesh)
    done = run_playbook("upgrade", **as_upgrader)
    assert done.rc == 0, done.output
    assert state(real_mesh)["sidecars"]["bookinfo"] == {TARGET.revision}
    back = run_playbook("rollback", **as_upgrader)
    assert back.rc == 0, back.output
    assert real_mesh.settle(60)
    assert state(real_mesh)["labels"] == before["labels"] and state(real_mesh)["stage"] == "rolled_back"

    real_mesh.kubectl("delete", "deployment", "-n", "batch", "worker")
    real_mesh.kubectl("delete", "job", "-n", "batch", "report", "--cascade=foreground")
    assert real_mesh.settle(60)
    final = run_playbook("upgrade", istio_upgrade_finalize=True, **as_upgrader)
    assert final.rc == 0, final.output
    finalized = state(real_mesh)
    assert finalized["istiods"] == ["istiod-" + TARGET.revision] and finalized["stage"] == "finalized"
