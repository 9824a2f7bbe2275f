"""Injection label changes of a namespace: pointing at a revision, restoring, and the merge patch sent."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.namespace_labels import (
    LabelChange,
    injection_labels,
    restore_labels,
    restore_problems,
    revision_labels,
)

NAME = {"kubernetes.io/metadata.name": "shop", "team": "shop"}


@pytest.mark.parametrize("labels, after, changed, patch", [
    # istio-injection is removed because it wins over istio.io/rev
    ({"istio-injection": "enabled"}, revision_labels("1-29-2"), True,
     {"istio-injection": None, "istio.io/rev": "1-29-2"}),
    ({"istio-injection": "enabled", "istio.io/rev": "1-28-1"}, revision_labels("1-29-2"), True,
     {"istio-injection": None, "istio.io/rev": "1-29-2"}),
    ({"istio.io/rev": "1-28-1"}, revision_labels("1-29-2"), True, {"istio.io/rev": "1-29-2"}),
    ({"istio.io/rev": "prod-stable"}, revision_labels("1-29-2"), True, {"istio.io/rev": "1-29-2"}),
    ({"istio-injection": "disabled"}, revision_labels("canary"), True, {"istio-injection": None, "istio.io/rev": "canary"}),
    ({}, revision_labels("1-29-2"), True, {"istio.io/rev": "1-29-2"}),
    ({"istio.io/rev": "1-29-2"}, revision_labels("1-29-2"), False, {}),
    # restoring: present labels are set, absent ones removed
    ({"istio.io/rev": "1-29-2"}, restore_labels({"istio-injection": "enabled"}), True,
     {"istio-injection": "enabled", "istio.io/rev": None}),
    ({"istio.io/rev": "1-29-2"}, restore_labels({}), True, {"istio.io/rev": None}),
    ({"istio.io/rev": "1-29-2"}, restore_labels({"istio-injection": "enabled", "istio.io/rev": "1-28-1"}), True,
     {"istio-injection": "enabled", "istio.io/rev": "1-28-1"}),
    ({"istio-injection": "enabled"}, restore_labels({"istio-injection": "enabled", "team": "other"}), False, {}),
])
def test_change(labels, after, changed, patch):
    change = LabelChange("shop", dict(NAME, **labels), after)
    assert change.before == labels
    assert change.changed is changed
    assert change.merge_patch() == {"metadata": {"labels": patch}}
    assert change.labels_after == dict(NAME, **after)


@pytest.mark.parametrize("saved, expected", [
    (None, {}),
    ({}, {}),
    ({"istio-injection": "enabled", "team": "x", "istio.io/rev": None}, {"istio-injection": "enabled"}),
    ({"istio.io/rev": "1-28-1"}, {"istio.io/rev": "1-28-1"}),
])
def test_restore_labels(saved, expected):
    assert restore_labels(saved) == expected


def test_injection_labels_ignores_others():
    assert injection_labels(dict(NAME, **{"istio.io/rev": "a"})) == {"istio.io/rev": "a"}
    assert injection_labels(None) == {}


@pytest.mark.parametrize("restore, problems", [
    ({"shop": {"istio.io/rev": "1-28-1"}, "books": {}, "none": None}, []),
    ({"shop": "enabled"}, ["restore[shop] must be a dict of labels (the namespace's 'before' from an earlier run), not 'enabled'"]),
    ({"shop": {"istio.io/rev": "1.28.1 "}}, ["restore[shop]: '1.28.1 ' is not a valid value for label istio.io/rev"]),
    ({"shop": {"team": "not valid!"}}, []),
])
def test_restore_problems(restore, problems):
    assert restore_problems(restore) == problems
