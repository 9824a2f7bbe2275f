"""``python -m tests.simcluster``: the ready line, --load, and a clean exit on SIGTERM."""
from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys

from kubernetes import client, config

from tests import simcluster

# the folder the package is imported from: one level above the package for each part of its dotted name
IMPORT_ROOT = str(pathlib.Path(os.path.abspath(simcluster.__file__)).parents[simcluster.__name__.count(".") + 1])


def test_command_line_serves_loaded_objects_until_sigterm(tmp_path):
    manifest = tmp_path / "objects.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-file\n  namespace: loaded\n"
                        "  resourceVersion: '12345'\n  uid: 0f0f0f0f-0000-4000-8000-000000000001\ndata:\n  a: '1'\n",
                        encoding="utf-8")
    kubeconfig = tmp_path / "kubeconfig"
    command = [sys.executable, "-m", simcluster.__name__, "--kubeconfig", str(kubeconfig), "--load", str(manifest),
               "--rollout-delay", "0.1"]
    # from another working directory: the command needs only its package on the import path
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [IMPORT_ROOT, os.environ.get("PYTHONPATH")])))
    with subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            line = process.stdout.readline()
            assert line.startswith("ready https://127.0.0.1:"), process.stderr.read()
            api = config.new_client_from_config(config_file=str(kubeconfig))
            try:
                loaded = client.CoreV1Api(api).read_namespaced_config_map("from-file", "loaded")
            finally:
                api.close()
            assert loaded.data == {"a": "1"} and loaded.metadata.uid == "0f0f0f0f-0000-4000-8000-000000000001"
            assert loaded.metadata.resource_version != "12345"
        finally:
            process.send_signal(signal.SIGTERM)
            _unused, errors = process.communicate(timeout=15)
    assert process.returncode == 0, errors
    assert "loaded 1 objects" in errors
