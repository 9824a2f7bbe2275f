# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every module takes, as kubernetes.core names them (doc fragment ``meshops.istio.connection``).

An option not given falls back to its ``K8S_AUTH_*`` environment variable, read as kubernetes.core reads it (see
:func:`resolve_connection`), so existing kubernetes.core settings carry over unchanged. :func:`sensitive_values`
names every secret the options carry, for the module to hide in all it prints.
"""

from __future__ import annotations

import copy
import os

# When proxy_headers is not given, client.py reads K8S_AUTH_PROXY_HEADERS_<SUBOPTION>.
PROXY_HEADERS_SPEC = {
    "proxy_basic_auth": {"type": "str", "no_log": True},
    "basic_auth": {"type": "str", "no_log": True},
    "user_agent": {"type": "str"},
}

CONNECTION_SPEC = {
    "kubeconfig": {"type": "raw"},
    "context": {"type": "str"},
    "host": {"type": "str"},
    "api_key": {"type": "str", "no_log": True},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "validate_certs": {"type": "bool", "aliases": ["verify_ssl"]},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"]},
    "client_cert": {"type": "path", "aliases": ["cert_file"]},
    "client_key": {"type": "path", "aliases": ["key_file"], "no_log": False},
    "proxy": {"type": "str"},
    "no_proxy": {"type": "str"},
    "proxy_headers": {"type": "dict", "options": PROXY_HEADERS_SPEC},
    "persist_config": {"type": "bool"},
    "impersonate_user": {"type": "str"},
    "impersonate_groups": {"type": "list", "elements": "str"},
}

# The environment variables of an option, in kubernetes.core's order: K8S_AUTH_<OPTION>, then K8S_AUTH_<NAME> with the
# name the Kubernetes client gives it (proxy_headers has one variable per suboption, read by client.py).
CLIENT_NAMES = {"validate_certs": "verify_ssl", "ca_cert": "ssl_ca_cert", "client_cert": "cert_file", "client_key": "key_file"}
ENV_NAMES = {option: tuple(dict.fromkeys("K8S_AUTH_" + name.upper() for name in (option, CLIENT_NAMES.get(option, option))))
             for option in CONNECTION_SPEC if option != "proxy_headers"}
# kubernetes.core reads a boolean variable as true unless it is one of these (any case): "off" is true, as is "nah"
FALSE_WORDS = ("0", "false", "no")
# the keys whose string values a kubeconfig keeps secret, at any depth (tokens, keys, certificates, passwords)
KUBECONFIG_SECRET_KEYS = frozenset(("token", "password", "secret", "client-key-data", "client-certificate-data",
                                    "certificate-authority-data", "api_key", "access-token", "refresh-token", "id-token",
                                    "client-secret"))


def resolve_connection(params: dict, environ=None) -> dict:
    """The connection options of ``params`` with each one not given taken from its environment variable.

    As kubernetes.core does: the first variable that is set and not empty counts; a boolean is false only for
    ``0``, ``false`` or ``no`` (any case); ``impersonate_groups`` is split at commas, dropping empty names; a path
    has ``~`` expanded.
    """
    environ = os.environ if environ is None else environ
    resolved = {}
    for option, names in ENV_NAMES.items():
        if params.get(option) is not None:
            continue
        value = next((environ[name] for name in names if environ.get(name)), None)
        if value is None:
            continue
        kind = CONNECTION_SPEC[option]["type"]
        if kind == "bool":
            value = value.lower() not in FALSE_WORDS
        elif kind == "list":
            value = [item for item in value.split(",") if item]
        elif kind == "path":
            value = os.path.expanduser(value)
        resolved[option] = value
    return resolved


def sensitive_values(connection: dict) -> set:
    """Every secret string in the connection options: the token, the password, proxy credentials, and the secrets of a
    kubeconfig given as a dict (tokens, keys, certificate data, passwords), so a module can hide them in all it prints."""
    values = {connection.get(option) for option in ("api_key", "password")}
    values |= {(connection.get("proxy_headers") or {}).get(option) for option in ("proxy_basic_auth", "basic_auth")}
    if isinstance(connection.get("kubeconfig"), dict):
        values |= _kubeconfig_secrets(connection["kubeconfig"])
    return {value for value in values if isinstance(value, str) and value}


def _kubeconfig_secrets(node) -> set:
    if isinstance(node, list):
        return set().union(*(_kubeconfig_secrets(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set()
    for key, value in node.items():
        if key in KUBECONFIG_SECRET_KEYS and isinstance(value, str):
            found.add(value)
        else:
            found |= _kubeconfig_secrets(value)
    return found


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
