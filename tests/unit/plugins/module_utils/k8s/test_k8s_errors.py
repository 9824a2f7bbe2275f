"""Error messages built, as KubeApi does, from real urllib3 responses carrying real Kubernetes Status bodies."""

from __future__ import annotations

import json

import pytest
import urllib3

from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import (
    api_error,
    connection_error,
    describe_request,
)

HOST = "https://10.0.0.1:6443"


def status_body(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if details is not None:
        body["details"] = details
    return body


def api_response(code, http_reason, body, headers=None):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    return urllib3.HTTPResponse(body=data, status=code, reason=http_reason, headers=headers or {}, preload_content=True)


def error_for(response, method, path, host):
    """The error KubeApi raises for ``response`` to ``method path`` at ``host``."""
    return api_error(response.status, response.reason or "", response.data, describe_request(method, path, host), response.headers)


@pytest.mark.parametrize("method, path, expected", [
    ("GET", "/api/v1/namespaces", ("list", "", "namespaces", None, None, None)),
    ("GET", "/api/v1/namespaces/shop", ("get", "", "namespaces", None, "shop", None)),
    ("PUT", "/api/v1/namespaces/shop/finalize", ("update", "", "namespaces", None, "shop", "finalize")),
    ("GET", "/api/v1/pods?limit=500", ("list", "", "pods", None, None, None)),
    ("POST", "/api/v1/namespaces/shop/pods", ("create", "", "pods", "shop", None, None)),
    ("PATCH", "/apis/apps/v1/namespaces/istio-system/deployments/istiod/scale",
     ("patch", "apps", "deployments", "istio-system", "istiod", "scale")),
    ("DELETE", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-revision-tag-default",
     ("delete", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", None, "istio-revision-tag-default", None)),
    ("DELETE", "/api/v1/namespaces/shop/pods", ("deletecollection", "", "pods", "shop", None, None)),
])
def test_describe_request(method, path, expected):
    info = describe_request(method, path, HOST)
    assert (info.verb, info.group, info.resource, info.namespace, info.name, info.subresource) == expected


def test_401_names_the_host_and_what_to_check():
    response = api_response(401, "Unauthorized", status_body(401, "Unauthorized", "Unauthorized"))
    error = error_for(response, "GET", "/api/v1/namespaces", HOST)
    assert error.msg == "authentication failed at https://10.0.0.1:6443: check the token or client certificate (HTTP 401 Unauthorized)"
    assert error.status == 401 and not error.retryable


def test_403_says_which_verb_on_which_resource_where():
    message = ('deployments.apps "istiod-1-29-2" is forbidden: User "system:serviceaccount:ci:deployer" cannot patch '
               'resource "deployments" in API group "apps" in the namespace "istio-system"')
    response = api_response(403, "Forbidden", status_body(403, "Forbidden", message,
                                                          {"name": "istiod-1-29-2", "group": "apps", "kind": "deployments"}))
    error = error_for(response, "PATCH", "/apis/apps/v1/namespaces/istio-system/deployments/istiod-1-29-2", HOST)
    assert error.msg.startswith('forbidden: cannot patch deployments.apps "istiod-1-29-2" in namespace istio-system at '
                                'https://10.0.0.1:6443: ' + message)
    assert "RBAC" in error.msg
    assert error.details["verb"] == "patch" and error.details["namespace"] == "istio-system"
    assert error.details["api_status"]["reason"] == "Forbidden"


def test_404():
    response = api_response(404, "Not Found", status_body(404, "NotFound", 'namespaces "shop" not found',
                                                          {"name": "shop", "kind": "namespaces"}))
    error = error_for(response, "GET", "/api/v1/namespaces/shop", HOST)
    assert error.msg == 'not found: namespaces "shop" at https://10.0.0.1:6443: namespaces "shop" not found'


def test_409_tells_to_read_again():
    message = ('Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply '
               'your changes to the latest version and try again')
    response = api_response(409, "Conflict", status_body(409, "Conflict", message, {"name": "web", "group": "apps", "kind": "deployments"}))
    error = error_for(response, "PUT", "/apis/apps/v1/namespaces/shop/deployments/web", HOST)
    assert error.msg.startswith('conflict: cannot update deployments.apps "web" in namespace shop: ' + message)
    assert "read it again and retry" in error.msg


def test_422_lists_the_causes():
    causes = [{"reason": "FieldValueInvalid", "message": "Invalid value: \"Bad_Name\": a lowercase RFC 1123 label must consist of ...",
               "field": "metadata.labels"},
              {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.selector"}]
    response = api_response(422, "Unprocessable Entity", status_body(
        422, "Invalid", 'Deployment.apps "web" is invalid: [metadata.labels: Invalid value, spec.selector: Required value]',
        {"name": "web", "group": "apps", "kind": "Deployment", "causes": causes}))
    error = error_for(response, "POST", "/apis/apps/v1/namespaces/shop/deployments", HOST)
    assert error.msg.startswith("invalid: cannot create deployments.apps in namespace shop: Deployment.apps \"web\" is invalid")
    assert "(causes: metadata.labels: Invalid value: \"Bad_Name\"" in error.msg
    assert "; spec.selector: Required value)" in error.msg


def test_429_keeps_retry_after():
    response = api_response(429, "Too Many Requests", status_body(429, "TooManyRequests", "Too many requests, please try again later."),
                            headers={"Retry-After": "3"})
    error = error_for(response, "GET", "/api/v1/pods", HOST)
    assert error.retryable and error.retry_after == 3.0
    assert "HTTP 429 Too Many Requests to list pods (cluster-wide)" in error.msg


def test_error_body_that_is_not_a_status():
    response = api_response(502, "Bad Gateway", b"<html>upstream connect error</html>")
    error = error_for(response, "GET", "/api/v1/pods", HOST)
    assert error.retryable and "<html>upstream connect error</html>" in error.msg and error.body is None


def test_connection_refused():
    pool = urllib3.PoolManager(retries=False)
    with pytest.raises(urllib3.exceptions.HTTPError) as raised:
        pool.request("GET", "http://127.0.0.1:9/api", timeout=2)
    error = connection_error(raised.value, "https://127.0.0.1:9")
    assert error.msg.startswith("cannot reach the Kubernetes API at https://127.0.0.1:9: connection refused")
    assert error.connected is False


def test_wrapped_dns_failure():
    cause = urllib3.exceptions.NameResolutionError("nowhere.invalid", None, OSError("Name or service not known"))
    wrapped = urllib3.exceptions.MaxRetryError(None, "/api", reason=cause)
    error = connection_error(wrapped, "https://nowhere.invalid:6443")
    assert error.msg == "cannot reach the Kubernetes API at https://nowhere.invalid:6443: the host name does not resolve (DNS)"


def test_read_timeout_counts_as_reached():
    error = connection_error(urllib3.exceptions.ReadTimeoutError(None, "/api", "Read timed out."), "https://h")
    assert error.connected is True and "read timeout" in error.msg
