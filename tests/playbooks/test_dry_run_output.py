"""What `upgrade.yml --check --diff` shows a person: the plan as the first message, and not the noise of every guarded
step skipped (each step read and checked once shows as one skipped line in the stages after it)."""

from __future__ import annotations

import re


def test_the_plan_comes_first_and_skipped_steps_stay_few(sample_mesh, run_playbook):
    plan = run_playbook("upgrade", "--check", "--diff")
    assert plan.rc == 0, plan.output
    first_message = plan.output[plan.output.index('"msg"'):]
    assert first_message.split("\n", 2)[1].strip().startswith('"Check mode: revision'), first_message[:400]
    assert "Namespaces to point at" in first_message[:2000]
    skipped = re.findall(r"^skipping: ", plan.output, re.MULTILINE)
    headers = re.findall(r"^TASK \[", plan.output, re.MULTILINE)
    # was 165 skipped of 204 tasks (731 lines) when each stage imported the record reading and the checks again
    assert len(skipped) <= 60 and len(headers) <= 110, (len(skipped), len(headers))
    assert plan.output.count("TASK [meshops.istio.istio : Check that a target is given]") == 1
    assert not sample_mesh.writes()
