"""gateway_revision against the simulated cluster: gateways moved in place or through a canary, the pods the injector
made, the request log, failures before any write, and a real ansible-playbook run."""

from __future__ import annotations

import json

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.sidecar import parse_sidecar
from ansible_collections.meshops.istio.plugins.modules import gateway_revision
from tests.simcluster.fixtures import controlplane, gateway, mesh

OLD, OLD_VERSION = "1-27-3", "1.27.3"
NEW, NEW_VERSION = "1-29-2", "1.29.2"
NS = mesh.INGRESS_NAMESPACE
GW = "istio-ingressgateway"
CANARY = GW + "-canary"


@pytest.fixture
def two_revisions(sim):
    """The sample mesh on OLD (ingress gateway in istio-ingress, 2 replicas) with control plane NEW installed too."""
    sim.load(mesh.sample(OLD, OLD_VERSION) + controlplane.render(NEW, NEW_VERSION))
    assert sim.settle(20)
    sim.clear_requests()
    return sim


def args(sim_auth, **extra):
    """Module arguments: the sim's connection, the sample gateway by name, and ``extra``."""
    return dict(sim_auth, names=[GW], namespace=NS, **extra)


def deployment(sim, name, namespace=NS):
    return sim.store.get("apps/deployments", namespace, name)


def service_pods(sim, namespace=NS, name=GW):
    """The pods the gateway's Service selects, as ``{pod name: (sidecar revision, proxy version)}``."""
    service = sim.store.get("services", namespace, name)
    selector = ",".join("%s=%s" % item for item in sorted(service["spec"]["selector"].items()))
    pods = sim.store.list("pods", namespace, selector)[0]
    result = {}
    for pod in pods:
        sidecar = parse_sidecar(pod)
        assert sidecar.present and sidecar.gateway, pod["metadata"]["name"]
        result[pod["metadata"]["name"]] = (sidecar.revision, sidecar.version.release)
    return result


def revisions_of(pods: dict) -> list:
    return sorted(pods.values())


def test_in_place_moves_the_gateway_and_is_idempotent(two_revisions, sim_auth, run_module):
    sim = two_revisions
    assert revisions_of(service_pods(sim)) == [(OLD, OLD_VERSION)] * 2
    old_pods = set(service_pods(sim))

    run = run_module(gateway_revision.main, args(sim_auth, revision=NEW), diff=True)
    assert run.rc == 0 and not run.failed, run.result
    result = run.result
    assert result["changed"] is True
    assert (result["revision"], result["tag"], result["version"]) == (NEW, None, NEW_VERSION)
    assert result["gateways"] == [{"namespace": NS, "name": GW, "strategy": "in_place", "action": "start", "changed": True,
                                   "before": OLD, "after": NEW, "label_before": OLD, "label_after": NEW, "canary": None}]
    assert result["msg"] == "1 gateway, 1 changed: %s/%s moved to %s" % (NS, GW, NEW)
    key = "%s/%s" % (NS, GW)
    assert result["diff"] == {
        "before": {key: {"pod_labels": {"istio.io/rev": OLD, "sidecar.istio.io/inject": "true"}, "replicas": 2}},
        "after": {key: {"pod_labels": {"istio.io/rev": NEW, "sidecar.istio.io/inject": "true"}, "replicas": 2}},
    }

    # The module waited for the rollout: the new pods are injected by NEW with its proxy, the old ones are gone.
    pods = service_pods(sim)
    assert revisions_of(pods) == [(NEW, NEW_VERSION)] * 2
    assert not old_pods & set(pods)
    labels = deployment(sim, GW)["spec"]["template"]["metadata"]["labels"]
    assert (labels["istio.io/rev"], labels["sidecar.istio.io/inject"]) == (NEW, "true")

    writes = sim.writes(persisting_only=False)
    assert [(w.method, w.resource, w.name, w.dry_run) for w in writes] == [("PATCH", "apps/deployments", GW, False)]
    reads = [r for r in sim.requests if r.verb == "list"]
    assert [(r.resource, r.query.get("labelSelector"), r.query.get("fieldSelector")) for r in reads] == [
        ("apps/deployments", "app=istiod", None),
        ("admissionregistration.k8s.io/mutatingwebhookconfigurations", None, None),
        ("admissionregistration.k8s.io/validatingwebhookconfigurations", None, None),
        ("namespaces", None, "metadata.name=" + NS),
        ("apps/deployments", None, None),
    ]
    assert reads[-1].namespace == NS

    sim.clear_requests()
    again = run_module(gateway_revision.main, args(sim_auth, revision=NEW), diff=True).result
    assert again["changed"] is False and again["gateways"][0]["changed"] is False
    assert (again["gateways"][0]["before"], again["gateways"][0]["after"]) == (NEW, NEW)
    assert again["msg"] == "1 gateway, 0 changed"
    assert sim.writes(persisting_only=False) == []
    assert len(sim.requests) == 5


