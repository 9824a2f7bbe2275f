"""The report that ends every run of upgrade.yml and rollback.yml (check mode and failed runs included), as text for
people and as custom stats (JSON) for machines."""

from __future__ import annotations

import json
import re

from tests.playbooks.conftest import SOURCE, TARGET

STATS = {"ANSIBLE_SHOW_CUSTOM_STATS": "true"}


def report_lines(output: str) -> list[str]:
    """The lines of the last 'Report' task's message."""
    start = output.rindex("TASK [meshops.istio.istio : Report] ")
    block = output[start:output.index("PLAY RECAP", start)]
    return json.loads(block[block.index("{"):block.rindex("}") + 1])["msg"]


def custom_stats(output: str) -> dict:
    """The custom stats Ansible prints after the recap (ANSIBLE_SHOW_CUSTOM_STATS), per host."""
    block = output[output.index("CUSTOM STATS"):]
    return {host: json.loads(data) for host, data in re.findall(r"^\t(\S+): (\{.*\})\s*$", block, re.MULTILINE)}


def test_every_run_ends_with_the_report(sample_mesh, run_playbook):
    plan = run_playbook("upgrade", "--check", "--diff", env=STATS)
    assert plan.rc == 0, plan.output
    lines = report_lines(plan.output)
    assert lines[0] == "Check mode (nothing was changed). Istio upgrade %s (1.27.3) -> %s (1.28.1): stage not started" % (SOURCE, TARGET)
    assert lines[1].startswith("Next: start the upgrade")
    assert not sample_mesh.writes()

    # verify refuses the bare pod tagged/debug: the run fails, and the report still ends it, saying what blocks
    stopped = run_playbook("upgrade", env=STATS)
    assert stopped.rc != 0
    lines = report_lines(stopped.output)
    assert lines[0] == "Istio upgrade %s (1.27.3) -> %s (1.28.1): stage gateways (in_progress)" % (SOURCE, TARGET)
    # what stands before finalize: the bare pod verify refused, and a pod that pins the source by its own label
    assert re.match(r"Before finalize, 3 pods must run %s: (batch/worker-\S+ \(point its namespace, tag or own istio.io/rev "
                    r"label at %s first; restart Deployment batch/worker\), ){2}tagged/debug \(bare pod" % (TARGET, TARGET),
                    lines[1]), lines[1]
    assert lines[2] == "Next: verify: ansible-playbook meshops.istio.upgrade --tags verify"
    assert re.match(r"Stages \(seconds since the stage before\): preflight \d+ s, control_plane \d+ s, data_plane \d+ s, "
                    r"gateways \d+ s$", lines[3]), lines[3]
    assert "bookinfo (istio-injection=enabled -> istio.io/rev=%s)" % TARGET in lines[4]
    assert "Tags moved (revision before): prod-stable (%s)" % SOURCE in lines
    assert "Gateways moved (revision before): istio-ingress/istio-ingressgateway (%s)" % SOURCE in lines
    assert any(line.startswith("Restarted in 1 wave: bookinfo/details") for line in lines)
    # left on the source: the bare pod and the two pods that pin it by their own label
    assert any(line.startswith("Pods by sidecar revision: %s: 3, %s: " % (SOURCE, TARGET)) for line in lines), lines
    stats = custom_stats(stopped.output)["localhost"]["istio_report"]
    assert stats["stage"] == "gateways" and stats["target"]["revision"] == TARGET
    assert stats["blocked_by"][2].startswith("tagged/debug") and stats["lines"] == lines

    back = run_playbook("rollback", env=STATS)
    assert back.rc == 0, back.output
    lines = report_lines(back.output)
    assert lines[0] == "Istio upgrade %s (1.27.3) -> %s (1.28.1): stage rolled_back (done)" % (SOURCE, TARGET)
    assert lines[1] == "Next: nothing: the upgrade is rolled back; a new upgrade may start"
    assert any(line == "Pods by sidecar revision: %s: %d, none: %d" % (SOURCE, custom_stats(back.output)["localhost"]
               ["istio_report"]["pods_by_revision"][SOURCE], custom_stats(back.output)["localhost"]["istio_report"]
               ["pods_by_revision"]["none"]) for line in lines), lines
