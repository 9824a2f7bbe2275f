"""What a move off a revision needs beyond namespace labels and workload restarts: per pod, as a table."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.audit import PodAudit, Verdict
from ansible_collections.meshops.istio.plugins.module_utils.istio.move_attention import move_attention, pins_revision
from ansible_collections.meshops.istio.plugins.module_utils.istio.workload_owner import Owner
from ansible_collections.meshops.istio.plugins.module_utils.istio.sidecar import Sidecar

SOURCE = "1-27-3"


def audited(namespace, name, kind, owner, sidecar_revision=SOURCE, restart_revision=SOURCE):
    sidecar = Sidecar(sidecar_revision is not None, False, sidecar_revision, None, None, False)
    return PodAudit(namespace, name, "Running", Owner(namespace, kind, owner), sidecar, restart_revision is not None,
                    restart_revision, Verdict("current", None, "because"))


def raw(namespace, name, labels=None, annotations=None):
    return {"metadata": {"namespace": namespace, "name": name, "labels": labels or {}, "annotations": annotations or {}}}


@pytest.mark.parametrize("pod_labels, ns_labels, expected", [
    ({"istio.io/rev": SOURCE}, {}, True),
    ({"istio.io/rev": SOURCE}, {"istio.io/rev": "1-29-2"}, False),  # the namespace label overrides the pod's
    ({"istio.io/rev": SOURCE}, {"istio-injection": "enabled"}, False),  # istio-injection wins
    ({"istio.io/rev": "prod-stable"}, {}, False),  # a tag follows when it moves
    ({}, {}, False),
])
def test_pins_revision(pod_labels, ns_labels, expected):
    assert pins_revision(raw("ns", "p", pod_labels), ns_labels, SOURCE) is expected


def test_move_attention_per_owner_and_issue():
    pods = [
        audited("shop", "db-0", "StatefulSet", "db"), audited("shop", "db-1", "StatefulSet", "db"),
        audited("shop", "agent-a", "DaemonSet", "agent"),
        audited("shop", "web-1", "Deployment", "web"),
        audited("tagged", "debug", None, None),
        audited("batch", "report-1", "Job", "report", sidecar_revision=None),
        audited("batch", "worker-1", "Deployment", "worker"),
        audited("edge", "gw-1", "Deployment", "gw"),
        audited("moved", "job-1", "Job", "done", sidecar_revision="1-29-2", restart_revision="1-29-2"),  # not on the source
        audited("off", "lone", None, None, sidecar_revision=None, restart_revision=None),  # no sidecar, none expected
    ]
    manifests = [raw("batch", "worker-1", {"istio.io/rev": SOURCE}), raw("batch", "report-1", {"istio.io/rev": SOURCE}),
                 raw("edge", "gw-1", {"istio.io/rev": SOURCE}, {"inject.istio.io/templates": "gateway"})]
    workloads = {("shop", "StatefulSet", "db"): {"spec": {"updateStrategy": {"type": "OnDelete"}}},
                 ("shop", "DaemonSet", "agent"): {"spec": {}}}
    found = move_attention(pods, manifests, {"shop": {"istio.io/rev": SOURCE}}, workloads, SOURCE)
    assert [(e["namespace"], e["kind"], e["name"], e["issue"], e["pods"]) for e in found] == [
        ("batch", "Deployment", "worker", "pins_revision", ["worker-1"]),
        ("batch", "Job", "report", "not_rebuilt", ["report-1"]),
        ("batch", "Job", "report", "pins_revision", ["report-1"]),
        ("edge", "Deployment", "gw", "pins_revision", ["gw-1"]),
        ("shop", "StatefulSet", "db", "on_delete", ["db-0", "db-1"]),
        ("tagged", "Pod", "debug", "not_rebuilt", ["debug"]),
    ]
    actions = {(e["name"], e["issue"]): e["action"] for e in found}
    assert "pod template of Deployment worker" in actions[("worker", "pins_revision")]
    assert "meshops.istio.gateway_revision" in actions[("gw", "pins_revision")]
    assert "OnDelete" in actions[("db", "on_delete")] and "delete its pods one by one" in actions[("db", "on_delete")]
    assert "Job report" in actions[("report", "not_rebuilt")]
