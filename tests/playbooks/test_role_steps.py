"""The role's layout: its entry points in tasks/, their shared steps in tasks/steps/, and the read and checks of the
upgrade (steps/context.yml, steps/checks.yml) run once per play whichever entry point runs first, every task of them.

A guard variable set by the last task of an imported file skips every task added after it (an import copies the
guard's ``when`` onto each task): the test appends a task to the end of both files, in a copy of the collection, and
proves that each entry point runs it exactly once. The record write (steps/record.yml) has the same shape: a task
appended to its block runs each time the record is written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import yaml

from tests.ansible_runner import BIN, REPO_ROOT, ansible_env
from tests.playbooks.conftest import TARGET, TARGET_VERSION, write_yaml
from tests.simcluster.fixtures import controlplane

ROLE = os.path.join(REPO_ROOT, "roles", "istio")
# the shared steps that read and check; rollback reads afresh and has checks of its own
READ_AND_CHECK = {"main": (1, 1), "preflight": (1, 1), "control_plane": (1, 1), "data_plane": (1, 1), "gateways": (1, 1),
                  "verify": (1, 1), "finalize": (1, 1), "rollback": (1, 0)}
COUNTED = re.compile(r'"msg": "STEPS (\w+) context=(\d+) checks=(\d+) records=(\d+)"')
WRITE_TASK = "TASK [meshops.istio.istio : Write the upgrade record]"


def entry_points() -> list[str]:
    with open(os.path.join(ROLE, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        return sorted(yaml.safe_load(handle)["argument_specs"])


def test_tasks_holds_the_entry_points_and_steps_the_rest():
    """Every file directly in tasks/ is an entry point of meta/argument_specs.yml, and every entry point has one."""
    files = sorted(name[:-len(".yml")] for name in os.listdir(os.path.join(ROLE, "tasks")) if name.endswith(".yml"))
    assert files == entry_points()
    assert set(READ_AND_CHECK) | {"report"} == set(entry_points())
    assert {"context.yml", "checks.yml", "prepare.yml", "record.yml"} <= set(os.listdir(os.path.join(ROLE, "tasks", "steps")))


def appended(counter: str) -> list[dict]:
    return [{"name": "Appended by the test - count this file's runs",
             "ansible.builtin.set_fact": {counter: "{{ %s | default(0) | int + 1 }}" % counter}}]


def test_every_task_of_the_read_and_checks_runs_once_per_entry_point(sample_mesh, sim_kubeconfig, tmp_path):
    # a copy of the collection whose context.yml and checks.yml end with one more task
    collection = tmp_path / "collections" / "ansible_collections" / "meshops" / "istio"
    collection.mkdir(parents=True)
    for part in ("galaxy.yml", "meta", "plugins", "roles"):
        source = os.path.join(REPO_ROOT, part)
        (shutil.copytree if os.path.isdir(source) else shutil.copy)(source, collection / part)  # type: ignore[operator]
    for name, counter in (("context", "istio__test_context_runs"), ("checks", "istio__test_checks_runs")):
        path = collection / "roles" / "istio" / "tasks" / "steps" / (name + ".yml")
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("\n" + yaml.safe_dump(appended(counter), sort_keys=False))
    # steps/record.yml: the task goes at the end of its block (the record's write and what follows it)
    path = collection / "roles" / "istio" / "tasks" / "steps" / "record.yml"
    record_steps = yaml.safe_load(path.read_text(encoding="utf-8"))
    record_steps[-1]["block"] += appended("istio__test_record_runs")
    path.write_text("---\n" + yaml.safe_dump(record_steps, sort_keys=False), encoding="utf-8")

    # each host runs one entry point alone, in check mode (the target is not installed, nothing is written)
    inventory = {"all": {"hosts": {name: {"ansible_connection": "local"} for name in READ_AND_CHECK}}}
    playbook = [{"name": "Each entry point alone", "hosts": "all", "gather_facts": False,
                 "module_defaults": {"group/meshops.istio.istio": {"kubeconfig": sim_kubeconfig}},
                 "tasks": [{"name": "Run the entry point", "block": [
                     {"name": "Entry point " + name, "when": "inventory_hostname == %r" % name,
                      "ansible.builtin.include_role": {"name": "meshops.istio.istio", "tasks_from": name}}
                     for name in READ_AND_CHECK],
                     "always": [{"name": "Count", "ansible.builtin.debug": {
                         "msg": "STEPS {{ inventory_hostname }} context={{ istio__test_context_runs | default(0) }}"
                                " checks={{ istio__test_checks_runs | default(0) }}"
                                " records={{ istio__test_record_runs | default(0) }}"}}]}]}]
    variables = {"istio_target_version": TARGET_VERSION,
                 "istio_manifests": [write_yaml(tmp_path / "target.yaml", controlplane.render(TARGET, TARGET_VERSION))]}
    env = dict(ansible_env(tmp_path / "home"), ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"), ANSIBLE_FORKS="2")
    completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", write_yaml(tmp_path / "hosts.yml", [inventory]),
                                write_yaml(tmp_path / "play.yml", [playbook]), "--check", "-e", json.dumps(variables)],
                               capture_output=True, text=True, env=env, timeout=600, check=False)
    output = completed.stdout + completed.stderr
    counted = {name: (int(context), int(checks)) for name, context, checks, _runs in COUNTED.findall(output)}
    assert counted == READ_AND_CHECK, output
    # the appended task ran after every record write (preflight writes one, in check mode as a dry run)
    records = {found[0]: int(found[3]) for found in COUNTED.findall(output)}
    assert records == written(output) and records["preflight"] >= 1, (records, output)
    # rollback stops there: in check mode, with no record, there is nothing to roll back; every other one passes
    assert "Nothing to roll back" in output and "failed=1" in re.search(r"^rollback\s*:.*$", output, re.M).group(0), output
    assert all("failed=0" in re.search(r"^%s\s*:.*$" % name, output, re.M).group(0) for name in READ_AND_CHECK
               if name != "rollback"), output


def written(output: str) -> dict:
    """How many times each host ran the task that writes the record (not skipped), from ansible-playbook's output."""
    runs = dict.fromkeys(READ_AND_CHECK, 0)
    for section in output.split(WRITE_TASK)[1:]:
        body = section.split("\nTASK [", 1)[0]
        for host in re.findall(r"^(?:ok|changed): \[(\w+)\]", body, re.M):
            runs[host] += 1
    return runs
