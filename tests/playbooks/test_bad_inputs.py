"""Refused input is refused before the first write: each case runs on a freshly loaded sample mesh, must fail with a
message that names the bad variable (or record field) and says what to do, and must leave no persisting write in the
simulated cluster's request log (not even the upgrade record's)."""

from __future__ import annotations

import json

import pytest

from tests.playbooks.conftest import SOURCE, SOURCE_VERSION, TARGET, TARGET_VERSION
from tests.simcluster.fixtures import mesh

GATEWAY = {"name": "istio-ingressgateway", "namespace": mesh.INGRESS_NAMESPACE}


def record_configmap(record: dict) -> dict:
    """The upgrade record ConfigMap holding ``record`` as its JSON (as written by upgrade_record)."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "meshops-istio-upgrade", "namespace": "istio-system",
                         "labels": {"app.kubernetes.io/managed-by": "meshops.istio"}},
            "data": {"record": json.dumps(record), "stage": str(record.get("stage", ""))}}


def in_progress(**fields) -> dict:
    """An upgrade record of this upgrade at stage data_plane, with ``fields`` set."""
    record = {"source": {"revision": SOURCE, "version": SOURCE_VERSION},
              "target": {"revision": TARGET, "version": TARGET_VERSION},
              "stage": "data_plane", "status": "in_progress",
              "namespaces_before": {"bookinfo": {"istio-injection": "enabled"}}, "gateways_before": {}, "tags_before": {},
              "waves": [], "history": [], "started": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z",
              "operator": None}
    record.update(fields)
    return record


# id: (playbook, extra command-line arguments, variables, record to store first or None, fragments the output must hold)
CASES = {
    "batch size 0": ("upgrade", (), {"istio_restart_batch_size": 0}, None, ["istio_restart_batch_size", "0", "at least 1"]),
    "batch size -1": ("upgrade", (), {"istio_restart_batch_size": -1}, None, ["istio_restart_batch_size", "-1", "at least 1"]),
    "batch size -1, data plane stage alone": ("upgrade", ("--tags", "data_plane"), {"istio_restart_batch_size": -1}, None,
                                              ["istio_restart_batch_size", "at least 1"]),
    "negative restart timeout": ("upgrade", (), {"istio_restart_wait_timeout": -5}, None,
                                 ["istio_restart_wait_timeout", "-5", "at least 1"]),
    "negative gateway timeout": ("upgrade", (), {"istio_gateway_wait_timeout": -1}, None,
                                 ["istio_gateway_wait_timeout", "-1", "0 or more"]),
    "negative control plane timeout": ("upgrade", (), {"istio_control_plane_wait_timeout": -1}, None,
                                       ["istio_control_plane_wait_timeout", "-1", "0 or more"]),
    "negative pause": ("upgrade", (), {"istio_restart_pause": -2}, None, ["istio_restart_pause", "-2", "0 or more"]),
    "zero poll interval": ("upgrade", (), {"istio_restart_poll_interval": 0}, None, ["istio_restart_poll_interval", "more than 0"]),
    "zero canary replicas": ("upgrade", (), {"istio_gateway_strategy": "canary", "istio_gateway_canary_replicas": 0}, None,
                             ["istio_gateway_canary_replicas", "at least 1"]),
    "unknown restart policy": ("upgrade", (), {"istio_restart_policy": "sometimes"}, None,
                               ["istio_restart_policy", "sometimes", "waves, none"]),
    "unknown gateway strategy": ("upgrade", (), {"istio_gateway_strategy": "blue_green"}, None,
                                 ["istio_gateway_strategy", "blue_green", "in_place, canary"]),
    "unknown restart policy, gateways stage alone": ("upgrade", ("--tags", "gateways"), {"istio_restart_policy": "sometimes"}, None,
                                                     ["istio_restart_policy", "sometimes"]),
    "batch size 0, rollback": ("rollback", (), {"istio_restart_batch_size": 0}, in_progress(), ["istio_restart_batch_size", "at least 1"]),
    "negative gateway timeout, control plane stage alone": ("upgrade", ("--tags", "control_plane"), {"istio_gateway_wait_timeout": -3}, None,
                                                            ["istio_gateway_wait_timeout", "0 or more"]),
    "gateway selector that matches nothing": ("upgrade", (), {"istio_gateway_selector": ["app=no-such-gateway"]}, None,
                                              ["istio_gateway_selector", "no Deployment matches"]),
    "unknown gateway strategy, rollback": ("rollback", (), {"istio_gateway_strategy": "blue_green"}, in_progress(),
                                           ["istio_gateway_strategy", "blue_green", "in_place, canary"]),
    "namespace that does not exist": ("upgrade", (), {"istio_data_plane_namespaces": ["bookinfo", "no-such-ns"]}, None,
                                      ["istio_data_plane_namespaces", "no-such-ns", "does not exist"]),
    "excluded namespace that does not exist": ("upgrade", (), {"istio_exclude_namespaces": ["paymentz"]}, None,
                                               ["istio_exclude_namespaces", "paymentz", "does not exist"]),
    "exclude namespaces not a list": ("upgrade", (), {"istio_exclude_namespaces": 5}, None,
                                      ["istio_exclude_namespaces is 5 (a number)", "give a list", '["payments"]']),
    "namespaces a number": ("upgrade", (), {"istio_data_plane_namespaces": 5}, None, ["istio_data_plane_namespaces is 5 (a number)", "give a list"]),
    "gateway that does not exist": ("upgrade", (), {"istio_gateways": [{"name": "no-such-gw", "namespace": mesh.INGRESS_NAMESPACE}]}, None,
                                    ["istio_gateways", "no-such-gw", "not found"]),
    "gateway in a namespace that does not exist": ("upgrade", (), {"istio_gateways": [{"name": "gw", "namespace": "nowhere"}]}, None,
                                                   ["istio_gateways", "nowhere"]),
    "gateway entry without namespace": ("upgrade", (), {"istio_gateways": [{"name": "istio-ingressgateway"}]}, None,
                                        ["istio_gateways", "namespace"]),
    "gateway entry a string": ("upgrade", (), {"istio_gateways": ["istio-ingressgateway"]}, None, ["istio_gateways", "name", "namespace"]),
    "gateway entry with an unknown key": ("upgrade", (), {"istio_gateways": [dict(GATEWAY, namspace="x")]}, None,
                                          ["istio_gateways", "namspace"]),
    "namespace selector that does not parse": ("upgrade", (), {"istio_namespace_selector": ["env in (prod"]}, None,
                                               ["istio_namespace_selector", "env in (prod"]),
    "gateway selector that does not parse": ("upgrade", (), {"istio_gateways": [], "istio_gateway_selector": ["app in prod"]}, None,
                                             ["istio_gateway_selector", "app in prod", "parentheses"]),
    "gateway selector that does not parse, rollback": ("rollback", (), {"istio_gateway_selector": ["=x"]}, in_progress(),
                                                       ["istio_gateway_selector", "=x"]),
    "target version with a v": ("upgrade", (), {"istio_target_version": "v" + TARGET_VERSION}, None,
                                ["istio_target_version", "v1.28.1", "1.28.1"]),
    "target version without patch": ("upgrade", (), {"istio_target_version": "1.28"}, None,
                                     ["istio_target_version", "'1.28'", "1.28.1"]),
    "target equals source": ("upgrade", (), {"istio_target_version": SOURCE_VERSION}, None,
                             [SOURCE_VERSION, "already runs", "Nothing to upgrade", "newer version"]),
    "installer unknown": ("upgrade", (), {"istio_installer": "kubectl"}, None, ["istio_installer", "kubectl"]),
    "manifest installer without manifests": ("upgrade", (), {"istio_manifests": []}, None, ["istio_manifests", "is empty", "1-28-1"]),
    "record field of the wrong type": ("upgrade", (), {}, in_progress(namespaces_before=5),
                                       ["namespaces_before", "meshops-istio-upgrade", "delete"]),
    "record not a JSON object": ("upgrade", (), {}, [1, 2], ["meshops-istio-upgrade", "not a JSON object"]),
    "record endpoint of the wrong type": ("upgrade", (), {}, in_progress(target=3), ["target", "meshops-istio-upgrade"]),
    "record namespaces_before entry a string, rollback": ("rollback", (), {}, in_progress(namespaces_before={"bookinfo": "enabled"}),
                                                          ["namespaces_before.bookinfo", "meshops-istio-upgrade"]),
    "record namespaces_before a string, rollback": ("rollback", (), {}, in_progress(namespaces_before="bookinfo"),
                                                    ["namespaces_before must be a dict, not str", "meshops-istio-upgrade"]),
    "record history a number": ("upgrade", (), {}, in_progress(history=3), ["history must be a list", "meshops-istio-upgrade"]),
    "record unknown stage, rollback": ("rollback", (), {}, in_progress(stage="half_done"), ["stage", "half_done"]),
    # renamed variables: an old name with another value than its new name is refused, naming the new one, rather than
    # silently leaving the new one at its default (with the same value it is accepted: tests/unit test_role_inputs.py)
    "old name istio_namespace": ("upgrade", (), {"istio_namespace": "mesh-system"}, None,
                                 ["istio_namespace is 'mesh-system', but this role reads istio_control_plane_namespace"]),
    "old name istio_namespaces, data plane stage alone": ("upgrade", ("--tags", "data_plane"), {"istio_namespaces": ["bookinfo"]},
                                                          None, ["istio_namespaces is ['bookinfo'], but this role reads istio_data_plane_namespaces"]),
    "old name istio_operator, finalize alone": ("upgrade", ("--tags", "finalize"), {"istio_operator": "alice"}, None,
                                                ["istio_operator is 'alice', but this role reads istio_record_operator"]),
    "old name istio_operator_file, rollback": ("rollback", (), {"istio_operator_file": "/srv/iop.yaml"}, in_progress(),
                                               ["istio_operator_file is '/srv/iop.yaml', but this role reads istio_istioctl_operator_file"]),
    "old name istio_namespace, rbac.yml": ("rbac", (), {"istio_namespace": "mesh"}, None,
                                           ["istio_namespace is 'mesh', but this role reads istio_control_plane_namespace"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused_before_any_write(case, sample_mesh, run_playbook):
    playbook, args, variables, record, fragments = CASES[case]
    if record is not None:
        sample_mesh.load([record_configmap(record)] if isinstance(record, dict)
                         else [dict(record_configmap({}), data={"record": json.dumps(record)})])
    sample_mesh.clear_requests()

    run = run_playbook(playbook, *args, **variables)

    failures = "\n".join(line for line in run.output.splitlines() if line.startswith(("fatal:", "[ERROR]", "ERROR!")))
    assert run.rc != 0, run.output
    writes = [f"{r.verb} {r.resource} {r.namespace}/{r.name}" for r in sample_mesh.writes()]
    assert not writes, (writes, failures)
    missing = [fragment for fragment in fragments if fragment not in failures]
    assert not missing, (missing, failures)
