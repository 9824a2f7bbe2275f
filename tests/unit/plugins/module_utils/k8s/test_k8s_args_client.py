"""Connection options: the argument spec, and the client configuration they produce."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.meshops.istio.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.meshops.istio.plugins.module_utils.k8s.args import CONNECTION_SPEC, with_connection
from ansible_collections.meshops.istio.plugins.module_utils.k8s.client import build_configuration, request_headers
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import KubeConfigError

KUBECONFIG = {
    "apiVersion": "v1", "kind": "Config", "current-context": "a",
    "clusters": [{"name": "a", "cluster": {"server": "https://a.example:6443", "insecure-skip-tls-verify": True}},
                 {"name": "b", "cluster": {"server": "https://b.example:6443"}}],
    "users": [{"name": "ua", "user": {"token": "token-a"}}, {"name": "ub", "user": {"token": "token-b"}}],
    "contexts": [{"name": "a", "context": {"cluster": "a", "user": "ua"}}, {"name": "b", "context": {"cluster": "b", "user": "ub"}}],
}


def params(**given):
    result = {name: None for name in CONNECTION_SPEC}
    result.update(given)
    return result


def test_spec_matches_the_doc_fragment():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(documented) == set(CONNECTION_SPEC)
    for name, option in CONNECTION_SPEC.items():
        assert documented[name]["type"] == option["type"], name
        assert documented[name].get("aliases", []) == option.get("aliases", []), name


def test_module_options_may_not_shadow_connection_options():
    assert "namespaces" in with_connection({"namespaces": {"type": "list"}})
    with pytest.raises(ValueError, match="clashes"):
        with_connection({"host": {}})


def test_host_and_token_need_no_kubeconfig():
    config = build_configuration(params(host="https://h.example:6443/", api_key="t0k", validate_certs=False))
    assert config.host == "https://h.example:6443"
    assert config.auth_settings()["BearerToken"]["value"] == "Bearer t0k"
    assert config.verify_ssl is False


def test_kubeconfig_dict_with_context_and_overrides(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("not read until a connection is made")
    config = build_configuration(params(kubeconfig=KUBECONFIG, context="b", ca_cert=str(ca), proxy="http://proxy:3128",
                                        no_proxy="10.0.0.0/8"))
    assert config.host == "https://b.example:6443"
    assert config.auth_settings()["BearerToken"]["value"] == "Bearer token-b"
    assert (config.ssl_ca_cert, config.proxy, config.no_proxy) == (str(ca), "http://proxy:3128", "10.0.0.0/8")


def test_explicit_options_survive_the_kubeconfig_token_refresh():
    # The kubeconfig loader re-applies the kubeconfig before every request (auth_settings runs its hook).
    # Context "a" skips TLS verification and has its own token; the options given win, request after request.
    config = build_configuration(params(kubeconfig=KUBECONFIG, api_key="mine", validate_certs=True))
    assert config.refresh_api_key_hook is not None
    for _unused in range(3):
        assert config.auth_settings()["BearerToken"]["value"] == "Bearer mine"
        assert (config.host, config.verify_ssl) == ("https://a.example:6443", True)


def test_kubeconfig_file(tmp_path):
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(KUBECONFIG))
    config = build_configuration(params(kubeconfig=str(path)))
    assert config.host == "https://a.example:6443"


@pytest.mark.parametrize("given, fragment", [
    ({"kubeconfig": "/nonexistent/kubeconfig"}, "cannot load kubeconfig /nonexistent/kubeconfig"),
    ({"kubeconfig": KUBECONFIG, "context": "nope"}, "(context nope)"),
])
def test_unusable_kubeconfig_is_a_clear_error(given, fragment):
    with pytest.raises(KubeConfigError) as raised:
        build_configuration(params(**given))
    assert fragment in raised.value.msg and "host with api_key" in raised.value.msg


def test_impersonation_sends_one_header_per_group():
    headers = request_headers(params(impersonate_user="alice", impersonate_groups=["dev", "ops"]))
    assert headers == [("Impersonate-User", "alice"), ("Impersonate-Group", "dev"), ("Impersonate-Group", "ops")]


def test_basic_auth_header_only_without_token():
    assert request_headers(params(username="u", password="p")) == [("authorization", "Basic dTpw")]
    assert request_headers(params(username="u", password="p", api_key="t")) == []


def test_proxy_headers_from_environment(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH", "pu:pp")
    config = build_configuration(params(host="https://h", api_key="t", proxy="http://proxy:3128"))
    assert config.proxy_headers == {"proxy-authorization": "Basic cHU6cHA="}
