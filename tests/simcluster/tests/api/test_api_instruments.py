"""The request log, fault injection and the ``/_sim/*`` endpoints."""
from __future__ import annotations

import http.client
import ssl

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


def _cm(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}}


def test_request_log_records_each_request(sim, k8s_client):
    core = client.CoreV1Api(k8s_client)
    core.create_namespaced_config_map("default", _cm("a"), field_manager="me")
    core.read_namespaced_config_map("a", "default")
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("b", "default")
    records = sim.requests
    assert [(r.method, r.verb, r.resource, r.namespace, r.name, r.status) for r in records] == [
        ("POST", "create", "configmaps", "default", "a", 201),
        ("GET", "get", "configmaps", "default", "a", 200),
        ("GET", "get", "configmaps", "default", "b", 404),
    ]
    assert records[0].query == {"fieldManager": "me"} and records[0].user_agent.startswith("OpenAPI-Generator")
    assert [r.name for r in sim.writes()] == ["a"]
    sim.clear_requests()
    assert sim.requests == []


def test_requests_over_http(sim, raw):
    raw("POST", CONFIGMAPS, _cm("x"))
    status, _unused, records = raw("GET", "/_sim/requests")
    assert status == 200
    assert [(r["verb"], r["name"], r["status"]) for r in records] == [("create", "x", 201)]
    assert raw("DELETE", "/_sim/requests")[0] == 200
    assert sim.requests == []
    assert raw("GET", "/_sim/requests", token="wrong")[0] == 401


def test_fault_429_with_seed_and_probability_is_repeatable(sim, raw):
    def outcomes():
        sim.clear_faults()
        rule = sim.add_fault(method="GET", path=r"/configmaps$", status=429, probability=0.5, seed=7, retry_after=3)
        codes = [raw("GET", CONFIGMAPS)[0] for _unused in range(12)]
        return codes, rule

    first, rule = outcomes()
    second, _unused = outcomes()
    assert first == second
    assert set(first) == {200, 429}
    assert rule.fired == first.count(429)
    faulted = [r for r in sim.requests if r.status == 429]
    assert faulted and all(r.fault == "status 429" for r in faulted)


def test_fault_answers_with_status_body_and_retry_after(sim, raw):
    sim.add_fault(method="*", path=r"^/api/v1/namespaces/default/configmaps", status=429, retry_after=2, times=1)
    status, headers, body = raw("GET", CONFIGMAPS)
    assert status == 429 and headers["Retry-After"] == "2"
    assert body["kind"] == "Status" and body["reason"] == "TooManyRequests" and body["details"]["retryAfterSeconds"] == 2
    assert raw("GET", CONFIGMAPS)[0] == 200  # times=1: used up


def test_fault_by_verb_and_500_status(sim, raw):
    sim.add_fault(path="configmaps", verb="create", status=500)
    assert raw("GET", CONFIGMAPS)[0] == 200
    status, _unused, body = raw("POST", CONFIGMAPS, _cm("y"))
    assert status == 500 and body["reason"] == "InternalError"
    assert sim.store.get("configmaps", "default", "y") is None


def test_fault_skips_dry_runs_and_the_first_matches(sim, raw):
    """A kill just before the second real write of an object: dry runs and the first write go through."""
    rule = sim.add_fault(method="PUT", path="configmaps/k$", dry_run=False, skip=1, status=403)
    sim.load([_cm("k")])
    assert raw("PUT", CONFIGMAPS + "/k?dryRun=All", _cm("k"))[0] == 200
    assert raw("PUT", CONFIGMAPS + "/k", _cm("k"))[0] == 200
    status, _unused, body = raw("PUT", CONFIGMAPS + "/k", _cm("k"))
    assert status == 403 and body["reason"] == "Forbidden"
    assert (rule.seen, rule.fired) == (2, 1) and [r.fault for r in sim.requests] == ["", "", "status 403"]
    with pytest.raises(ValueError, match="fault skip must not be negative"):
        sim.add_fault(path="x", status=500, skip=-1)


def test_fault_on_dry_run_deletes_only(sim, raw):
    """A DeleteOptions body asking for a dry run counts as one, as in the request log."""
    sim.add_fault(method="DELETE", path="configmaps", dry_run=True, status=500)
    sim.load([_cm("d")])
    assert raw("DELETE", CONFIGMAPS + "/d", {"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"]})[0] == 500
    assert raw("DELETE", CONFIGMAPS + "/d")[0] == 200


def test_fault_latency_delays_then_answers(sim, raw):
    rule = sim.add_fault(path="configmaps", latency=0.2)
    assert raw("GET", CONFIGMAPS)[0] == 200
    assert rule.fired == 1 and sim.requests[-1].fault == "latency 0.2"


def test_fault_drop_closes_the_connection(sim, raw):
    sim.add_fault(path="configmaps", drop=True, times=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        raw("GET", CONFIGMAPS)
    assert sim.requests[-1].fault == "drop"
    assert raw("GET", CONFIGMAPS)[0] == 200


def test_python_client_sees_injected_fault(sim, k8s_client):
    sim.add_fault(method="GET", path="namespaces/default$", status=503)
    with pytest.raises(ApiException) as caught:
        client.CoreV1Api(k8s_client).read_namespace("default")
    assert caught.value.status == 503


def test_faults_over_http(sim, raw):
    status, _unused, rules = raw("POST", "/_sim/faults", {"method": "DELETE", "path": "configmaps", "status": 409})
    assert status == 201 and rules[0]["status"] == 409
    sim.load([_cm("z")])
    assert raw("DELETE", CONFIGMAPS + "/z")[0] == 409
    status, _unused, rules = raw("GET", "/_sim/faults")
    assert rules[0]["fired"] == 1
    assert raw("POST", "/_sim/faults", {"status": 200})[0] == 400
    raw("DELETE", "/_sim/faults")
    assert sim.faults.rules() == []
    assert raw("DELETE", CONFIGMAPS + "/z")[0] == 200


def test_dump_load_and_settle_over_http(raw):
    manifest = ("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: one\n"
                "    namespace: loaded\n    resourceVersion: '999'\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: loaded\n")
    status, _unused, answer = raw("POST", "/_sim/load", manifest, headers={"Content-Type": "application/yaml"})
    assert status == 200 and answer == {"loaded": 2}
    status, _unused, dump = raw("GET", "/_sim/dump")
    assert [cm["metadata"]["name"] for cm in dump["configmaps"]] == ["one"]
    assert dump["configmaps"][0]["metadata"]["resourceVersion"] != "999"
    assert raw("POST", "/_sim/settle", {"timeout": 5})[2] == {"settled": True}
