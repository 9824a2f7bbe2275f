# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The namespace scope options of the data-plane modules (doc fragment ``meshops.istio.scope``).

The rules that combine them live in ``istio/scope.py``; this file only declares the options.
"""

from __future__ import annotations

import copy

SCOPE_SPEC = {
    "namespaces": {"type": "list", "elements": "str"},
    "namespace_selector": {"type": "list", "elements": "str"},
    "all_injected": {"type": "bool", "default": False},
    "exclude": {"type": "list", "elements": "str", "default": []},
}


def with_scope(argument_spec: dict | None) -> dict:
    """``argument_spec`` plus the scope options; a module option of the same name is an error."""
    spec = copy.deepcopy(SCOPE_SPEC)
    for name, option in (argument_spec or {}).items():
        if name in spec:
            raise ValueError("module option %r clashes with the scope option of the same name" % name)
        spec[name] = option
    return spec
