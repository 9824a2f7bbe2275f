"""istiod's wait on the real cluster: a revision whose istiod never becomes Ready fails ``mesh_control_plane``'s wait as
soon as kube-controller-manager marks its rollout past the progress deadline (``ProgressDeadlineExceeded``), with
``kubectl rollout status``'s message, instead of waiting out ``wait_timeout``.

Its image names an Istio release this cluster has no pilot-discovery for, so the istiod runner never starts it and
its pod never becomes Ready: the Deployment controller, not the test, decides that the rollout is stuck.
"""

from __future__ import annotations

import time

import yaml

from tests.real.conftest import TARGET

REVISION = "stuck"


def test_istiod_past_its_progress_deadline_fails_the_wait_at_once(real_mesh, run_module, tmp_path):
    objects = [obj for obj in yaml.safe_load_all(real_mesh.render_istiod(TARGET.version, REVISION)) if obj]
    istiod = next(obj for obj in objects if obj["kind"] == "Deployment")
    istiod["spec"]["progressDeadlineSeconds"] = 2
    container = istiod["spec"]["template"]["spec"]["containers"][0]
    container["image"] = container["image"].rsplit(":", 1)[0] + ":1.29.99"
    manifest = tmp_path / "stuck.yaml"
    manifest.write_text(yaml.safe_dump_all(objects), encoding="utf-8")

    started = time.monotonic()
    rc, output = run_module("mesh_control_plane", revision=REVISION, installer="manifest", manifests=[str(manifest)],
                            wait_timeout=300)
    took = time.monotonic() - started
    assert rc != 0, output
    assert ('istiod revision stuck failed to roll out: Deployment istio-system/istiod-stuck: '
            'deployment "istiod-stuck" exceeded its progress deadline') in output, output
    assert took < 120, (took, output)  # the wait stopped at the controller's verdict, not at wait_timeout
    deployment = real_mesh.get("/apis/apps/v1/namespaces/istio-system/deployments/istiod-stuck")
    progressing = next(c for c in deployment["status"]["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
