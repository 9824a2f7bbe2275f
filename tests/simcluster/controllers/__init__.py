"""The simulated cluster's controllers: Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, and the kubelet."""

from __future__ import annotations

from .manager import ControllerManager

__all__ = ["ControllerManager"]
