"""Root pytest configuration: make the collection importable and load the simulated cluster's fixtures.

Ansible and the tests import the collection as ``ansible_collections.meshops.istio``. A symlink
``.build/collections/ansible_collections/meshops/istio`` -> the repository provides that name; its
parent goes on ``sys.path`` (for the tests) and in ``ANSIBLE_COLLECTIONS_PATH`` (for ansible-playbook,
ansible-doc and molecule started from the tests).
"""

from __future__ import annotations

import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS_ROOT = os.path.join(REPO_ROOT, ".build", "collections")


def link_collection(repo_root: str, collections_root: str) -> str:
    """Point ``<collections_root>/ansible_collections/meshops/istio`` at ``repo_root``; return the link's path.

    Safe when several pytest workers run it at once: the link is made under a temporary name and
    renamed into place.
    """
    link = os.path.join(collections_root, "ansible_collections", "meshops", "istio")
    if os.path.islink(link) and os.path.realpath(link) == os.path.realpath(repo_root):
        return link
    if os.path.exists(link) and not os.path.islink(link):
        raise RuntimeError(f"{link} exists and is not a symlink to {repo_root}; remove it (or 'make clean') and run again.")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    partial = f"{link}.{os.getpid()}.partial"
    os.symlink(repo_root, partial)
    os.replace(partial, link)
    return link


link_collection(REPO_ROOT, COLLECTIONS_ROOT)
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)
os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
    [COLLECTIONS_ROOT] + [path for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if path and path != COLLECTIONS_ROOT]
)

pytest_plugins = ["tests.simcluster.pytest_plugin", "tests.realcluster.pytest_plugin"]

REAL_CLUSTER_TESTS = os.path.join(REPO_ROOT, "tests", "real") + os.sep


def pytest_configure(config):
    """Declare the marker of the tests that need the real cluster (``make test-real``)."""
    config.addinivalue_line("markers", "real_cluster: needs the real cluster of tests/realcluster (Go); run by make test-real")


def pytest_collection_modifyitems(config, items):  # pylint: disable=unused-argument
    """Mark every test under tests/real (and any test using a real-cluster fixture) ``real_cluster``."""
    import pytest  # pylint: disable=import-outside-toplevel
    for item in items:
        if str(item.fspath).startswith(REAL_CLUSTER_TESTS) or "real_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.real_cluster)
