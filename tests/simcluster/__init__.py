"""The simulated Kubernetes cluster (see README.md): ``SimCluster`` and its ``Settings``.

Its own files are found relative to this package, never to a repository or the working directory:
``CHARTS_DIR`` holds the test charts that helm installs on it (``istiod``, ``base``) and ``ISTIOCTL_STANDIN``
is the istioctl stand-in (``bin/istioctl``).
"""
from __future__ import annotations

import os

from .cluster import Settings, SimCluster

HERE = os.path.dirname(os.path.abspath(__file__))
CHARTS_DIR = os.path.join(HERE, "charts")
ISTIOCTL_STANDIN = os.path.join(HERE, "bin", "istioctl")

__all__ = ["CHARTS_DIR", "ISTIOCTL_STANDIN", "Settings", "SimCluster"]
