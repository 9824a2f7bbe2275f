"""upgrade.yml and rollback.yml on the real cluster: the upstream API server and controllers, and the real istiod of
two Istio releases injecting every pod. The same scenarios as tests/playbooks on the simulated cluster."""

from __future__ import annotations

import threading
import time

import kubernetes
import pytest
import yaml
from kubernetes import config

from tests.playbooks.conftest import DEBUG_REFUSED, write_yaml, writes_after_the_gate
from tests.real.conftest import SOURCE, TARGET, state
from tests.simcluster.fixtures import mesh

TAG_WEBHOOK = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-revision-tag-" + mesh.TAG_NAME


def recreate_debug_pod(real_mesh) -> set:
    """What the operator does with the bare pod a gate names: delete it and create it again, so that the real istiod
    its namespace's tag points at now injects it; returns the revisions of the tagged namespace's sidecars."""
    real_mesh.kubectl("delete", "pod", "-n", "tagged", "debug", "--wait=true")
    real_mesh.apply([mesh.bare_pod("tagged", "debug")])
    assert real_mesh.settle(60)
    return state(real_mesh)["sidecars"]["tagged"]


def test_check_upgrade_rerun_and_rollback(real_mesh, run_playbook):
    before = state(real_mesh)
    assert before["sidecars"]["bookinfo"] == {SOURCE.revision} and before["tags"]["prod-stable"] == SOURCE.revision
    assert before["images"]["bookinfo"] == {f"docker.io/istio/proxyv2:{SOURCE.version}"}
    tag_labels = real_mesh.get(TAG_WEBHOOK)["metadata"]["labels"]

    real_mesh.clear_requests()
    plan = run_playbook("upgrade", "--check", "--diff")
    assert plan.rc == 0, plan.output
    writes = real_mesh.writes()
    assert not writes, [f"{r['verb']} {r['resource']} {r['namespace']}/{r['name']}" for r in writes]
    assert any(r["dry_run"] for r in real_mesh.requests()), "check mode asked the API server for no dry run"
    assert f"Namespaces to point at {TARGET.revision}: bookinfo enabled -" in plan.output, plan.output
    assert state(real_mesh) == before

    # verify refuses the bare pod tagged/debug, which the tag injected and no restart rebuilds, and writes nothing after
    real_mesh.clear_requests()
    refused = run_playbook("upgrade")
    assert refused.rc != 0 and DEBUG_REFUSED % (SOURCE.revision, TARGET.revision) in refused.output, refused.output
    assert writes_after_the_gate(real_mesh.requests()) == [] and state(real_mesh)["stage"] == "gateways"
    assert recreate_debug_pod(real_mesh) == {TARGET.revision}

    done = run_playbook("upgrade")
    assert done.rc == 0, done.output
    after = state(real_mesh)
    for name in ("bookinfo", "shop", "payments"):
        assert after["labels"][name] == {"istio.io/rev": TARGET.revision}, name
        assert after["sidecars"][name] == {TARGET.revision}, name
        # the real istiod of the target injected them: its own proxy image
        assert after["images"][name] == {f"docker.io/istio/proxyv2:{TARGET.version}"}, name
    assert after["labels"]["tagged"] == {"istio.io/rev": "prod-stable"}
    assert after["tags"] == {"default": SOURCE.revision, "prod-stable": TARGET.revision}
    assert after["labels"]["legacy"] == {"istio-injection": "disabled"}
    assert after["gateway"] == TARGET.revision and after["sidecars"]["istio-ingress"] == {TARGET.revision}
    assert after["istiods"] == ["istiod-" + SOURCE.revision, "istiod-" + TARGET.revision] and after["stage"] == "verify"

    again = run_playbook("upgrade")
    assert again.rc == 0 and again.changed == 0, again.output

    # the rollback's gate refuses the bare pod recreated on the target, and removes nothing
    real_mesh.clear_requests()
    refused = run_playbook("rollback")
    assert refused.rc != 0 and DEBUG_REFUSED % (TARGET.revision, SOURCE.revision) in refused.output, refused.output
    assert writes_after_the_gate(real_mesh.requests()) == []
    assert state(real_mesh)["istiods"] == ["istiod-" + SOURCE.revision, "istiod-" + TARGET.revision]
    assert recreate_debug_pod(real_mesh) == {SOURCE.revision}

    back = run_playbook("rollback")
    assert back.rc == 0, back.output
    assert real_mesh.settle(60)
    # the tag's webhook has every label it had, the chart's operator.istio.io labels too, as after istioctl tag set
    # --overwrite: that takes the labels the revision's own webhook has from it, so the two the docs' `helm template
    # istiod` gave the tag (release and instance "istiod") now name the source's release, as the revision's webhook does
    labels = real_mesh.get(TAG_WEBHOOK)["metadata"]["labels"]
    own = real_mesh.get("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector-"
                        + SOURCE.revision)["metadata"]["labels"]
    assert labels.keys() == tag_labels.keys()
    assert {key: value for key, value in labels.items() if value != tag_labels[key]} == {
        "release": own["release"], "app.kubernetes.io/instance": own["app.kubernetes.io/instance"]} == {
        "release": "istiod-" + SOURCE.revision, "app.kubernetes.io/instance": "istiod-" + SOURCE.revision}
    restored = state(real_mesh)
    assert restored["labels"] == before["labels"] and restored["tags"] == before["tags"]
    assert restored["gateway"] == before["gateway"] == SOURCE.revision
    assert restored["sidecars"] == before["sidecars"] and restored["images"] == before["images"]
    assert restored["istiods"] == ["istiod-" + SOURCE.revision] and restored["stage"] == "rolled_back"


