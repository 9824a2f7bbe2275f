"""Benchmarks on large simulated meshes: prints figures, asserts nothing (run by ``make bench``, never by the tests).

Each section is a function decorated with ``@section("title")`` that takes the running
:class:`Bench` and returns rows of ``(label, value)``; sections run in the order they are defined.
Add a section by writing one more such function.

Usage: python benchmarks/run.py [--namespaces 2000] [--pods-per-namespace 10] [--page-size 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# pylint: disable=wrong-import-position  # the repository root has to be on sys.path first
import kubernetes.client
import kubernetes.config

from tests.simcluster.cluster import SimCluster, Settings
from tests.simcluster.fixtures import mesh
import tests.conftest  # noqa: F401  pylint: disable=unused-import  # makes ansible_collections.meshops.istio importable
from ansible_collections.meshops.istio.plugins.module_utils.istio.audit import Auditor, audit_pods, revision_versions
from ansible_collections.meshops.istio.plugins.module_utils.k8s.api import KubeApi
from ansible_collections.meshops.istio.plugins.module_utils.mesh_reads.pod_audit import run_audit

Rows = list[tuple[str, str]]
SECTIONS: list[tuple[str, Callable[["Bench"], Rows]]] = []


def section(title: str) -> Callable[[Callable[["Bench"], Rows]], Callable[["Bench"], Rows]]:
    """Register a benchmark section under ``title``."""
    def register(function: Callable[["Bench"], Rows]) -> Callable[["Bench"], Rows]:
        SECTIONS.append((title, function))
        return function
    return register


@dataclasses.dataclass
class Bench:
    """What every section gets: the running cluster, an API client for it, and the run's options."""

    cluster: SimCluster
    api_client: kubernetes.client.ApiClient
    options: argparse.Namespace

    def requests_since(self, start: int) -> list:
        """Return the request log's records after the first ``start`` ones."""
        return self.cluster.requests[start:]

    def request_count(self) -> int:
        """Return how many requests the cluster has answered so far."""
        return len(self.cluster.requests)


def best_of(repeat: int, run: Callable[[], int]) -> tuple[float, float, int]:
    """Run ``run`` ``repeat`` times; return (best seconds, median seconds, the value it returned)."""
    durations = []
    value = 0
    for _round in range(repeat):
        start = time.perf_counter()
        value = run()
        durations.append(time.perf_counter() - start)
    return min(durations), statistics.median(durations), value


@section("List every pod in pages (CoreV1Api.list_pod_for_all_namespaces)")
def pod_listing(bench: Bench) -> Rows:
    """Time listing all pods page by page, as raw JSON and as the client's model objects."""
    api = kubernetes.client.CoreV1Api(bench.api_client)
    page_size = bench.options.page_size

    def list_raw() -> int:
        count, token = 0, None
        while True:
            response = api.list_pod_for_all_namespaces(limit=page_size, _continue=token, _preload_content=False)
            body = json.loads(response.data)
            count += len(body["items"])
            token = body["metadata"].get("continue")
            if not token:
                return count

    def list_models() -> int:
        count, token = 0, None
        while True:
            page = api.list_pod_for_all_namespaces(limit=page_size, _continue=token)
            count += len(page.items)
            token = page.metadata._continue  # pylint: disable=protected-access  # the client's name for "continue"
            if not token:
                return count

    rows: Rows = []
    for label, run in (("raw JSON", list_raw), ("model objects", list_models)):
        before = bench.request_count()
        best, median, pods = best_of(bench.options.repeat, run)
        requests = bench.requests_since(before)
        per_run = len(requests) // bench.options.repeat
        rows.append((f"{label}: pods listed", f"{pods}"))
        rows.append((f"{label}: best / median", f"{best:.2f} s / {median:.2f} s"))
        rows.append((f"{label}: requests per listing", f"{per_run} (page size {page_size})"))
    return rows


@section("Sidecar audit of every injected namespace (sidecar_audit / workload_restart's first step)")
def sidecar_audit(bench: Bench) -> Rows:
    """Time one audit end to end and its pure classification alone; count its requests by resource."""
    api = KubeApi(bench.api_client)
    params = {"revision": "1-27-3", "namespaces": None, "namespace_selector": None, "all_injected": True, "exclude": []}
    runs = []

    def audit_once() -> int:
        runs.append(run_audit(api, params))
        return len(runs[-1].audit.pods)

    before = bench.request_count()
    best, median, pods = best_of(bench.options.repeat, audit_once)
    requests = bench.requests_since(before)
    per_resource: dict = {}
    for record in requests[:len(requests) // bench.options.repeat]:
        per_resource[record.resource] = per_resource.get(record.resource, 0) + 1
    run = runs[-1]
    classes = ", ".join(f"{count} {name}" for name, count in run.audit.summary()["by_class"].items() if count)

    # the pure part alone, on lists already read
    pod_items = api.list("/api/v1/pods", limit=1000)
    replicasets = api.list("/apis/apps/v1/replicasets", limit=1000)
    namespaces = api.list("/api/v1/namespaces", limit=1000)
    mutating = api.list("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations")

    def classify_only() -> int:
        auditor = Auditor(namespaces, mutating, replicasets, revision_versions(run.control_plane), run.audit.target)
        return len(audit_pods(pod_items, auditor).pods)

    pure_best, pure_median, _classified = best_of(bench.options.repeat, classify_only)
    return [
        ("pods audited / namespaces", f"{pods} / {len(run.namespaces)} ({classes})"),
        ("end to end: best / median", f"{best:.2f} s / {median:.2f} s"),
        ("requests per audit", f"{len(requests) // bench.options.repeat} (limit 50): "
                               + ", ".join(f"{name or '-'} {count}" for name, count in per_resource.items())),
        ("pods and ReplicaSets read", f"{run.list_modes['pods']}-wide / {run.list_modes['replicasets']}-wide LIST, 1000 per page"),
        ("classification alone: best / median", f"{pure_best:.2f} s / {pure_median:.2f} s"),
    ]


def print_section(title: str, rows: Rows) -> None:
    """Print one section's figures as an aligned table."""
    print(f"\n## {title}")
    width = max((len(row[0]) for row in rows), default=0)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}", flush=True)


def main() -> int:
    """Build the large mesh, start the simulated cluster, run every section and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=2000)
    parser.add_argument("--pods-per-namespace", type=int, default=10)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement (best and median are printed)")
    options = parser.parse_args()

    start = time.perf_counter()
    objects = mesh.large(options.namespaces, options.pods_per_namespace)
    built = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="meshops-bench-") as workdir, SimCluster(Settings()) as cluster:
        kubeconfig = cluster.write_kubeconfig(os.path.join(workdir, "kubeconfig"))
        cluster.load(objects)
        loaded = time.perf_counter()
        cluster.settle(timeout=120)
        pods = sum(1 for obj in objects if obj.get("kind") == "Pod")
        print(f"# meshops.istio benchmarks: {options.namespaces} namespaces, {pods} pods, Python {sys.version.split()[0]}")
        print(f"# mesh.large built in {built - start:.1f} s, loaded in {loaded - built:.1f} s, "
              f"controllers settled in {time.perf_counter() - loaded:.1f} s", flush=True)
        api_client = kubernetes.config.new_client_from_config(config_file=kubeconfig)
        bench = Bench(cluster=cluster, api_client=api_client, options=options)
        for title, run in SECTIONS:
            print_section(title, run(bench))
    return 0


if __name__ == "__main__":
    sys.exit(main())
