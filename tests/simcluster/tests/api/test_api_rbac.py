"""RBAC over HTTPS: ServiceAccount tokens from TokenRequest, Roles and bindings, impersonation, access reviews,
escalation, and the 403 Status kube-apiserver sends; the cluster's own controllers stay unrestricted."""
from __future__ import annotations

SA_USER = "system:serviceaccount:ops:runner"
RBAC = "/apis/rbac.authorization.k8s.io/v1"


def _service_account(raw) -> str:
    assert raw("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}})[0] == 201
    assert raw("POST", "/api/v1/namespaces/ops/serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                                                                  "metadata": {"name": "runner"}})[0] == 201
    status, _headers, body = raw("POST", "/api/v1/namespaces/ops/serviceaccounts/runner/token",
                                 {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
    assert status == 201 and body["kind"] == "TokenRequest" and body["status"]["token"]
    return body["status"]["token"]


def _grant(raw, name: str, rules: list, namespace: str = "") -> None:
    kind = "Role" if namespace else "ClusterRole"
    base = f"{RBAC}/namespaces/{namespace}" if namespace else RBAC
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "rules": rules}
    assert raw("POST", f"{base}/{kind.lower()}s", role)[0] == 201
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind + "Binding", "metadata": {"name": name},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": "ops"}]}
    assert raw("POST", f"{base}/{kind.lower()}bindings", binding)[0] == 201


def test_a_service_account_token_is_denied_until_a_binding_allows(raw, sim):
    token = _service_account(raw)
    status, _headers, body = raw("GET", "/api/v1/namespaces/ops/configmaps", token=token)
    assert status == 403
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Forbidden", "code": 403,
                    "message": f'configmaps is forbidden: User "{SA_USER}" cannot list resource "configmaps" in API group "" '
                               'in the namespace "ops"',
                    "details": {"kind": "configmaps"}}
    status, _headers, body = raw("PATCH", "/apis/apps/v1/namespaces/ops/deployments/web/scale", {}, token=token,
                                 headers={"Content-Type": "application/merge-patch+json"})
    assert status == 403 and body["message"] == (f'deployments.apps "web" is forbidden: User "{SA_USER}" cannot patch resource '
                                                 '"deployments/scale" in API group "apps" in the namespace "ops"')
    assert raw("GET", "/apis/apps/v1", token=token)[0] == 200  # discovery: every authenticated user
    assert raw("GET", "/api/v1/pods", token="not-a-token")[0] == 401
    assert raw("GET", "/_sim/requests", token=token)[0] == 401  # the instruments are the admin's

    _grant(raw, "cm-reader", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}], namespace="ops")
    assert raw("GET", "/api/v1/namespaces/ops/configmaps", token=token)[0] == 200
    assert raw("GET", "/api/v1/namespaces/default/configmaps", token=token)[0] == 403
    records = [r for r in sim.requests if r.path == "/api/v1/namespaces/ops/configmaps"]
    assert [(r.user, r.status) for r in records] == [(SA_USER, 403), (SA_USER, 200)]


def test_the_controllers_write_what_the_requester_may_not(raw):
    token = _service_account(raw)
    _grant(raw, "deployer", [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}], namespace="ops")
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    assert raw("POST", "/apis/apps/v1/namespaces/ops/deployments", deployment, token=token)[0] == 201
    raw.cluster.settle(10)
    assert raw("GET", "/api/v1/namespaces/ops/pods", token=token)[0] == 403
    assert len(raw.cluster.store.list("pods", "ops")[0]) == 1


def test_impersonation_needs_the_impersonate_verb(raw):
    token = _service_account(raw)
    as_alice = {"Impersonate-User": "alice"}
    status, _headers, body = raw("GET", "/api/v1/namespaces", token=token, headers=as_alice)
    assert status == 403 and body["message"] == (f'users "alice" is forbidden: User "{SA_USER}" cannot impersonate resource "users" '
                                                 'in API group "" at the cluster scope')
    _grant(raw, "impersonator", [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"], "resourceNames": ["alice"]}])
    status, _headers, body = raw("GET", "/api/v1/namespaces", token=token, headers=as_alice)
    assert status == 403 and body["message"].startswith('namespaces is forbidden: User "alice" cannot list')
    status, _headers, body = raw("GET", "/api/v1/namespaces", token=token, headers=dict(as_alice, **{"Impersonate-Group": "admins"}))
    assert status == 403 and body["message"].startswith('groups "admins" is forbidden')
    # the admin (system:masters) may impersonate anyone, and then has only their rights
    status, _headers, body = raw("GET", "/api/v1/namespaces/ops/configmaps", headers={"Impersonate-User": SA_USER})
    assert status == 403 and f'User "{SA_USER}" cannot list' in body["message"]
    assert raw.cluster.requests[-1].user == SA_USER


def test_access_reviews(raw):
    token = _service_account(raw)
    _grant(raw, "labeller", [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["patch"]}])
    raw.cluster.clear_requests()
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"verb": "patch", "resource": "namespaces", "name": "ops"}}}
    status, _headers, body = raw("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review, token=token)
    assert status == 201 and body["status"]["allowed"] is True and 'ClusterRoleBinding "labeller"' in body["status"]["reason"]
    review["spec"]["resourceAttributes"]["verb"] = "delete"
    status, _headers, body = raw("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review, token=token)
    assert status == 201 and body["status"] == {"allowed": False}
    subject = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
               "spec": {"user": SA_USER, "groups": ["system:authenticated"],
                        "resourceAttributes": {"verb": "patch", "resource": "namespaces"}}}
    assert raw("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", subject)[2]["status"]["allowed"] is True
    # SubjectAccessReview is for those allowed to create it; the ServiceAccount is not
    assert raw("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", subject, token=token)[0] == 403
    assert not raw.cluster.writes() and len(raw.cluster.requests) == 4  # reviews are answered, never stored


def test_a_role_granting_more_than_its_writer_holds_needs_escalate(raw):
    token = _service_account(raw)
    _grant(raw, "role-writer", [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["create"]},
                                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])
    wide = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "wide"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}
    status, _headers, body = raw("POST", f"{RBAC}/clusterroles", wide, token=token)
    assert status == 403 and body["message"] == (
        f'clusterroles.rbac.authorization.k8s.io "wide" is forbidden: user "{SA_USER}" (groups=["system:serviceaccounts" '
        '"system:serviceaccounts:ops" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n'
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}')
    narrow = dict(wide, metadata={"name": "narrow"}, rules=[{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])
    assert raw("POST", f"{RBAC}/clusterroles", narrow, token=token)[0] == 201
    _grant(raw, "escalator", [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["escalate"]}])
    assert raw("POST", f"{RBAC}/clusterroles", wide, token=token)[0] == 201


def test_a_server_side_apply_that_creates_needs_create(raw):
    token = _service_account(raw)
    _grant(raw, "applier", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["patch"]}], namespace="ops")
    apply = {"Content-Type": "application/apply-patch+yaml"}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    path = "/api/v1/namespaces/ops/configmaps/c?fieldManager=test"
    status, _headers, body = raw("PATCH", path, cm, token=token, headers=apply)
    assert status == 403 and body["message"] == (f'configmaps "c" is forbidden: User "{SA_USER}" cannot create resource "configmaps" '
                                                 'in API group "" in the namespace "ops"')
    assert raw("PATCH", path, cm, headers=apply)[0] == 201  # the admin creates it
    assert raw("PATCH", path, dict(cm, data={"a": "2"}), token=token, headers=apply)[0] == 200  # patch suffices now