@pytest.mark.usefixtures("source_adopted")
def test_finalize_gate_finalize_then_no_rollback(real_mesh, run_playbook):
    refused = run_playbook("upgrade", "--tags", "control_plane,data_plane,gateways,finalize", istio_restart_policy="none")
    assert refused.rc != 0
    assert "productpage-" in refused.output and "stale" in refused.output, refused.output
    held = state(real_mesh)
    assert held["tags"]["default"] == SOURCE.revision and "istiod-" + SOURCE.revision in held["istiods"]
    assert held["sidecars"]["bookinfo"] == {SOURCE.revision}

    # what no workload restart rebuilds: a bare pod, and a workload that selects the source through its pod label
    real_mesh.kubectl("delete", "pod", "-n", "tagged", "debug", "--wait=true")
    real_mesh.kubectl("delete", "deployment", "-n", "batch", "worker")
    real_mesh.kubectl("delete", "job", "-n", "batch", "report", "--cascade=foreground")
    assert real_mesh.settle(60)
    final = run_playbook("upgrade", istio_upgrade_finalize=True)
    assert final.rc == 0, final.output
    finalized = state(real_mesh)
    assert finalized["tags"] == {"default": TARGET.revision, "prod-stable": TARGET.revision}
    assert finalized["istiods"] == ["istiod-" + TARGET.revision] and finalized["stage"] == "finalized"
    validator = real_mesh.get("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/istiod-default-validator")
    assert validator["metadata"]["labels"]["istio.io/rev"] == TARGET.revision

    # the default tag now sends istio-injection=enabled namespaces to the target's real istiod
    real_mesh.kubectl("create", "namespace", "fresh")
    real_mesh.kubectl("label", "namespace", "fresh", "istio-injection=enabled")
    real_mesh.kubectl("create", "deployment", "hello", "-n", "fresh", "--image=docker.io/library/nginx:1.27")
    assert real_mesh.settle(60)
    assert state(real_mesh)["images"]["fresh"] == {f"docker.io/istio/proxyv2:{TARGET.version}"}

    late = run_playbook("rollback")
    assert late.rc != 0 and "is finalized" in late.output, late.output


def _field_managers(obj: dict) -> dict:
    """Manager -> the fieldsV1 it owns, as text, for a quick "who owns what" check."""
    return {entry["manager"]: str(entry.get("fieldsV1")) for entry in obj["metadata"].get("managedFields") or []}


def test_manifest_installer_leaves_istiods_webhook_fields_to_istiod(real_mesh, run_playbook, target_manifest, tmp_path):
    """istiod patches its webhooks' caBundle and turns the validator's failurePolicy to Fail once it serves: a
    manifest applied with server-side apply must not claim those fields, or each apply turns validation off
    (failurePolicy Ignore) until istiod puts it back."""
    done = run_playbook("upgrade", "--tags", "control_plane")
    assert done.rc == 0, done.output
    assert real_mesh.settle(60)
    name = f"istio-validator-{TARGET.revision}-istio-system"
    path = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/" + name
    validator = real_mesh.get(path)
    assert validator["webhooks"][0]["failurePolicy"] == "Fail"  # istiod's own write, once ready
    owned = _field_managers(validator).get("meshops.istio", "")
    assert "f:failurePolicy" not in owned and "f:caBundle" not in owned, owned

    # apply a changed manifest (one more label on every object) while watching the validator: no moment of Ignore
    manifest = list(yaml.safe_load_all(open(target_manifest, encoding="utf-8")))
    for obj in manifest:
        if obj:
            obj["metadata"].setdefault("labels", {})["example.com/owner"] = "platform"
    changed_path = write_yaml(tmp_path / "target-labelled.yaml", [obj for obj in manifest if obj])
    seen = []
    client = config.new_client_from_config(config_file=real_mesh.kubeconfig)
    api = kubernetes.client.AdmissionregistrationV1Api(client)
    watcher = kubernetes.watch.Watch()

    errors = []
    stopping = threading.Event()

    def watch():
        try:
            for event in watcher.stream(api.list_validating_webhook_configuration, field_selector=f"metadata.name={name}",
                                        resource_version=validator["metadata"]["resourceVersion"], timeout_seconds=120):
                seen.append((event["type"], event["object"].webhooks[0].failure_policy,
                             (event["object"].metadata.labels or {}).get("example.com/owner")))
        except Exception as exc:  # pylint: disable=broad-except
            if not stopping.is_set():  # stopping the watch ends its stream, which is no error
                errors.append(exc)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    changed = run_playbook("upgrade", "--tags", "control_plane", istio_manifests=[changed_path])
    assert changed.rc == 0, changed.output
    time.sleep(3)  # istiod, had the apply taken its fields, would be writing them back now
    stopping.set()
    watcher.stop()
    thread.join(10)
    client.close()
    assert not errors, errors
    assert any(labels == "platform" for _type, _policy, labels in seen), seen
    assert all(policy == "Fail" for _type, policy, _labels in seen), seen
    injector = real_mesh.get(f"/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector-{TARGET.revision}")
    assert all(hook["clientConfig"].get("caBundle") for hook in injector["webhooks"])
    assert "f:caBundle" not in _field_managers(injector).get("meshops.istio", "")