def test_check_mode_writes_nothing(two_revisions, sim_auth, run_module):
    sim = two_revisions
    result = run_module(gateway_revision.main, args(sim_auth, revision=NEW), check_mode=True, diff=True).result
    assert result["changed"] is True and result["gateways"][0]["after"] == NEW
    assert result["msg"].startswith("1 gateway, 1 changed: would be: ")
    assert sim.writes() == []
    assert [(w.method, w.dry_run) for w in sim.writes(persisting_only=False)] == [("PATCH", True)]
    assert sim.settle(10)
    assert deployment(sim, GW)["spec"]["template"]["metadata"]["labels"]["istio.io/rev"] == OLD
    assert revisions_of(service_pods(sim)) == [(OLD, OLD_VERSION)] * 2


def test_tag_is_written_as_given(two_revisions, sim_auth, run_module):
    sim = two_revisions
    sim.load(controlplane.render_tag(mesh.TAG_NAME, NEW, NEW_VERSION))
    result = run_module(gateway_revision.main, args(sim_auth, revision=mesh.TAG_NAME)).result
    assert (result["revision"], result["tag"]) == (NEW, mesh.TAG_NAME)
    assert (result["gateways"][0]["label_after"], result["gateways"][0]["after"]) == (mesh.TAG_NAME, NEW)
    assert revisions_of(service_pods(sim)) == [(NEW, NEW_VERSION)] * 2


def test_canary_start_promote(two_revisions, sim_auth, run_module):
    sim = two_revisions
    start = run_module(gateway_revision.main, args(sim_auth, revision=NEW, strategy="canary"), diff=True).result
    assert start["changed"] is True, start
    entry = start["gateways"][0]
    assert (entry["before"], entry["after"], entry["label_after"]) == (OLD, OLD, OLD)
    assert entry["canary"] == {"name": CANARY, "before": None, "after": NEW, "replicas": 1}
    assert start["msg"] == "1 gateway, 1 changed: %s/%s created on %s with 1 replica" % (NS, CANARY, NEW)
    assert "%s/%s" % (NS, CANARY) not in start["diff"]["before"]
    assert start["diff"]["after"]["%s/%s" % (NS, CANARY)] == {
        "pod_labels": {"istio.io/rev": NEW, "sidecar.istio.io/inject": "true"}, "replicas": 1}

    canary = deployment(sim, CANARY)
    main = deployment(sim, GW)
    service = sim.store.get("services", NS, GW)
    assert canary["spec"]["selector"] == main["spec"]["selector"]
    assert service["spec"]["selector"].items() <= canary["spec"]["template"]["metadata"]["labels"].items()
    # The Service now sends traffic to two OLD pods and one NEW pod.
    assert revisions_of(service_pods(sim)) == [(OLD, OLD_VERSION)] * 2 + [(NEW, NEW_VERSION)]
    assert [(w.method, w.resource, w.name) for w in sim.writes()] == [("POST", "apps/deployments", CANARY)]

    sim.clear_requests()
    again = run_module(gateway_revision.main, args(sim_auth, revision=NEW, strategy="canary")).result
    assert again["changed"] is False and sim.writes(persisting_only=False) == []

    more = run_module(gateway_revision.main, args(sim_auth, revision=NEW, strategy="canary", canary_replicas=2)).result
    assert more["changed"] is True and more["gateways"][0]["canary"]["replicas"] == 2
    assert revisions_of(service_pods(sim)).count((NEW, NEW_VERSION)) == 2

    sim.clear_requests()
    promote = run_module(gateway_revision.main, args(sim_auth, revision=NEW, strategy="canary", action="promote"), diff=True).result
    assert promote["changed"] is True
    entry = promote["gateways"][0]
    assert (entry["before"], entry["after"]) == (OLD, NEW)
    assert entry["canary"] == {"name": CANARY, "before": NEW, "after": None, "replicas": None}
    assert promote["msg"] == "1 gateway, 1 changed: %s/%s moved to %s, canary removed" % (NS, GW, NEW)
    assert "%s/%s" % (NS, CANARY) in promote["diff"]["before"] and "%s/%s" % (NS, CANARY) not in promote["diff"]["after"]
    assert [(w.method, w.name) for w in sim.writes()] == [("PATCH", GW), ("DELETE", CANARY)]
    assert sim.settle(10)
    assert deployment(sim, CANARY) is None
    assert revisions_of(service_pods(sim)) == [(NEW, NEW_VERSION)] * 2

    again = run_module(gateway_revision.main, args(sim_auth, revision=NEW, strategy="canary", action="promote")).result
    assert again["changed"] is False


