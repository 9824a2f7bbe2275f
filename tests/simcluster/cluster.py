"""SimCluster: the simulated cluster's store, controllers, Istio hook and HTTPS server, wired together."""
from __future__ import annotations

import dataclasses
import os
import secrets

import yaml

from . import kubeconfig, tls
from .access import Access
from .api import ApiRouter
from .faults import FaultInjector, FaultRule
from .requestlog import RequestLog, RequestRecord
from .server import ServerState, SimServer
from .store import Store

BASE_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# Fields the server owns: dropped from objects loaded from files (e.g. ``kubectl get -A -o yaml`` of a real cluster).
_SERVER_MANAGED_METADATA = ("resourceVersion", "managedFields", "selfLink", "deletionTimestamp",
                            "deletionGracePeriodSeconds")
_LOAD_FIRST = {"Namespace": 0, "CustomResourceDefinition": 1}


@dataclasses.dataclass
class Settings:
    """Knobs of the simulated cluster; controllers and the Istio hook read them live."""

    rollout_delay: float = 0.0
    nodes: list[str] = dataclasses.field(default_factory=lambda: ["sim-node-1", "sim-node-2", "sim-node-3"])
    kubelet_version: str = "v1.35.0"
    broken_revisions: set[str] = dataclasses.field(default_factory=set)
    server_version: str = "v1.35.0"


def node(name: str, kubelet_version: str) -> dict:
    """A Ready worker Node as the simulated kubelet would register it."""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                              "kubernetes.io/arch": "amd64"}},
        "spec": {},
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status"}],
            "nodeInfo": {"kubeletVersion": kubelet_version, "kubeProxyVersion": kubelet_version,
                         "operatingSystem": "linux", "architecture": "amd64", "containerRuntimeVersion": "containerd://2.1.0"},
            "addresses": [{"type": "Hostname", "address": name}],
        },
    }


def read_documents(source) -> list[dict]:
    """Objects from a dict, a list of dicts, or a YAML/JSON file path (multi-document; ``kind: List`` flattened)."""
    if isinstance(source, dict):
        documents = [source]
    elif isinstance(source, (str, os.PathLike)):
        with open(source, encoding="utf-8") as handle:
            documents = list(yaml.safe_load_all(handle))
    else:
        documents = []
        for item in source:
            documents.extend(read_documents(item))
    objects = []
    for document in documents:
        if not document:
            continue
        if not isinstance(document, dict):
            raise ValueError(f"cannot load {document!r} from {source!r}: every document must be a Kubernetes object (a mapping)")
        if document.get("kind", "").endswith("List") and isinstance(document.get("items"), list):
            objects.extend(read_documents(document["items"]))
        else:
            objects.append(document)
    return objects


