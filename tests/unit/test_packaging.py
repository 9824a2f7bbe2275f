"""The collection as users get it: the built tarball's contents, what it declares for an execution environment, and
the EE definition of docs/execution-environment.md turned into a build context by ansible-builder."""

from __future__ import annotations

import os
import re
import subprocess
import tarfile

import pytest
import yaml

from tests.ansible_runner import BIN, REPO_ROOT, TOOLS_BIN, ansible_env


def _run(command: list, cwd, env) -> subprocess.CompletedProcess:
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, check=False, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> str:
    """``ansible-galaxy collection build`` of the working tree, as a release is built."""
    home = tmp_path_factory.mktemp("home")
    output = tmp_path_factory.mktemp("dist")
    _run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(output), REPO_ROOT],
         REPO_ROOT, ansible_env(home))
    (name,) = os.listdir(output)
    return str(output / name)


def test_tarball_holds_what_users_run_and_nothing_else(tarball):
    with tarfile.open(tarball) as archive:
        names = {member.name for member in archive.getmembers()}
    top = {name.split("/")[0] for name in names}
    assert top == {"FILES.json", "MANIFEST.json", "LICENSE", "README.md", "bindep.txt", "requirements.txt",
                   "changelogs", "docs", "meta", "playbooks", "plugins", "roles"}
    for wanted in ("meta/runtime.yml", "meta/execution-environment.yml", "roles/istio/meta/argument_specs.yml",
                   "playbooks/upgrade.yml", "playbooks/rollback.yml", "plugins/modules/mesh_control_plane.py",
                   "plugins/filter/istio_revision_of.yml", "changelogs/changelog.yaml"):
        assert wanted in names
    assert not [name for name in names if os.path.basename(name).startswith(".")]
    assert not [name for name in names if name.startswith("changelogs/fragments")]


def test_execution_environment_declares_what_the_modules_import(tarball, tmp_path):
    """``ansible-builder introspect`` on the installed tarball lists the Python client and no test-only package."""
    env = ansible_env(tmp_path / "home")
    _run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "-p", str(tmp_path / "collections"), tarball],
         tmp_path, env)
    introspected = _run([os.path.join(BIN, "ansible-builder"), "introspect", str(tmp_path / "collections")], tmp_path,
                        env).stdout
    data = yaml.safe_load(introspected.split("\n", 1)[1])
    python = [re.split(r"[<>=\s]", line, maxsplit=1)[0] for line in data["python"]]
    assert python == ["kubernetes"]  # PyYAML comes with ansible-core, so ansible-builder leaves it out
    assert data["system"] == []
    # every package a module imports is declared (jsonpatch is only the simulated cluster's)
    with open(os.path.join(REPO_ROOT, "requirements.txt"), encoding="utf-8") as handle:
        declared = {re.split(r"[<>=\s]", line, maxsplit=1)[0].lower() for line in handle if line.strip() and not line.startswith("#")}
    assert declared == {"kubernetes", "pyyaml"}
    imported = set()
    for folder, _dirs, files in os.walk(os.path.join(REPO_ROOT, "plugins")):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    imported |= set(re.findall(r"^\s*(?:from|import) (kubernetes|yaml|jsonpatch)\b", handle.read(), re.M))
    assert imported == {"kubernetes", "yaml"}


def test_ee_definition_in_the_docs_builds_a_context(tarball, tmp_path):
    """The definition in docs/execution-environment.md, with the tarball and the binaries beside it, gives a build
    context that installs the collection, introspects its requirements and puts helm and istioctl on PATH."""
    with open(os.path.join(REPO_ROOT, "docs", "execution-environment.md"), encoding="utf-8") as handle:
        definition = re.search(r"```yaml\n(.*?)```", handle.read(), re.S).group(1)
    source = tmp_path / "ee"
    (source / "bin").mkdir(parents=True)
    (source / "execution-environment.yml").write_text(definition.replace("meshops-istio-0.1.0.tar.gz", os.path.basename(tarball)))
    (source / os.path.basename(tarball)).write_bytes(open(tarball, "rb").read())
    (source / "bin" / "helm").write_bytes(open(os.path.join(TOOLS_BIN, "helm"), "rb").read())
    (source / "bin" / "istioctl").write_text("#!/bin/sh\n")
    context = tmp_path / "context"
    _run([os.path.join(BIN, "ansible-builder"), "create", "-f", str(source / "execution-environment.yml"), "-c", str(context)],
         tmp_path, ansible_env(tmp_path / "home"))
    build = context / "_build"
    assert yaml.safe_load((build / "requirements.yml").read_text()) == {
        "collections": [{"name": os.path.basename(tarball), "type": "file"}]}
    assert (build / os.path.basename(tarball)).read_bytes() == open(tarball, "rb").read()
    assert sorted(os.listdir(build / "bin")) == ["helm", "istioctl"]
    steps = (context / "Dockerfile").read_text()
    install = steps.index("ansible-galaxy collection install")
    assert steps.index("COPY _build /build") < install < steps.index("introspect.py introspect")
    assert "COPY _build/bin/ /usr/local/bin/" in steps
