"""pytest fixtures for the real cluster (registered in the root conftest).

``real_cluster``: a started real cluster of the test's own (no Istio yet), stopped after the test. A test that
uses it is marked ``real_cluster`` (root conftest) and runs with ``make test-real``. Where the cluster cannot be
built or started, the test fails with the one-line reason.
"""
from __future__ import annotations

import pytest

from . import build
from .cluster import RealCluster


@pytest.fixture
def real_cluster(tmp_path):
    """A started real cluster without Istio."""
    cluster = RealCluster(str(tmp_path / "cluster"))
    try:
        cluster.start()
    except build.RealClusterUnavailable as exc:
        pytest.fail(f"the real cluster is not available here: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()
