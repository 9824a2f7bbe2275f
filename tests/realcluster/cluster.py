"""``RealCluster``: start and stop the real cluster, install Istio with its own charts, load the sample mesh.

The cluster is the program built from ``cmd/realcluster`` (see README.md); this class builds it when needed,
starts it, and talks to it with the pinned kubectl and helm (``.tools/bin``) and over HTTPS, like any client.
"""
from __future__ import annotations

import base64
import ctypes
import json
import os
import selectors
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

from ..simcluster.requestlog import persisted
from . import build

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS_BIN = os.path.join(REPO_ROOT, ".tools", "bin")
HUB = "docker.io/istio"
INGRESS_NAMESPACE = "istio-ingress"
GATEWAY_NAME = "istio-ingressgateway"


def api_request(kubeconfig: str, method: str, path: str, body: dict | None = None, timeout: float = 30) -> dict:
    """One JSON request to the cluster of a kubeconfig with a bearer token and a CA (either test cluster's kubeconfig)."""
    with open(kubeconfig, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
    context = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(cluster["server"] + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + user["token"], "Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=timeout) as response:  # nosec: loopback only
        return json.loads(response.read())


def _own_session_dying_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """In the cluster's process: a session of its own (stop() signals the group), and SIGTERM when the Python process
    that started it dies, so that a killed test run leaves no cluster behind."""
    os.setsid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


class RealCluster:  # pylint: disable=too-many-instance-attributes
    """One running real cluster: ``start()``, then ``kubeconfig``, ``kubectl()``, ``helm()``, ``install_istio()``, ``stop()``."""

    def __init__(self, state_dir: str | None = None, *, rollout_delay: float = 0.0, nodes: int = 3) -> None:
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="realcluster-")
        self.rollout_delay = rollout_delay
        self.nodes = nodes
        self.kubeconfig = os.path.join(self.state_dir, "kubeconfig")
        self.url = ""
        self.process: subprocess.Popen | None = None
        self.home = os.path.join(self.state_dir, "home")

    # ----------------------------------------------------------------------------------------- life cycle

    def start(self, timeout: float = 180, log=sys.stderr) -> "RealCluster":
        """Build what is missing, start the cluster, wait for its ready line; RealClusterUnavailable on failure."""
        binaries = build.ensure_built(log=log)
        os.makedirs(self.home, exist_ok=True)
        command = [binaries.realcluster, "up", "--state-dir", os.path.join(self.state_dir, "cluster"), "--kubeconfig", self.kubeconfig,
                   "--kwok", binaries.kwok, "--rollout-delay", str(self.rollout_delay), "--nodes", str(self.nodes)]
        for version, path in sorted(binaries.istiod.items()):
            command += ["--istiod", f"{version}={path}"]
        stderr_path = os.path.join(self.state_dir, "up.log")
        with open(stderr_path, "w", encoding="utf-8") as stderr:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True,  # pylint: disable=consider-using-with
                                            preexec_fn=_own_session_dying_with_parent)
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        # wait for the ready line, at most until the deadline (a select, so that a silent process cannot block past it)
        with selectors.DefaultSelector() as waiting:
            waiting.register(self.process.stdout, selectors.EVENT_READ)
            while not self.url and waiting.select(max(0.0, deadline - time.monotonic())):
                line = self.process.stdout.readline()
                if not line:
                    break
                if line.startswith("ready "):
                    self.url = line.split()[1]
        if not self.url:
            self.stop()
            with open(stderr_path, encoding="utf-8") as handle:
                reason = " ".join(handle.read().strip().splitlines()[-6:])
            raise build.RealClusterUnavailable(f"the real cluster did not start: {reason}")
        return self

    def stop(self) -> None:
        """Stop the cluster and everything it started (SIGTERM, then SIGKILL after 60 s)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self.process = None

    def __enter__(self) -> "RealCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def log_dir(self) -> str:
        """The components' logs (kube-apiserver.log, istiod-*.log, audit.log, ...)."""
        return os.path.join(self.state_dir, "cluster", "logs")

    # ----------------------------------------------------------------------------------------- clients

    def _run(self, tool: str, *args: str, input: str | None = None, check: bool = True,  # pylint: disable=redefined-builtin
             timeout: float = 300) -> subprocess.CompletedProcess:
        path = os.path.join(TOOLS_BIN, tool)
        if not os.access(path, os.X_OK):
            raise build.RealClusterUnavailable(f"{tool} is not installed at {path}: run 'make tools'")
        env = dict(os.environ, KUBECONFIG=self.kubeconfig, HOME=self.home, HELM_CACHE_HOME=os.path.join(self.home, "helm-cache"),
                   HELM_CONFIG_HOME=os.path.join(self.home, "helm-config"), HELM_DATA_HOME=os.path.join(self.home, "helm-data"))
        done = subprocess.run([path, *args], input=input, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} exited {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
        return done

    def kubectl(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        """Run the pinned kubectl against this cluster."""
        return self._run("kubectl", *args, **kwargs)

    def helm(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        """Run the pinned helm against this cluster."""
        return self._run("helm", *args, **kwargs)

    def get(self, path: str) -> dict:
        """GET an API path (``/api/v1/namespaces``) as JSON."""
        return api_request(self.kubeconfig, "GET", path)

    def _request(self, method: str, path: str, body: dict | None = None, timeout: float = 30) -> dict:
        return api_request(self.kubeconfig, method, path, body, timeout)

    # ----------------------------------------------------------------------------------------- instruments

    def settle(self, timeout: float = 60) -> bool:
        """Wait until every rollout is done and every pod Ready (``POST /_sim/settle``); False on timeout."""
        return bool(self._request("POST", "/_sim/settle", {"timeout": timeout}, timeout=timeout + 30)["settled"])

    def requests(self) -> list[dict]:
        """The test client's requests since the last ``clear_requests()`` (from the API server's audit log)."""
        return self._request("GET", "/_sim/requests")

    def clear_requests(self) -> None:
        """Forget the requests so far."""
        self._request("DELETE", "/_sim/requests")

    def writes(self) -> list[dict]:
        """The requests that changed state: write verbs, not dry runs, answered below 400."""
        return [r for r in self.requests() if persisted(r)]

    # ----------------------------------------------------------------------------------------- Istio

    def apply(self, objects: list[dict]) -> None:
        """Apply objects with kubectl (client-side apply, as most users do)."""
        self.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(objects))

    def istiod_values(self, version: str, revision: str | None = None) -> list[str]:
        """The helm --set arguments for the istiod chart of ``version`` (the release's hub and tag, its revision)."""
        revision = revision or build.RELEASES[version].revision
        return ["--set", f"revision={revision}", "--set", f"global.hub={HUB}", "--set", f"global.tag={version}"]

    def render_istiod(self, version: str, revision: str | None = None) -> str:
        """The istiod chart of ``version`` rendered for ``revision`` (``helm template``): a manifest for the manifest installer."""
        revision = revision or build.RELEASES[version].revision
        charts = build.charts_dir(version)
        return self.helm("template", f"istiod-{revision}", os.path.join(charts, "istio-control", "istio-discovery"),
                         "--namespace", "istio-system", *self.istiod_values(version, revision)).stdout

    def base_chart(self, version: str) -> str:
        """Istio's base chart of ``version`` packaged as Istio releases it (``helm package --version --app-version``).

        The Go module's charts carry the placeholder version 1.0.0 that Istio's release-builder replaces with the
        release; the base chart's CRDs take ``appVersion`` as their label ``app.kubernetes.io/version``.
        """
        destination = os.path.join(self.home, "charts", version)
        path = os.path.join(destination, f"base-{version}.tgz")
        if not os.path.exists(path):
            os.makedirs(destination, exist_ok=True)
            self.helm("package", os.path.join(build.charts_dir(version), "base"), "--version", version, "--app-version", version,
                      "--destination", destination)
        return path

    def install_istio(self, version: str, *, tags: tuple[str, ...] = ("default",), gateway: bool = True, gateway_replicas: int = 2) -> str:
        """Install Istio ``version`` as its docs say for a revision-based Helm install; return the revision.

        The base chart (CRDs labelled with the release, ``istiod-default-validator`` for this revision), the istiod chart as release
        ``istiod-<R>`` with ``revision=<R>``, the revision tags rendered from the istiod chart and applied (not
        owned by Helm, as the docs do it), and the ingress gateway chart as release ``istio-ingressgateway``.
        """
        release = build.RELEASES[version]
        revision = release.revision
        charts = build.charts_dir(version)
        self.helm("upgrade", "--install", "istio-base", self.base_chart(version), "--namespace", "istio-system",
                  "--create-namespace", "--set", f"defaultRevision={revision}", "--wait", "--timeout", "120s")
        self.helm("upgrade", "--install", f"istiod-{revision}", os.path.join(charts, "istio-control", "istio-discovery"),
                  "--namespace", "istio-system", *self.istiod_values(version), "--wait", "--timeout", "120s")
        if tags:
            templates = ["-s", "templates/revision-tags-mwc.yaml"]
            if os.path.exists(os.path.join(charts, "istio-control", "istio-discovery", "templates", "revision-tags-svc.yaml")):
                templates += ["-s", "templates/revision-tags-svc.yaml"]
            rendered = self.helm("template", "istiod", os.path.join(charts, "istio-control", "istio-discovery"), "--namespace",
                                 "istio-system", *templates, "--set", "revisionTags={" + ",".join(tags) + "}",
                                 *self.istiod_values(version)).stdout
            self.kubectl("apply", "-f", "-", input=rendered)
        if gateway:
            self.helm("upgrade", "--install", GATEWAY_NAME, os.path.join(charts, "gateway"), "--namespace", INGRESS_NAMESPACE,
                      "--create-namespace", "--set", f"revision={revision}", "--set", f"replicaCount={gateway_replicas}",
                      "--set", "service.type=ClusterIP", "--set", "autoscaling.enabled=false")
        return revision

    def load_sample_mesh(self, version: str) -> str:
        """The sample mesh of ``make demo`` on Istio ``version``: namespaces, Istio from its charts, then the workloads."""
        from tests.simcluster.fixtures import mesh  # pylint: disable=import-outside-toplevel
        revision = build.RELEASES[version].revision
        self.apply(mesh.namespaces(revision))
        self.install_istio(version, tags=("default", mesh.TAG_NAME))
        self.apply(mesh.workloads(revision))
        if not self.settle(120):
            raise RuntimeError("the sample mesh did not settle within 120 s: " + self.kubectl("get", "pods", "-A", check=False).stdout)
        return revision
