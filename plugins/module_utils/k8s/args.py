# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every module takes, as kubernetes.core names them (doc fragment ``meshops.istio.connection``).

Each option falls back to its ``K8S_AUTH_*`` environment variable, so existing kubernetes.core settings carry over.
"""

from __future__ import annotations

import copy

from ansible.module_utils.basic import env_fallback


def _env(*names: str) -> tuple:
    return (env_fallback, list(names))


# When proxy_headers is not given, client.py reads K8S_AUTH_PROXY_HEADERS_<SUBOPTION> (suboption fallbacks
# would apply only when the dict itself is given).
PROXY_HEADERS_SPEC = {
    "proxy_basic_auth": {"type": "str", "no_log": True},
    "basic_auth": {"type": "str", "no_log": True},
    "user_agent": {"type": "str"},
}

CONNECTION_SPEC = {
    "kubeconfig": {"type": "raw", "fallback": _env("K8S_AUTH_KUBECONFIG")},
    "context": {"type": "str", "fallback": _env("K8S_AUTH_CONTEXT")},
    "host": {"type": "str", "fallback": _env("K8S_AUTH_HOST")},
    "api_key": {"type": "str", "no_log": True, "fallback": _env("K8S_AUTH_API_KEY")},
    "username": {"type": "str", "fallback": _env("K8S_AUTH_USERNAME")},
    "password": {"type": "str", "no_log": True, "fallback": _env("K8S_AUTH_PASSWORD")},
    "validate_certs": {"type": "bool", "aliases": ["verify_ssl"], "fallback": _env("K8S_AUTH_VERIFY_SSL", "K8S_AUTH_VALIDATE_CERTS")},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"], "fallback": _env("K8S_AUTH_SSL_CA_CERT", "K8S_AUTH_CA_CERT")},
    "client_cert": {"type": "path", "aliases": ["cert_file"], "fallback": _env("K8S_AUTH_CERT_FILE", "K8S_AUTH_CLIENT_CERT")},
    "client_key": {"type": "path", "aliases": ["key_file"], "no_log": False,
                   "fallback": _env("K8S_AUTH_KEY_FILE", "K8S_AUTH_CLIENT_KEY")},
    "proxy": {"type": "str", "fallback": _env("K8S_AUTH_PROXY")},
    "no_proxy": {"type": "str", "fallback": _env("K8S_AUTH_NO_PROXY")},
    "proxy_headers": {"type": "dict", "options": PROXY_HEADERS_SPEC},
    "persist_config": {"type": "bool", "fallback": _env("K8S_AUTH_PERSIST_CONFIG")},
    "impersonate_user": {"type": "str", "fallback": _env("K8S_AUTH_IMPERSONATE_USER")},
    "impersonate_groups": {"type": "list", "elements": "str", "fallback": _env("K8S_AUTH_IMPERSONATE_GROUPS")},
}


def connection_spec() -> dict:
    """A fresh copy of the connection argument spec, safe for a module to extend."""
    return copy.deepcopy(CONNECTION_SPEC)


def with_connection(argument_spec: dict | None) -> dict:
    """``argument_spec`` plus the connection options; a module option of the same name is an error."""
    spec = connection_spec()
    for name, option in (argument_spec or {}).items():
        if name in spec:
            raise ValueError("module option %r clashes with the connection option of the same name" % name)
        spec[name] = option
    return spec