def test_canary_abort_leaves_the_gateway_alone(two_revisions, sim_auth, run_module):
    sim = two_revisions
    run_module(gateway_revision.main, args(sim_auth, revision=NEW, strategy="canary"))
    assert deployment(sim, CANARY) is not None
    sim.clear_requests()

    checked = run_module(gateway_revision.main, args(sim_auth, strategy="canary", action="abort"), check_mode=True).result
    assert checked["changed"] is True and sim.writes() == []
    assert [(w.method, w.dry_run) for w in sim.writes(persisting_only=False)] == [("DELETE", True)]
    assert deployment(sim, CANARY) is not None

    abort = run_module(gateway_revision.main, args(sim_auth, strategy="canary", action="abort")).result
    assert abort["changed"] is True and abort["revision"] is None
    assert abort["gateways"][0]["canary"] == {"name": CANARY, "before": NEW, "after": None, "replicas": None}
    assert abort["msg"] == "1 gateway, 1 changed: %s/%s removed" % (NS, CANARY)
    assert sim.settle(10)
    assert deployment(sim, CANARY) is None
    assert deployment(sim, GW)["spec"]["template"]["metadata"]["labels"]["istio.io/rev"] == OLD
    assert revisions_of(service_pods(sim)) == [(OLD, OLD_VERSION)] * 2

    again = run_module(gateway_revision.main, args(sim_auth, strategy="canary", action="abort")).result
    assert again["changed"] is False


def test_promote_refuses_a_canary_on_another_revision(two_revisions, sim_auth, run_module):
    sim = two_revisions
    run_module(gateway_revision.main, args(sim_auth, revision=NEW, strategy="canary"))
    sim.clear_requests()
    run = run_module(gateway_revision.main, args(sim_auth, revision=OLD, strategy="canary", action="promote"))
    assert run.failed
    assert run.result["msg"] == ("the canary %s/%s runs istio.io/rev=%s, not %s: promote with revision %s, or abort the canary; "
                                 "nothing was changed" % (NS, CANARY, NEW, OLD, NEW))
    assert sim.writes(persisting_only=False) == []


def test_selector_moves_several_gateways_and_skips_canaries(two_revisions, sim_auth, run_module):
    sim = two_revisions
    sim.load(gateway.render("istio-eastwestgateway", "istio-eastwest", revision=OLD, version=OLD_VERSION))
    assert sim.settle(20)
    selector = ["istio in (ingressgateway,eastwestgateway)"]
    started = run_module(gateway_revision.main, dict(sim_auth, selector=selector, revision=NEW, strategy="canary")).result
    assert [(g["namespace"], g["name"], g["canary"]["after"]) for g in started["gateways"]] == [
        ("istio-eastwest", "istio-eastwestgateway", NEW), (NS, GW, NEW)]
    sim.clear_requests()

    moved = run_module(gateway_revision.main, dict(sim_auth, selector=selector, revision=NEW)).result
    assert moved["changed"] is True
    assert [(g["name"], g["before"], g["after"]) for g in moved["gateways"]] == [
        ("istio-eastwestgateway", OLD, NEW), (GW, OLD, NEW)]
    assert sorted(w.name for w in sim.writes()) == ["istio-eastwestgateway", GW]
    lists = [r for r in sim.requests if r.verb == "list"]
    assert [r.resource for r in lists].count("apps/deployments") == 2
    assert lists[-1].query["labelSelector"] == selector[0] and lists[-1].namespace == ""
    assert revisions_of(service_pods(sim, "istio-eastwest", "istio-eastwestgateway")) == [(NEW, NEW_VERSION)] * 2
    assert len(moved["warnings"]) == 2 and all("its canary" in json.dumps(text) for text in moved["warnings"])


def _istioctl_gateway() -> list:
    """An istioctl-profile gateway: real proxyv2 image, sidecar.istio.io/inject=false."""
    objs = gateway.render("istio-legacygateway", NS, version=OLD_VERSION)
    dep = [obj for obj in objs if obj["kind"] == "Deployment"][0]
    template = dep["spec"]["template"]
    template["metadata"]["labels"]["sidecar.istio.io/inject"] = "false"
    template["metadata"]["annotations"] = {"sidecar.istio.io/inject": "false"}
    template["spec"]["containers"][0]["image"] = "docker.io/istio/proxyv2:" + OLD_VERSION
    return [dep]


