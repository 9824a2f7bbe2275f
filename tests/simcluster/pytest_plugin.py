"""pytest fixtures for the simulated cluster.

``sim``: the session's running ``SimCluster``, reset before each test. ``sim_kubeconfig``: a kubeconfig
file for it. ``k8s_client``: a ``kubernetes.client.ApiClient`` from that file. ``kubectl`` / ``helm``:
run the real binaries against it and return ``subprocess.CompletedProcess``. ``istioctl_standin``: the path of
the istioctl stand-in, with the kubectl it runs set in its environment.

The real binaries are not part of the simulated cluster: the folder that holds them is the ini option
``simcluster_tools`` (meshops.istio's pytest.ini names ``.tools/bin``, which ``make tools`` fills). A test that
needs one fails when the option is not set, and is skipped when the binary is not in that folder.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from . import ISTIOCTL_STANDIN
from .cluster import SimCluster

TOOLS_OPTION = "simcluster_tools"


def pytest_addoption(parser):
    """Declare the ini option that names the folder of kubectl and helm."""
    parser.addini(TOOLS_OPTION, "folder of the kubectl and helm binaries that the fixtures kubectl, helm and "
                  "istioctl_standin run against the simulated cluster (relative to the ini file)", type="paths")


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


def tool_path(config, name: str) -> str:
    """The path of binary ``name`` in the folder of the ini option ``simcluster_tools``.

    Fails the test when the option is not set; skips it when the binary is not there.
    """
    folders = config.getini(TOOLS_OPTION)
    if not folders:
        pytest.fail(f"the simulated cluster's fixtures need {name}: set the ini option {TOOLS_OPTION} to the folder "
                    f"of kubectl and helm (in pytest.ini, or -o {TOOLS_OPTION}=FOLDER)", pytrace=False)
    path = os.path.join(str(folders[0]), name)
    if not os.access(path, os.X_OK):
        pytest.skip(f"{name} is not installed at {path} (the ini option {TOOLS_OPTION}): "
                    "in meshops.istio, run 'make tools' to install kubectl and helm")
    return path


@pytest.fixture
def kubectl(request, sim_kubeconfig, tmp_path) -> ToolRunner:  # pylint: disable=redefined-outer-name
    """Run the real kubectl against the simulated cluster: ``kubectl("get", "pods", "-A")``."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return ToolRunner(tool_path(request.config, "kubectl"), sim_kubeconfig, str(home),
                      ("--cache-dir", str(tmp_path / "kube-cache")))


@pytest.fixture
def helm(request, sim_kubeconfig, tmp_path) -> ToolRunner:  # pylint: disable=redefined-outer-name
    """Run the real helm against the simulated cluster: ``helm("install", "demo", chart_path)``."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return ToolRunner(tool_path(request.config, "helm"), sim_kubeconfig, str(home))


@pytest.fixture
def istioctl_standin(request, monkeypatch) -> str:
    """The path of the istioctl stand-in (``bin/istioctl``), with ``MESHOPS_ISTIOCTL_KUBECTL`` set to the kubectl it runs."""
    monkeypatch.setenv("MESHOPS_ISTIOCTL_KUBECTL", tool_path(request.config, "kubectl"))
    return ISTIOCTL_STANDIN
