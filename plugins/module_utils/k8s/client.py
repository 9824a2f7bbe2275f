# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a Kubernetes API client from the connection options (see args.py), as kubernetes.core does.

Order: ``host`` with ``api_key`` (or ``username`` and ``password``, or ``client_cert`` and ``client_key``) needs no
kubeconfig; otherwise ``kubeconfig``
(a path or a dict) and ``context`` are loaded; with neither, the in-cluster service account is tried and then
``~/.kube/config``. Options given explicitly override what the kubeconfig says. The kubernetes package is imported
guarded: modules report it with ``missing_required_lib`` (see module.py).
"""

from __future__ import annotations

import os
import traceback

try:
    import kubernetes
    import urllib3
    from kubernetes.config.config_exception import ConfigException
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None

from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import KubeConfigError

PROXY_HEADER_OPTIONS = ("proxy_basic_auth", "basic_auth", "user_agent")


def build_configuration(params: dict):
    """A ``kubernetes.client.Configuration`` for the connection options in ``params`` (a module's params).

    Raises KubeConfigError when no usable configuration is found.
    """
    host = (params.get("host") or "").rstrip("/") or None
    if host and (params.get("api_key") or (params.get("username") and params.get("password"))
                 or (params.get("client_cert") and params.get("client_key"))):
        configuration = kubernetes.client.Configuration()
    elif params.get("kubeconfig") or params.get("context"):
        configuration = _from_kubeconfig(params)
    else:
        configuration = kubernetes.client.Configuration()
        try:
            kubernetes.config.load_incluster_config(client_configuration=configuration)
        except ConfigException:
            configuration = _from_kubeconfig(params)

    _apply_overrides(configuration, params, host)
    refresh = configuration.refresh_api_key_hook
    if refresh is not None:
        # The kubeconfig loader's token refresh hook (run before every request) writes the kubeconfig's host,
        # certificates, proxy and token back, and installs itself again; put the options given explicitly back on
        # top of them, and this hook back in place.
        def refresh_then_override(config):
            refresh(config)
            config.refresh_api_key_hook = refresh_then_override
            _apply_overrides(config, params, host)
        configuration.refresh_api_key_hook = refresh_then_override
    proxy_headers = _proxy_headers(params)
    if proxy_headers:
        configuration.proxy_headers = urllib3.util.make_headers(**proxy_headers)
    if configuration.verify_ssl is False:
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    # Retries are ours (retry.py): urllib3 must report the first failure.
    configuration.retries = 0
    return configuration


def build_api_client(params: dict):
    """A ``kubernetes.client.ApiClient`` for the connection options in ``params``."""
    return kubernetes.client.ApiClient(build_configuration(params))


def request_headers(params: dict) -> list[tuple[str, str]]:
    """Headers to send with every request: impersonation (one ``Impersonate-Group`` per group) and basic auth."""
    headers = []
    if params.get("impersonate_user"):
        headers.append(("Impersonate-User", params["impersonate_user"]))
    for group in params.get("impersonate_groups") or []:
        headers.append(("Impersonate-Group", group))
    if params.get("username") and params.get("password") and not params.get("api_key"):
        basic = urllib3.util.make_headers(basic_auth="%s:%s" % (params["username"], params["password"]))
        headers.extend(basic.items())
    return headers


def _apply_overrides(configuration, params: dict, host: str | None) -> None:
    if host:
        configuration.host = host
    if params.get("api_key"):
        # Newer clients read the "BearerToken" key, older ones "authorization".
        token = "Bearer %s" % params["api_key"]
        configuration.api_key = {"BearerToken": token, "authorization": token}
        configuration.api_key_prefix = {}
    for option, attribute in (("username", "username"), ("password", "password"), ("validate_certs", "verify_ssl"),
                              ("ca_cert", "ssl_ca_cert"), ("client_cert", "cert_file"), ("client_key", "key_file"),
                              ("proxy", "proxy"), ("no_proxy", "no_proxy")):
        if params.get(option) is not None:
            setattr(configuration, attribute, params[option])


def _from_kubeconfig(params: dict):
    configuration = kubernetes.client.Configuration()
    kubeconfig = params.get("kubeconfig")
    options = {"context": params.get("context"), "client_configuration": configuration,
               "persist_config": bool(params.get("persist_config"))}
    where = "the kubeconfig given as a dict" if isinstance(kubeconfig, dict) else (
        "kubeconfig %s" % (kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"))
    try:
        if isinstance(kubeconfig, dict):
            kubernetes.config.load_kube_config_from_dict(config_dict=kubeconfig, **options)
        elif kubeconfig is None or isinstance(kubeconfig, str):
            kubernetes.config.load_kube_config(config_file=kubeconfig and os.path.expanduser(kubeconfig), **options)
        else:
            raise KubeConfigError("kubeconfig must be a path or a dict, not %s" % type(kubeconfig).__name__)
    except (ConfigException, OSError, ValueError, TypeError) as exc:
        raise KubeConfigError(
            "cannot load %s%s: %s. Give kubeconfig (or K8S_AUTH_KUBECONFIG), or host with api_key, with username and "
            "password, or with client_cert and client_key"
            % (where, " (context %s)" % params["context"] if params.get("context") else "", exc)
        ) from exc
    return configuration


def _proxy_headers(params: dict) -> dict:
    given = params.get("proxy_headers")
    if given is None:
        given = {name: os.environ.get("K8S_AUTH_PROXY_HEADERS_%s" % name.upper()) for name in PROXY_HEADER_OPTIONS}
    return {name: value for name, value in given.items() if value is not None}
