# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Changes to a namespace's injection labels (``istio-injection`` and ``istio.io/rev``), and nothing else.

Pointing a namespace at a revision sets ``istio.io/rev`` and removes ``istio-injection``, because
``istio-injection`` takes precedence over ``istio.io/rev`` (Istio's canary upgrade docs). Restoring applies saved
injection labels exactly: those present are set, those absent are removed; other labels are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio.label_query import is_label_value

INJECTION_LABELS = (L.ISTIO_INJECTION, L.REV)


def injection_labels(ns_labels: dict | None) -> dict:
    """The injection labels among ``ns_labels`` (a new dict, possibly empty)."""
    return {key: ns_labels[key] for key in INJECTION_LABELS if key in (ns_labels or {})}


def revision_labels(revision: str) -> dict:
    """The injection labels of a namespace pointed at a revision or tag: ``istio.io/rev`` only."""
    return {L.REV: revision}


def restore_labels(saved: dict | None) -> dict:
    """The injection labels to restore from saved labels (other keys and null values are ignored)."""
    return {key: str(value) for key, value in (saved or {}).items() if key in INJECTION_LABELS and value is not None}


def restore_problems(restore: dict) -> list[str]:
    """Why a ``restore`` map (namespace -> labels as they were) cannot be applied; empty when it can."""
    problems = []
    for name in sorted(restore):
        saved = restore[name]
        if saved is not None and not isinstance(saved, dict):
            problems.append("restore[%s] must be a dict of labels (the namespace's 'before' from an earlier run), not %r"
                            % (name, saved))
            continue
        for key, value in sorted(restore_labels(saved).items()):
            if not is_label_value(value):
                problems.append("restore[%s]: %r is not a valid value for label %s" % (name, value, key))
    return problems


@dataclass(frozen=True)
class LabelChange:
    """The injection labels of one namespace before and after; ``labels`` are all its labels before."""

    name: str
    labels: dict
    after: dict

    @property
    def before(self) -> dict:
        """The injection labels before the change."""
        return injection_labels(self.labels)

    @property
    def changed(self) -> bool:
        """True when the injection labels change."""
        return self.before != self.after

    @property
    def labels_after(self) -> dict:
        """All the namespace's labels after the change."""
        result = {key: value for key, value in self.labels.items() if key not in INJECTION_LABELS}
        result.update(self.after)
        return result

    def merge_patch(self) -> dict:
        """The JSON merge patch for the namespace: the injection labels that change, ``None`` for those removed."""
        before = self.before
        changes = {key: self.after.get(key) for key in INJECTION_LABELS if before.get(key) != self.after.get(key)}
        return {"metadata": {"labels": changes}}
