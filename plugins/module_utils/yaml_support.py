# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PyYAML, imported once with a guard so a module can report it missing with ``missing_required_lib``."""

from __future__ import annotations

import traceback

__all__ = ["HAS_YAML", "YAML_IMPORT_ERROR", "yaml"]

try:
    import yaml
except ImportError:
    yaml = None
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_YAML = True
    YAML_IMPORT_ERROR = None
