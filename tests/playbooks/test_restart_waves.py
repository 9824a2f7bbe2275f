"""The data plane stage's restart waves as a person sees them: one task per wave, shown as it runs, with the time it
took; a wave that does not become ready stops the waves after it and names what it waited for."""

from __future__ import annotations

import json
import re

from kubernetes import client as k8s

from tests.playbooks.conftest import TARGET, state


def _waves_shown(output: str) -> list[tuple[int, int, str]]:
    return [(int(a), int(b), names) for a, b, names in re.findall(r"TASK \[meshops\.istio\.istio : Wave (\d+)/(\d+): ([^\]]+)\]", output)]


def test_each_wave_shows_as_it_runs(sample_mesh, run_playbook):
    done = run_playbook("upgrade", "--tags", "preflight,control_plane,data_plane", istio_restart_batch_size=2)
    assert done.rc == 0, done.output
    shown = _waves_shown(done.output)
    total = shown[0][1]
    assert total >= 3 and [number for number, _total, _names in shown] == list(range(1, total + 1))
    assert {t for _n, t, _names in shown} == {total}
    assert all(len(names.split(", ")) <= 2 for _n, _t, names in shown)
    # each wave says it is ready, with its time, right after its own task and before the next wave starts
    for number, _total, names in shown:
        header = done.output.index("Wave %d/%d: %s]" % (number, total, names))
        ready = re.compile(r'"msg": "wave %d/%d: %s ready in [0-9.]+ s"' % (number, total, re.escape(names)))
        match = ready.search(done.output, header)
        assert match, (number, names)
        if number < total:
            assert match.start() < done.output.index("Wave %d/%d:" % (number + 1, total))
    record = json.loads(sample_mesh.store.get("configmaps", "istio-system", "meshops-istio-upgrade")["data"]["record"])
    restarted = [w for wave in record["waves"] for w in wave]
    assert len(restarted) == sum(len(names.split(", ")) for _n, _t, names in shown)


def test_a_wave_that_fails_stops_the_waves_after_it(sample_mesh, run_playbook, k8s_client):
    run = run_playbook("upgrade", "--tags", "preflight,control_plane", istio_restart_batch_size=2)
    assert run.rc == 0, run.output
    # pods of the target never become ready (the simulated kubelet's broken revision), and the first wave's first
    # workload (bookinfo/details, in the order namespace, kind, name) has a deadline of one second
    sample_mesh.settings.broken_revisions = {TARGET}
    k8s.AppsV1Api(k8s_client).patch_namespaced_deployment("details", "bookinfo", {"spec": {"progressDeadlineSeconds": 1}})
    assert sample_mesh.settle(20)
    failed = run_playbook("upgrade", "--tags", "data_plane", istio_restart_batch_size=2)
    assert failed.rc != 0
    shown = _waves_shown(failed.output)
    assert [number for number, _total, _names in shown] == [1] and shown[0][1] >= 3
    assert "bookinfo/Deployment/details failed" in failed.output and "exceeded its progress deadline" in failed.output
    assert re.search(r"Waves 2 to %d \(\d+ workloads\) were not run" % shown[0][1], failed.output), failed.output
    assert "ready in" not in failed.output
    sidecars = state(sample_mesh)["sidecars"]
    assert TARGET not in sidecars["shop"]  # a later wave never ran