@pytest.mark.parametrize("extra, expected", [
    ({"revision": "1-30-0"}, "revision or tag '1-30-0' not found; revisions installed: %s (ready), %s (ready); tags: default -> %s, "
                             "%s -> %s. Install that revision first, or use one of these; nothing was changed"
                             % (OLD, NEW, OLD, mesh.TAG_NAME, OLD)),
    ({"revision": "1.29.2"}, "revision '1.29.2' is not a DNS-1123 label"),
    ({"revision": NEW, "names": [GW, "istio-missing"]}, "gateway Deployment %s/istio-missing not found; check the name and "
                                                        "namespace; nothing was changed" % NS),
    ({"revision": NEW, "namespace": "nowhere"}, "namespace nowhere not found; nothing was changed"),
    ({"revision": NEW, "names": [GW, "istio-legacygateway"]}, "Deployment %s/istio-legacygateway cannot be moved: it is not "
                                                              "injected (sidecar.istio.io/inject=\"false\"" % NS),
    ({"revision": NEW, "strategy": "in_place", "action": "promote"}, "action=promote only applies to strategy=canary"),
    ({"revision": NEW, "canary_replicas": 2}, "canary_replicas only applies to strategy=canary with action=start"),
    ({"strategy": "canary"}, "revision is required with action=start"),
    ({"revision": NEW, "selector": ["istio=ingressgateway"]}, "parameters are mutually exclusive: names|selector"),
])
def test_bad_input_fails_before_any_write(two_revisions, sim_auth, run_module, extra, expected):
    sim = two_revisions
    sim.load(_istioctl_gateway())
    run = run_module(gateway_revision.main, dict(args(sim_auth), **extra))
    assert run.failed and expected in run.result["msg"], run.result["msg"]
    assert sim.writes(persisting_only=False) == []


def test_namespace_label_takes_precedence_over_the_pod_label(two_revisions, sim_auth, run_module):
    sim = two_revisions
    sim.load([mesh.namespace(NS, {"istio.io/rev": OLD})])
    run = run_module(gateway_revision.main, args(sim_auth, revision=NEW))
    assert run.failed
    msg = run.result["msg"]
    assert msg.startswith("%s/%s: new pods would be injected by revision %s, not by revision %s: webhook "
                          "rev.namespace.sidecar-injector.istio.io of istio-sidecar-injector-%s matches" % (NS, GW, OLD, NEW, OLD))
    assert ("The namespace %s is labelled istio.io/rev=%s, which takes precedence over the pod's istio.io/rev label" % (NS, OLD)) in msg
    assert sim.writes(persisting_only=False) == []


def test_selector_matching_nothing(two_revisions, sim_auth, run_module):
    run = run_module(gateway_revision.main, dict(sim_auth, selector=["istio=nothing"], revision=NEW))
    assert run.failed
    assert run.result["msg"] == ("no Deployment matches the selector istio=nothing in any namespace; check the selector with "
                                 "kubectl get deployments -l; nothing was changed")
    assert two_revisions.writes(persisting_only=False) == []


def test_rollout_that_never_completes_fails_after_the_timeout(two_revisions, sim_auth, run_module):
    sim = two_revisions
    sim.settings.broken_revisions.add(NEW)
    run = run_module(gateway_revision.main, args(sim_auth, revision=NEW, wait_timeout=2))
    assert run.failed and run.result["changed"] is True
    assert run.result["msg"].startswith("the rollout of %s/%s did not complete: timed out after 2s: Waiting for deployment "
                                        '"%s" rollout to finish' % (NS, GW, GW))
    assert run.result["gateways"][0]["after"] == NEW


def test_as_ansible_runs_it(two_revisions, sim_kubeconfig, tmp_path, ansible_playbook):
    out = tmp_path / "result.json"
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/meshops.istio.istio:
      kubeconfig: {sim_kubeconfig}
  tasks:
    - name: Preview
      meshops.istio.gateway_revision:
        names: [{GW}]
        namespace: {NS}
        revision: {NEW}
      check_mode: true
      register: preview
    - name: Move the gateway
      meshops.istio.gateway_revision:
        selector: [istio=ingressgateway]
        namespace: {NS}
        revision: {NEW}
      register: moved
    - name: Again
      meshops.istio.gateway_revision:
        names: [{GW}]
        namespace: {NS}
        revision: {NEW}
      register: again
    - name: Keep the results
      ansible.builtin.copy:
        content: "{{{{ {{'preview': preview, 'moved': moved, 'again': again}} | to_json }}}}"
        dest: {out}
        mode: "0600"
""")
    completed = ansible_playbook(playbook)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(out.read_text())
    assert result["preview"]["changed"] is True and result["preview"]["gateways"][0]["after"] == NEW
    assert result["moved"]["changed"] is True and result["moved"]["gateways"][0]["name"] == GW
    assert result["again"]["changed"] is False
    assert [(w.method, w.dry_run) for w in two_revisions.writes(persisting_only=False)] == [("PATCH", True), ("PATCH", False)]
    assert revisions_of(service_pods(two_revisions)) == [(NEW, NEW_VERSION)] * 2
