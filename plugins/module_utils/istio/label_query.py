# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse a label selector in the query-string form that ``kubectl -l`` and a LIST's ``labelSelector`` take.

``app=web,tier in (a,b),!legacy,version!=v1`` becomes a LabelSelector dict (``matchExpressions`` only), which
``selector.matches`` evaluates. Parsing before any request gives a readable error for a malformed selector
instead of the API server's HTTP 400, and lets the same selector be applied to objects already read.
"""

from __future__ import annotations

import re

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_TOKEN = re.compile(r"!=|==|=|\(|\)|,|!|[^\s!=(),]+")
NAME_MAX = 63
SYNTAX_HELP = "write requirements as key=value, key!=value, 'key in (a,b)', 'key notin (a,b)', key or !key, separated by commas"


class SelectorSyntaxError(ValueError):
    """A label selector that the API server would refuse."""


def parse_selector(text: str | None) -> dict:
    """The LabelSelector dict for ``text``; an empty or None selector gives ``{}`` (selects everything).

    Raises SelectorSyntaxError naming the selector and the offending part.
    """
    tokens = _TOKEN.findall(text or "")
    expressions = []
    pos = 0
    while pos < len(tokens):
        expression, pos = _requirement(tokens, pos, text)
        expressions.append(expression)
        if pos < len(tokens):
            if tokens[pos] != ",":
                raise SelectorSyntaxError("label selector %r: expected ',' before %r; %s" % (text, tokens[pos], SYNTAX_HELP))
            pos += 1
            if pos == len(tokens):
                raise SelectorSyntaxError("label selector %r ends with ','; %s" % (text, SYNTAX_HELP))
    return {"matchExpressions": expressions} if expressions else {}


def _requirement(tokens: list[str], pos: int, text: str) -> tuple[dict, int]:
    if tokens[pos] == "!":
        key = _key(tokens, pos + 1, text)
        return {"key": key, "operator": "DoesNotExist"}, pos + 2
    key = _key(tokens, pos, text)
    pos += 1
    if pos == len(tokens) or tokens[pos] == ",":
        return {"key": key, "operator": "Exists"}, pos
    operator = tokens[pos]
    if operator in ("=", "==", "!="):
        value = tokens[pos + 1] if pos + 1 < len(tokens) and tokens[pos + 1] not in (",", "(", ")", "!") else ""
        _check_value(value, text)
        step = 2 if value else 1
        return {"key": key, "operator": "NotIn" if operator == "!=" else "In", "values": [value]}, pos + step
    if operator in ("in", "notin"):
        values, pos = _value_set(tokens, pos + 1, key, text)
        return {"key": key, "operator": "In" if operator == "in" else "NotIn", "values": values}, pos
    raise SelectorSyntaxError("label selector %r: unknown operator %r after key %r; %s" % (text, operator, key, SYNTAX_HELP))


def _key(tokens: list[str], pos: int, text: str) -> str:
    key = tokens[pos] if pos < len(tokens) else ""
    if not key or len(key.rsplit("/", 1)[-1]) > NAME_MAX or not _KEY.match(key):
        raise SelectorSyntaxError("label selector %r: %r is not a valid label key (an optional DNS subdomain and '/', then up "
                                  "to 63 letters, digits, '-', '_' or '.')" % (text, key))
    return key


def is_label_value(value) -> bool:
    """True when ``value`` is a valid label value (up to 63 characters; may be empty)."""
    return isinstance(value, str) and len(value) <= NAME_MAX and bool(_VALUE.match(value))


def _check_value(value: str, text: str) -> None:
    if not is_label_value(value):
        raise SelectorSyntaxError("label selector %r: %r is not a valid label value (up to 63 letters, digits, '-', '_' or '.', "
                                  "starting and ending with a letter or digit)" % (text, value))


def _value_set(tokens: list[str], pos: int, key: str, text: str) -> tuple[list[str], int]:
    if pos >= len(tokens) or tokens[pos] != "(":
        raise SelectorSyntaxError("label selector %r: the values for %r must be in parentheses, e.g. '%s in (a,b)'" % (text, key, key))
    values = []
    pos += 1
    while pos < len(tokens) and tokens[pos] != ")":
        if tokens[pos] != ",":
            _check_value(tokens[pos], text)
            values.append(tokens[pos])
        pos += 1
    if pos >= len(tokens):
        raise SelectorSyntaxError("label selector %r: missing ')' after the values for %r" % (text, key))
    if not values:
        raise SelectorSyntaxError("label selector %r: the set of values for %r is empty" % (text, key))
    return values, pos + 1
