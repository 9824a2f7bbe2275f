"""The scope argument spec added to a module's own options."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.k8s.scope_args import SCOPE_SPEC, with_scope


def test_with_scope_adds_the_options_as_a_copy():
    spec = with_scope({"revision": {"type": "str"}})
    assert set(spec) == {"revision", "namespaces", "namespace_selector", "all_injected", "exclude"}
    spec["exclude"]["default"].append("x")
    assert SCOPE_SPEC["exclude"]["default"] == []


def test_clash_is_an_error():
    with pytest.raises(ValueError, match="'exclude' clashes with the scope option"):
        with_scope({"exclude": {"type": "str"}})
