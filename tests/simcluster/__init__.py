"""The simulated Kubernetes cluster (see README.md): ``SimCluster`` and its ``Settings``."""
from __future__ import annotations

from .cluster import Settings, SimCluster

__all__ = ["Settings", "SimCluster"]
