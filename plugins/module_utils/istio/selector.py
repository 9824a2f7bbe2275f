# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes LabelSelector evaluation, as the API server does it, on plain dicts.

A LabelSelector is ``{"matchLabels": {...}, "matchExpressions": [{"key", "operator", "values"}]}``; all its
requirements must hold.
"""

from __future__ import annotations

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def matches(selector: dict | None, labels: dict | None) -> bool:
    """True when ``labels`` satisfy ``selector``.

    An omitted (None) or empty selector selects everything, as for a webhook's namespaceSelector and
    objectSelector. Raises ValueError on a malformed selector (the API server would have refused it).
    """
    labels = labels or {}
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(requirement_matches(expr, labels) for expr in selector.get("matchExpressions") or [])


def requirement_matches(expression: dict, labels: dict) -> bool:
    """True when ``labels`` satisfy one matchExpressions entry (In, NotIn, Exists, DoesNotExist)."""
    key = expression.get("key")
    operator = expression.get("operator")
    values = expression.get("values") or []
    if not key:
        raise ValueError("label selector requirement %r has no key" % (expression,))
    if operator in ("In", "NotIn") and not values:
        raise ValueError("label selector requirement on %r: operator %s needs at least one value" % (key, operator))
    if operator in ("Exists", "DoesNotExist") and values:
        raise ValueError("label selector requirement on %r: operator %s takes no values" % (key, operator))
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    raise ValueError("label selector requirement on %r: unknown operator %r; use one of %s" % (key, operator, ", ".join(OPERATORS)))
