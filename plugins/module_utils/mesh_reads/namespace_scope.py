# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the namespaces a module acts on: one paginated LIST, the scope rules of ``istio/scope.py`` applied."""

from __future__ import annotations

from ansible_collections.meshops.istio.plugins.module_utils.istio.scope import Scope, ScopeOptions, select_namespaces
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R


def read_scope(api, options: ScopeOptions) -> Scope:
    """LIST the namespaces once (with ``namespace_selector`` sent to the server when it applies) and select the scope.

    Check the options with ``scope.scope_problems`` first: this raises ValueError on bad options.
    """
    return select_namespaces(api.list(R.NAMESPACES.path(), label_selector=options.server_selector), options)
