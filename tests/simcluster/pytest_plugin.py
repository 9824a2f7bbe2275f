"""pytest fixtures for the simulated cluster.

``sim``: the session's running ``SimCluster``, reset before each test. ``sim_kubeconfig``: a kubeconfig
file for it. ``k8s_client``: a ``kubernetes.client.ApiClient`` from that file. ``kubectl`` / ``helm``:
run the real binaries from ``<repo>/.tools/bin`` against it and return ``subprocess.CompletedProcess``
(skipped when the binaries are missing: ``make tools`` installs them).
"""
from __future__ import annotations

import os
import subprocess

import pytest

from .cluster import SimCluster

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS_BIN = os.path.join(REPO_ROOT, ".tools", "bin")


@pytest.fixture(scope="session")
def sim_session(tmp_path_factory):
    """One running simulated cluster per test session (per xdist worker) and its kubeconfig path."""
    cluster = SimCluster().start()
    path = cluster.write_kubeconfig(str(tmp_path_factory.mktemp("simcluster") / "kubeconfig"))
    try:
        yield cluster, path
    finally:
        cluster.stop()


@pytest.fixture
def sim(sim_session) -> SimCluster:  # pylint: disable=redefined-outer-name
    """The simulated cluster, emptied (base namespaces and nodes only), with no faults and an empty request log."""
    cluster, _unused = sim_session
    cluster.reset()
    return cluster


@pytest.fixture
def sim_kubeconfig(sim, sim_session) -> str:  # pylint: disable=redefined-outer-name,unused-argument
    """Path of a kubeconfig (context ``simcluster``) for the freshly reset simulated cluster."""
    return sim_session[1]


@pytest.fixture
def k8s_client(sim_kubeconfig):  # pylint: disable=redefined-outer-name
    """A ``kubernetes.client.ApiClient`` configured from the simulated cluster's kubeconfig."""
    from kubernetes import config  # pylint: disable=import-outside-toplevel
    client = config.new_client_from_config(config_file=sim_kubeconfig)
    try:
        yield client
    finally:
        client.close()


class ToolRunner:
    """Runs one binary against the simulated cluster with a private HOME and cache."""

    def __init__(self, binary: str, kubeconfig: str, home: str, extra_args: tuple[str, ...] = ()) -> None:
        self.binary = binary
        self.extra_args = extra_args
        self.env = dict(os.environ, KUBECONFIG=kubeconfig, HOME=home, HELM_CACHE_HOME=os.path.join(home, "helm-cache"),
                        HELM_CONFIG_HOME=os.path.join(home, "helm-config"), HELM_DATA_HOME=os.path.join(home, "helm-data"))

    def __call__(self, *args: str, input: str | None = None,  # pylint: disable=redefined-builtin
                 timeout: float = 60, check: bool = False) -> subprocess.CompletedProcess:
        """Run the binary with ``args``; ``check`` raises when it exits non-zero (with its output in the message)."""
        result = subprocess.run([self.binary, *self.extra_args, *args], input=input, capture_output=True, text=True,
                                env=self.env, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"{os.path.basename(self.binary)} {' '.join(args)} exited {result.returncode}\n"
                                 f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        return result

    def popen(self, *args: str) -> subprocess.Popen:
        """Start the binary with ``args`` in the background (stdout and stderr piped, text mode)."""
        return subprocess.Popen([self.binary, *self.extra_args, *args], stdout=subprocess.PIPE,  # pylint: disable=consider-using-with
                                stderr=subprocess.PIPE, text=True, env=self.env)


def _tool(name: str) -> str:
    path = os.path.join(TOOLS_BIN, name)
    if not os.access(path, os.X_OK):
        pytest.skip(f"{name} is not installed at {path}: run 'make tools' to install kubectl and helm")
    return path


@pytest.fixture
def kubectl(sim_kubeconfig, tmp_path) -> ToolRunner:  # pylint: disable=redefined-outer-name
    """Run the real kubectl against the simulated cluster: ``kubectl("get", "pods", "-A")``."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return ToolRunner(_tool("kubectl"), sim_kubeconfig, str(home), ("--cache-dir", str(tmp_path / "kube-cache")))


@pytest.fixture
def helm(sim_kubeconfig, tmp_path) -> ToolRunner:  # pylint: disable=redefined-outer-name
    """Run the real helm against the simulated cluster: ``helm("install", "demo", chart_path)``."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return ToolRunner(_tool("helm"), sim_kubeconfig, str(home))