def strip_server_fields(obj: dict) -> dict:
    """A copy of ``obj`` without the metadata the server manages (resourceVersion, managedFields, ...)."""
    obj = dict(obj)
    obj["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_MANAGED_METADATA}
    return obj


class SimCluster:  # pylint: disable=too-many-instance-attributes
    """The simulated cluster: ``start()`` serves it over HTTPS; use as a context manager to stop it.

    ``store`` holds the objects; ``settings`` are the knobs (read live); ``requests`` is the request log;
    ``add_fault`` injects API failures (see ``faults.py``).
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._initial_settings = dataclasses.replace(self.settings, nodes=list(self.settings.nodes),
                                                     broken_revisions=set(self.settings.broken_revisions))
        self.store = Store()
        self.log = RequestLog()
        self.faults = FaultInjector()
        self.token = secrets.token_urlsafe(32)
        self.access = Access(self.store, self.token)
        self.tls: tls.TlsMaterial | None = None
        self.url = ""
        self.controllers = None
        self._server: SimServer | None = None

    # ----------------------------------------------------------------------------------------- lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> SimCluster:
        """Start controllers, the Istio admission hook and the HTTPS server; return self."""
        if self._server is not None:
            return self
        # Imported here: the controllers and Istio import this module's Settings.
        from . import istio  # pylint: disable=import-outside-toplevel
        from .controllers import ControllerManager  # pylint: disable=import-outside-toplevel
        self.controllers = ControllerManager(self.store, self.settings)  # registers the defaulting hook first
        istio.install(self.store, self.settings)
        self._seed()
        self.controllers.start()
        self.tls = tls.generate()
        state = ServerState(ApiRouter(self.store, self.settings), self.access, self.log, self.faults,
                            dump=self.dump, settle=self.settle, load=self.load)
        self._server = SimServer(state, self.tls.server_context())
        self.url = self._server.start(host, port)
        return self

    def stop(self) -> None:
        """Stop serving and stop the controllers."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.controllers is not None:
            self.controllers.stop()

    def __enter__(self) -> SimCluster:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def reset(self) -> None:
        """Empty the store (base namespaces and nodes come back), clear the log and faults, restore the settings."""
        for field in dataclasses.fields(Settings):
            value = getattr(self._initial_settings, field.name)
            setattr(self.settings, field.name, type(value)(value) if isinstance(value, (list, set)) else value)
        if self.controllers is not None:
            self.controllers.stop()
        self.store.reset()
        if self.controllers is not None:
            self.controllers.reset()
        self._seed()
        if self.controllers is not None and self._server is not None:
            self.controllers.start()
        self.faults.clear()
        self.log.clear()
        self.access.reset()

    def _seed(self) -> None:
        objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}} for name in BASE_NAMESPACES]
        objects += [node(name, self.settings.kubelet_version) for name in self.settings.nodes]
        self.store.load(objects)

    # ----------------------------------------------------------------------------------------- state

    def load(self, objs_or_paths, *, admit_pods: bool = False) -> int:
        """Store objects without admission (dicts, YAML/JSON file paths, or lists of them); return how many.

        Multi-document YAML and ``kind: List`` are read; server-managed metadata is dropped; namespaces and
        CRDs are stored first, and missing namespaces are created. With ``admit_pods``, Pods are instead created
        through admission once the rest has settled, so that the webhooks inject them as on a real cluster (the
        sample mesh's bare pod ``tagged/debug`` then runs the source's sidecar, as there).
        """
        objects = [strip_server_fields(obj) for obj in read_documents(objs_or_paths)]
        objects.sort(key=lambda obj: _LOAD_FIRST.get(obj.get("kind", ""), 2))
        pods = [obj for obj in objects if admit_pods and obj.get("kind") == "Pod"]
        count = self.store.load([obj for obj in objects if not any(obj is pod for pod in pods)], create_namespaces=True)
        if pods:
            self.settle(30)
            for pod in pods:
                self.store.create(pod)
        return count + len(pods)

    def dump(self) -> dict:
        """Every stored object, grouped by resource key."""
        return self.store.dump()

    def settle(self, timeout: float = 10) -> bool:
        """Wait until the controllers are idle; False when ``timeout`` seconds pass first."""
        if self.controllers is None:
            return True
        return self.controllers.settle(timeout)

    # ----------------------------------------------------------------------------------------- clients

    @property
    def ca_pem(self) -> bytes:
        """The CA certificate (PEM) clients must trust."""
        if self.tls is None:
            raise RuntimeError("the simulated cluster is not started: call start() first")
        return self.tls.ca_pem

    def write_kubeconfig(self, path: str, token: str | None = None) -> str:
        """Write a kubeconfig for this cluster (context ``simcluster``) to ``path``; return the path.

        Its user is the admin (``system:masters``), or the owner of ``token`` (see ``service_account_token``).
        """
        return kubeconfig.write(path, self.url, token or self.token, self.ca_pem)

    def service_account_token(self, namespace: str, name: str) -> str:
        """A token of the ServiceAccount ``namespace/name`` (as ``kubectl create token`` gets with TokenRequest)."""
        if self.store.get("serviceaccounts", namespace, name) is None:
            raise ValueError(f"no ServiceAccount {namespace}/{name}")
        return self.access.issue_token(namespace, name)

    # ----------------------------------------------------------------------------------------- instruments

    @property
    def requests(self) -> list[RequestRecord]:
        """Every logged request, oldest first."""
        return self.log.records()

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.log.clear()

    def writes(self, persisting_only: bool = True) -> list[RequestRecord]:
        """The write requests; with ``persisting_only`` only those that changed state (see ``RequestLog.writes``)."""
        return self.log.writes(persisting_only)

    def add_fault(self, **fields) -> FaultRule:
        """Add a fault rule (fields as in ``faults.FaultRule``) and return it."""
        return self.faults.add(**fields)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.faults.clear()
