"""How the tests run ``ansible`` and ``ansible-playbook`` as a user does: one environment and one playbook runner."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS_BIN = os.path.join(REPO_ROOT, ".tools", "bin")
BIN = os.path.dirname(sys.executable)
RECAP = re.compile(r"^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def ansible_env(home) -> dict:
    """The environment of a run: modules on this Python (it has the kubernetes client), no colour and no localhost
    warnings, a private ANSIBLE_HOME so that no user configuration leaks in, the pinned kubectl and helm first on PATH."""
    return dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="false",
                ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_HOME=str(home), ANSIBLE_NOCOLOR="true",
                ANSIBLE_FORCE_COLOR="false", PATH=TOOLS_BIN + os.pathsep + os.environ["PATH"])


class PlaybookRun:
    """The outcome of one ansible-playbook run: return code, output and the PLAY RECAP counts."""

    def __init__(self, completed: subprocess.CompletedProcess) -> None:
        self.rc = completed.returncode
        self.output = completed.stdout + completed.stderr
        match = RECAP.search(completed.stdout)
        self.changed = int(match.group(2)) if match else None
        self.failed = int(match.group(4)) if match else None

    def __repr__(self) -> str:
        return self.output


def run_collection_playbook(name: str, variables: dict, home, *args: str, timeout: float = 900, env: dict | None = None) -> PlaybookRun:
    """``ansible-playbook playbooks/<name>.yml -e <variables> ARGS``, as a user runs the collection's playbooks (``env``
    adds to the environment)."""
    command = [os.path.join(BIN, "ansible-playbook"), os.path.join(REPO_ROOT, "playbooks", name + ".yml"), "-e", json.dumps(variables), *args]
    return PlaybookRun(subprocess.run(command, capture_output=True, text=True, env=dict(ansible_env(home), **(env or {})),
                                      timeout=timeout, check=False))
