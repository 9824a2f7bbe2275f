"""The kubeconfig written for clients (Python client, kubectl, helm) of the simulated cluster."""
from __future__ import annotations

import base64
import os

import yaml

CONTEXT_NAME = "simcluster"


def build(server: str, token: str, ca_pem: bytes) -> dict:
    """Return a kubeconfig (as a dict) with one cluster, one token user and the current context ``simcluster``."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": CONTEXT_NAME, "cluster": {
            "server": server,
            "certificate-authority-data": base64.b64encode(ca_pem).decode("ascii"),
        }}],
        "users": [{"name": CONTEXT_NAME, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT_NAME, "context": {"cluster": CONTEXT_NAME, "user": CONTEXT_NAME}}],
        "current-context": CONTEXT_NAME,
    }


def write(path: str, server: str, token: str, ca_pem: bytes) -> str:
    """Write the kubeconfig to ``path`` (mode 0600, parent folders created) and return the path."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        yaml.safe_dump(build(server, token, ca_pem), handle, default_flow_style=False, sort_keys=False)
    return path
