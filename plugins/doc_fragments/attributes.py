# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attribute fragments: check mode, diff mode and the collection's action group."""

from __future__ import annotations


class ModuleDocFragment:
    """Use as ``meshops.istio.attributes`` plus the ``.check_mode``/``.check_mode_read_only``, ``.diff_mode`` or
    ``.diff_mode_none`` and ``.action_group`` variants."""

    DOCUMENTATION = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/meshops.istio.istio) in C(module_defaults) to set the connection options once for
      every module of this collection. The defaults of C(group/kubernetes.core.k8s) do not reach these modules; to
      reuse them, give both groups the same mapping, for example with a YAML anchor (see the collection's
      docs/playbooks.md).
    support: full
    membership:
      - meshops.istio.istio
"""

    CHECK_MODE = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return the changed status prediction without modifying the cluster;
      writes are sent with C(dryRun=All), so the API server validates them and persists nothing.
    support: full
"""

    CHECK_MODE_READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
"""

    DIFF_MODE = r"""
options: {}
attributes:
  diff_mode:
    description: Returns the objects before and after the change when run with C(--diff).
    support: full
"""

    DIFF_MODE_NONE = r"""
options: {}
attributes:
  diff_mode:
    description: Changes nothing, so returns no diff.
    support: none
"""
