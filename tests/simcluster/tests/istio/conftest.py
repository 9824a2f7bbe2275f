"""Fixtures of the Istio admission tests."""

from __future__ import annotations

import pytest

from tests.simcluster.tests.istio.helpers import Mesh, two_revisions


@pytest.fixture(name="mesh")
def mesh_fixture() -> Mesh:
    """Two ready revisions with both tags."""
    return Mesh(two_revisions())
