"""The filters of the upgrade playbooks: version moves, revision names and the record's gateways_before."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.filter.istio_upgrade import (
    istio_gateways_before,
    istio_revision_of,
    istio_upgrade_problems,
)
from ansible_collections.meshops.istio.plugins.module_utils.istio.lifecycle import requested_revision


@pytest.mark.parametrize("source, target, problem", [
    ("1.27.3", "1.28.1", None),
    ("1.27.3", "1.29.0", None),
    ("1.27.3", "1.30.0", "spans 3 minor versions"),
    ("1.28.1", "1.28.1", "not newer"),
    ("1.28.1", "1.27.3", "not newer"),
    ("1.27.3", "2.0.0", "major version"),
    ("1.27.3", "latest", "is not an Istio version"),
    (None, "1.28.1", None),
])
def test_upgrade_problems(source, target, problem):
    problems = istio_upgrade_problems(source, target)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


@pytest.mark.parametrize("version, revision", [("1.29.2", "1-29-2"), ("v1.29.0-rc.1", "1-29-0-rc-1"), ("1.29.2-distroless", "1-29-2"),
                                               ("", "")])
def test_revision_of(version, revision):
    assert istio_revision_of(version) == revision


@pytest.mark.parametrize("version", ["1.29.2", "v1.29.2", "1.29.2-distroless", "1.29.0-rc.1", "1.29.0-rc.1-debug", "1.30-dev"])
def test_role_and_modules_derive_the_same_revision(version):
    """The role's filter and mesh_control_plane's derivation (lifecycle.requested_revision) never disagree."""
    assert istio_revision_of(version) == requested_revision(None, version)[0]


def test_gateways_before():
    gateways = [{"namespace": "istio-ingress", "name": "gw", "label_before": "1-27-3"},
                {"namespace": "edge", "name": "egress", "label_before": None}]
    assert istio_gateways_before(gateways) == {"istio-ingress/gw": {"istio.io/rev": "1-27-3"}, "edge/egress": {}}
