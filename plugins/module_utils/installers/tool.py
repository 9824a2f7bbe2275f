# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run an installer binary (helm, istioctl) against the cluster the module's connection options describe.

When the options are only ``kubeconfig`` (a path) and ``context``, the binary gets them as flags. Any other
option (``host``, ``api_key``, certificates, ``validate_certs``, ``proxy``, impersonation, a kubeconfig given as a
dict) is resolved by the Kubernetes client exactly as for the module's own requests and written to a temporary
kubeconfig file (mode 0600, removed afterwards), so that a token never appears on a command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from ansible_collections.meshops.istio.plugins.module_utils.yaml_support import yaml

from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError

PASS_THROUGH = ("kubeconfig", "context")
CONNECTION_OPTIONS = ("kubeconfig", "context", "host", "api_key", "username", "password", "validate_certs", "ca_cert",
                      "client_cert", "client_key", "proxy", "no_proxy", "proxy_headers", "impersonate_user",
                      "impersonate_groups")


class ToolError(MeshError):
    """An installer binary is missing or exited non-zero."""


def find_binary(name: str, option: str) -> str:
    """The path of ``name`` (a path or a command on PATH); ToolError naming ``option`` when it is not there."""
    path = name if os.path.sep in name else shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        raise ToolError("cannot run %s: not found or not executable; install it or set %s to its path" % (name, option))
    return path


def needs_kubeconfig_file(params: dict) -> bool:
    """True when the connection options go beyond a kubeconfig path and a context."""
    if params.get("kubeconfig") is not None and not isinstance(params["kubeconfig"], str):
        return True
    return any(params.get(option) not in (None, [], {}) for option in CONNECTION_OPTIONS if option not in PASS_THROUGH)


def kubeconfig_document(configuration, params: dict) -> dict:
    """A kubeconfig (dict) for the resolved client ``configuration``, with impersonation from ``params``."""
    cluster = {"server": configuration.host}
    if configuration.verify_ssl is False:
        cluster["insecure-skip-tls-verify"] = True
    elif configuration.ssl_ca_cert:
        cluster["certificate-authority"] = configuration.ssl_ca_cert
    if configuration.proxy:
        cluster["proxy-url"] = configuration.proxy
    user = {}
    token = (configuration.api_key or {}).get("BearerToken") or (configuration.api_key or {}).get("authorization")
    if token:
        user["token"] = token.split(" ", 1)[1] if token.lower().startswith("bearer ") else token
    if configuration.cert_file and configuration.key_file:
        user["client-certificate"] = configuration.cert_file
        user["client-key"] = configuration.key_file
    if configuration.username and configuration.password:
        user["username"] = configuration.username
        user["password"] = configuration.password
    if params.get("impersonate_user"):
        user["as"] = params["impersonate_user"]
    if params.get("impersonate_groups"):
        user["as-groups"] = list(params["impersonate_groups"])
    return {"apiVersion": "v1", "kind": "Config", "current-context": "meshops",
            "clusters": [{"name": "meshops", "cluster": cluster}], "users": [{"name": "meshops", "user": user}],
            "contexts": [{"name": "meshops", "context": {"cluster": "meshops", "user": "meshops"}}]}


class ToolRunner:
    """Runs one binary with connection flags; ``close()`` removes the temporary kubeconfig, if one was written."""

    def __init__(self, binary: str, params: dict, configuration_factory, kubeconfig_flag: str, context_flag: str) -> None:
        self.binary = binary
        self.connection_args = []
        self._tempdir = None
        if needs_kubeconfig_file(params):
            self._tempdir = tempfile.mkdtemp(prefix="meshops-istio-")
            path = os.path.join(self._tempdir, "kubeconfig")
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                yaml.safe_dump(kubeconfig_document(configuration_factory(), params), handle)
            self.connection_args = [kubeconfig_flag, path]
        else:
            if params.get("kubeconfig"):
                self.connection_args += [kubeconfig_flag, os.path.expanduser(params["kubeconfig"])]
            if params.get("context"):
                self.connection_args += [context_flag, params["context"]]

    def run(self, *args: str, timeout: float = 600) -> str:
        """Run the binary with ``args`` and the connection flags; return stdout, ToolError with stderr on failure."""
        command = [self.binary, *args, *self.connection_args]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ToolError("%s %s failed: %s" % (os.path.basename(self.binary), " ".join(args), exc)) from exc
        if result.returncode != 0:
            raise ToolError("%s %s exited %d: %s" % (os.path.basename(self.binary), " ".join(args), result.returncode,
                                                     (result.stderr or result.stdout).strip()[-2000:]),
                            command=[os.path.basename(self.binary), *args], rc=result.returncode)
        return result.stdout

    def close(self) -> None:
        """Remove the temporary kubeconfig."""
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None
