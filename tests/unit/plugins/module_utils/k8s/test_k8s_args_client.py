"""Connection options: the argument spec, and the client configuration they produce."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.meshops.istio.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.meshops.istio.plugins.module_utils.k8s.args import (
    CONNECTION_SPEC,
    ENV_NAMES,
    resolve_connection,
    sensitive_values,
    with_connection,
)
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


# kubernetes.core's reading of K8S_AUTH_*, case for case: (environment, options it gives)
@pytest.mark.parametrize("environ, expected", [
    ({"K8S_AUTH_VERIFY_SSL": "false"}, {"validate_certs": False}),
    ({"K8S_AUTH_VERIFY_SSL": "No"}, {"validate_certs": False}),
    ({"K8S_AUTH_VERIFY_SSL": "0"}, {"validate_certs": False}),
    ({"K8S_AUTH_VERIFY_SSL": "FALSE"}, {"validate_certs": False}),
    ({"K8S_AUTH_VERIFY_SSL": "off"}, {"validate_certs": True}),  # not one of 0/false/no: verification stays on
    ({"K8S_AUTH_VERIFY_SSL": "nah"}, {"validate_certs": True}),
    ({"K8S_AUTH_VERIFY_SSL": "n"}, {"validate_certs": True}),
    ({"K8S_AUTH_VERIFY_SSL": "yes"}, {"validate_certs": True}),
    ({"K8S_AUTH_VERIFY_SSL": ""}, {}),  # empty is not set
    ({"K8S_AUTH_VALIDATE_CERTS": "no", "K8S_AUTH_VERIFY_SSL": "yes"}, {"validate_certs": False}),  # option name first
    ({"K8S_AUTH_VALIDATE_CERTS": "", "K8S_AUTH_VERIFY_SSL": "no"}, {"validate_certs": False}),
    ({"K8S_AUTH_PERSIST_CONFIG": "true"}, {"persist_config": True}),
    ({"K8S_AUTH_PERSIST_CONFIG": "no"}, {"persist_config": False}),
    ({"K8S_AUTH_CA_CERT": "/a.pem", "K8S_AUTH_SSL_CA_CERT": "/b.pem"}, {"ca_cert": "/a.pem"}),
    ({"K8S_AUTH_SSL_CA_CERT": "/b.pem"}, {"ca_cert": "/b.pem"}),
    ({"K8S_AUTH_CERT_FILE": "/c.pem", "K8S_AUTH_KEY_FILE": "/k.pem"}, {"client_cert": "/c.pem", "client_key": "/k.pem"}),
    ({"K8S_AUTH_CLIENT_CERT": "/c1.pem", "K8S_AUTH_CERT_FILE": "/c2.pem"}, {"client_cert": "/c1.pem"}),
    ({"K8S_AUTH_IMPERSONATE_GROUPS": "a,,b,"}, {"impersonate_groups": ["a", "b"]}),
    ({"K8S_AUTH_HOST": "https://h:6443", "K8S_AUTH_API_KEY": "t"}, {"host": "https://h:6443", "api_key": "t"}),
    ({"K8S_AUTH_KUBECONFIG": "~/kc"}, {"kubeconfig": "~/kc"}),  # expanded when loaded (client.py)
    ({"K8S_AUTH_CA_CERT": "~/ca.pem"}, {"ca_cert": os.path.expanduser("~/ca.pem")}),
    ({"K8S_AUTH_PROXY_HEADERS_BASIC_AUTH": "u:p"}, {}),  # proxy_headers: client.py reads these when it is not given
])
def test_environment_is_read_as_kubernetes_core_reads_it(environ, expected):
    assert resolve_connection(params(), environ) == expected


def test_options_given_win_over_the_environment():
    given = params(validate_certs=True, api_key="opt", impersonate_groups=[])
    assert resolve_connection(given, {"K8S_AUTH_VERIFY_SSL": "no", "K8S_AUTH_API_KEY": "env",
                                      "K8S_AUTH_IMPERSONATE_GROUPS": "g"}) == {}


def test_every_environment_variable_is_documented():
    documented = ModuleDocFragment.DOCUMENTATION
    for names in ENV_NAMES.values():
        for name in names:
            assert "E(%s)" % name in documented, name


def test_host_with_client_certificate_needs_no_kubeconfig(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("HOME", str(tmp_path))
    config = build_configuration(params(host="https://h.example:6443", client_cert="/c.pem", client_key="/k.pem"))
    assert (config.host, config.cert_file, config.key_file) == ("https://h.example:6443", "/c.pem", "/k.pem")


def test_sensitive_values_cover_every_kind_of_credential():
    oidc = {"config": {"id-token": "I", "refresh-token": "R", "client-secret": "S", "client-id": "id"}}
    user = {"token": "T", "client-key-data": "K", "client-certificate-data": "C", "password": "P", "auth-provider": oidc}
    kubeconfig = {"users": [{"name": "u", "user": user}],
                  "clusters": [{"name": "c", "cluster": {"certificate-authority-data": "A", "server": "https://s"}}]}
    proxy_headers = {"proxy_basic_auth": "u:pp", "basic_auth": "u:bb", "user_agent": "ua"}
    given = params(kubeconfig=kubeconfig, api_key="key", password="pw", proxy_headers=proxy_headers)
    assert sensitive_values(given) == {"T", "K", "C", "P", "I", "R", "S", "A", "key", "pw", "u:pp", "u:bb"}
    assert sensitive_values(params(kubeconfig="/path/to/kubeconfig")) == set()
