"""Fixtures for the controller tests: a simulated cluster (Store and controllers) in this process."""

from __future__ import annotations

import pytest

from tests.simcluster.tests.controllers.helpers import Sim


@pytest.fixture(name="inproc")
def fixture_inproc():
    """A running simulated cluster without rollout delay."""
    sim = Sim()
    yield sim
    sim.manager.stop()


@pytest.fixture(name="slow_inproc")
def fixture_slow_inproc():
    """A running simulated cluster whose pods become Ready 0.02 s after they start."""
    sim = Sim(rollout_delay=0.02)
    yield sim
    sim.manager.stop()
