"""Helpers for module tests: run a module's main() in-process as ansible-test's unit tests do, and sim credentials."""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.meshops.istio.plugins.modules import mesh_control_plane
from tests.ansible_runner import BIN, ansible_env
from tests.modules.mesh_control_plane_helpers import OLD, OLD_VERSION
from tests.simcluster.fixtures import mesh


class ModuleRun:
    """The outcome of one in-process module run: exit code and the JSON result it printed."""

    def __init__(self, rc: int, result: dict) -> None:
        self.rc = rc
        self.result = result

    @property
    def failed(self) -> bool:
        """True when the module called fail_json."""
        return bool(self.result.get("failed"))


@pytest.fixture(autouse=True)
def fresh_module_warnings():
    """Start every test with no warnings or deprecations left by a module run in an earlier test.

    AnsibleModule keeps them in process-wide registries; in-process runs in one pytest worker would
    otherwise report the warnings of modules run before them.
    """
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    ansible_warnings._global_deprecations.clear()  # pylint: disable=protected-access


@pytest.fixture
def run_module(capsys):
    """Call ``main()`` with ``args`` (plus ``_ansible_check_mode``/``_ansible_diff`` when given) and parse its output."""

    def run(main, args: dict, check_mode: bool = False, diff: bool = False) -> ModuleRun:
        module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        capsys.readouterr()
        with patch_module_args(module_args), pytest.raises(SystemExit) as exited:
            main()
        out = capsys.readouterr().out
        return ModuleRun(exited.value.code or 0, json.loads(out))

    return run


@pytest.fixture
def run(run_module, sim_kubeconfig, tmp_path, monkeypatch):
    """mesh_control_plane's result: ``run(check=False, diff=False, connection=None, **options)`` on the simulated
    cluster (its kubeconfig unless ``connection`` gives other connection options), helm's homes in the test's directory."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("CACHE", "CONFIG", "DATA"):
        monkeypatch.setenv("HELM_%s_HOME" % name, str(tmp_path / ("helm-" + name.lower())))

    def call(check=False, diff=False, connection=None, **args):
        connection = {"kubeconfig": sim_kubeconfig} if connection is None else connection
        return run_module(mesh_control_plane.main, dict({"wait_timeout": 20}, **connection, **args), check_mode=check, diff=diff).result
    return call


@pytest.fixture
def sim_auth(sim, tmp_path) -> dict:
    """Token authentication over HTTPS to the simulated cluster: host, api_key and the CA to trust."""
    ca = tmp_path / "sim-ca.pem"
    ca.write_bytes(sim.ca_pem)
    return {"host": sim.url, "api_key": sim.token, "ca_cert": str(ca)}


@pytest.fixture
def old_mesh(sim):
    """The sample mesh on revision OLD 1-28-1 (default tag, prod-stable tag, gateway, workloads), settled; its CRDs carry
    the base chart's label app.kubernetes.io/version=1.28.1."""
    sim.load(mesh.sample(OLD, OLD_VERSION))
    sim.settle()
    sim.clear_requests()
    return sim


@pytest.fixture
def closed_port() -> int:
    """A local TCP port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ansible_playbook(tmp_path):
    """Run ``ansible-playbook`` on a playbook file against localhost, as a user runs it; returns the CompletedProcess.

    The modules run with this Python (the one with the kubernetes client); extra arguments such as ``--check`` and
    ``--diff`` follow the playbook. Ansible's home is a temporary folder, so no user configuration leaks in.
    """
    env = ansible_env(tmp_path / "ansible-home")
    binary = os.path.join(BIN, "ansible-playbook")

    def run(playbook, *args: str, cwd: str | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
        command = [binary, "-i", "localhost,", "-c", "local", str(playbook), *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False)

    return run
