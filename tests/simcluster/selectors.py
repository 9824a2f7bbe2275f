"""Label selectors (query-string and ``LabelSelector`` forms) and field selectors, as the API server reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import bad_request

# Operators of a parsed requirement.
EQUALS, NOT_EQUALS, IN, NOT_IN, EXISTS, DOES_NOT_EXIST = "=", "!=", "in", "notin", "exists", "!"

_KEY_RE = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_TOKEN_RE = re.compile(r"\s*(!=|==|=|\(|\)|,|!|[^\s!=(),]+)")


@dataclass(frozen=True)
class Requirement:
    """One requirement of a label selector: ``key``, ``operator`` and ``values``."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: dict) -> bool:
        """Whether a labels dict satisfies this requirement (Kubernetes semantics)."""
        present = self.key in labels
        if self.operator == EXISTS:
            return present
        if self.operator == DOES_NOT_EXIST:
            return not present
        if self.operator in (EQUALS, IN):
            return present and labels[self.key] in self.values
        # != and notin match when the key is absent
        return not present or labels[self.key] not in self.values


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise bad_request(f"unable to parse requirement: unexpected text at {text[pos:]!r} in selector {text!r}")
        tokens.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def _check_key(key: str, selector: str) -> None:
    if not key or len(key.split("/")[-1]) > 63 or not _KEY_RE.match(key):
        raise bad_request(f"unable to parse requirement: invalid label key {key!r} in selector {selector!r}: "
                          "a key is an optional DNS-subdomain prefix and '/', then a name of up to 63 alphanumerics, '-', '_' or '.'")


def _check_value(value: str, selector: str) -> None:
    if len(value) > 63 or not _VALUE_RE.match(value):
        raise bad_request(f"unable to parse requirement: invalid label value {value!r} in selector {selector!r}: "
                          "a value is empty or up to 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric")


def parse_label_selector(selector: str | None) -> list[Requirement]:
    """Parse ``"app=x,tier in (a,b),!y"`` into requirements; ``None`` or ``""`` selects everything.

    Raises ApiError 400 BadRequest for text the real server would refuse.
    """
    if not selector or not selector.strip():
        return []
    tokens = _tokens(selector)
    requirements: list[Requirement] = []
    i = 0

    def need(index: int, what: str) -> str:
        if index >= len(tokens):
            raise bad_request(f"unable to parse requirement: expected {what} at end of selector {selector!r}")
        return tokens[index]

    while i < len(tokens):
        token = tokens[i]
        if token == "!":
            key = need(i + 1, "a key after '!'")
            _check_key(key, selector)
            requirements.append(Requirement(key, DOES_NOT_EXIST))
            i += 2
        else:
            _check_key(token, selector)
            key = token
            op = tokens[i + 1] if i + 1 < len(tokens) else ","
            if op == ",":
                requirements.append(Requirement(key, EXISTS))
                i += 1
            elif op in ("=", "==", "!="):
                nxt = tokens[i + 2] if i + 2 < len(tokens) else ","
                if nxt in ("(", ")", "!", "=", "==", "!="):
                    raise bad_request(f"unable to parse requirement: found {nxt!r}, expected a value after {key}{op} in selector {selector!r}")
                value = "" if nxt == "," else nxt
                _check_value(value, selector)
                requirements.append(Requirement(key, NOT_EQUALS if op == "!=" else EQUALS, (value,)))
                i += 2 if nxt == "," else 3
            elif op.lower() in ("in", "notin"):
                if need(i + 2, "'('") != "(":
                    raise bad_request(f"unable to parse requirement: found {tokens[i + 2]!r}, expected '(' in selector {selector!r}")
                values, j = [], i + 3
                expect_value = True
                while True:
                    tok = need(j, "')'")
                    if tok == ")":
                        if expect_value and values:
                            values.append("")
                        break
                    if tok == ",":
                        if expect_value:
                            values.append("")
                        expect_value = True
                    elif expect_value:
                        _check_value(tok, selector)
                        values.append(tok)
                        expect_value = False
                    else:
                        raise bad_request(f"unable to parse requirement: found {tok!r}, expected ',' or ')' in selector {selector!r}")
                    j += 1
                if not values:
                    raise bad_request(f"unable to parse requirement: for 'in', 'notin' operators, values set can't be empty "
                                      f"in selector {selector!r}")
                requirements.append(Requirement(key, IN if op.lower() == "in" else NOT_IN, tuple(values)))
                i = j + 1
            else:
                raise bad_request(f"unable to parse requirement: found {op!r}, expected one of '=', '==', '!=', 'in', 'notin' "
                                  f"or ',' in selector {selector!r}")
        if i < len(tokens):
            if tokens[i] != ",":
                raise bad_request(f"unable to parse requirement: found {tokens[i]!r}, expected ',' in selector {selector!r}")
            i += 1
            if i >= len(tokens):
                raise bad_request(f"unable to parse requirement: selector {selector!r} ends with ','")
    return requirements


def matches(requirements: list[Requirement], labels: dict | None) -> bool:
    """Whether a labels dict satisfies every requirement (an empty list matches everything)."""
    labels = labels or {}
    return all(r.matches(labels) for r in requirements)


def match_label_selector(selector: dict | None, labels: dict | None) -> bool:
    """Evaluate a ``LabelSelector`` dict (``matchLabels`` + ``matchExpressions``) against labels.

    ``None`` and ``{}`` select everything (a webhook's empty selector matches all objects).
    Raises ApiError 400 for an unknown operator or a malformed expression.
    """
    return matches(label_selector_requirements(selector), labels)


def label_selector_requirements(selector: dict | None) -> list[Requirement]:
    """Turn a ``LabelSelector`` dict into requirements (In, NotIn, Exists, DoesNotExist)."""
    if not selector:
        return []
    requirements = [Requirement(k, EQUALS, (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), tuple(expr.get("values") or ())
        if not key:
            raise bad_request(f"invalid label selector expression {expr!r}: key is required")
        if op in ("In", "NotIn"):
            if not values:
                raise bad_request(f"invalid label selector expression {expr!r}: values must be non-empty for operator {op}")
            requirements.append(Requirement(key, IN if op == "In" else NOT_IN, values))
        elif op in ("Exists", "DoesNotExist"):
            if values:
                raise bad_request(f"invalid label selector expression {expr!r}: values must be empty for operator {op}")
            requirements.append(Requirement(key, EXISTS if op == "Exists" else DOES_NOT_EXIST))
        else:
            raise bad_request(f"invalid label selector expression {expr!r}: {op!r} is not a valid label selector operator "
                              "(In, NotIn, Exists, DoesNotExist)")
    return requirements


def label_selector_to_string(selector: dict | None) -> str:
    """Render a ``LabelSelector`` dict in query-string form (``"app=x,tier in (a,b)"``), as kubectl and the server print it."""
    parts = []
    for r in label_selector_requirements(selector):
        if r.operator == EQUALS:
            parts.append(f"{r.key}={r.values[0]}")
        elif r.operator in (IN, NOT_IN):
            parts.append(f"{r.key} {r.operator} ({','.join(sorted(r.values))})")
        elif r.operator == EXISTS:
            parts.append(r.key)
        else:
            parts.append(f"!{r.key}")
    return ",".join(parts)


# Field selectors -----------------------------------------------------------------------------------------

_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
SUPPORTED_FIELDS: dict[str, tuple[str, ...]] = {
    "pods": _COMMON_FIELDS + ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                              "status.phase", "status.podIP", "status.nominatedNodeName"),
    "namespaces": _COMMON_FIELDS + ("status.phase",),
    "nodes": _COMMON_FIELDS + ("spec.unschedulable",),
    "secrets": _COMMON_FIELDS + ("type",),
    "events": _COMMON_FIELDS + ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                                "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                                "reason", "reportingComponent", "source", "type"),
    "batch/jobs": _COMMON_FIELDS + ("status.successful",),
    "apps/replicasets": _COMMON_FIELDS + ("status.replicas",),
}


def supported_fields(key: str | None) -> tuple[str, ...]:
    """The field labels a resource key supports in field selectors (``metadata.name``/``metadata.namespace`` for all)."""
    return SUPPORTED_FIELDS.get(key or "", _COMMON_FIELDS)


@dataclass(frozen=True)
class FieldRequirement:
    """One term of a field selector: ``field``, ``negated`` (``!=``) and ``value``."""

    field: str
    negated: bool
    value: str

    def matches(self, obj: dict) -> bool:
        """Whether an object satisfies this term (a missing field is the empty string)."""
        actual = obj
        for part in self.field.split("."):
            actual = actual.get(part) if isinstance(actual, dict) else None
        if isinstance(actual, dict) and self.field == "source":
            actual = actual.get("component")
        if isinstance(actual, bool):
            actual = "true" if actual else "false"
        actual = "" if actual is None else str(actual)
        return (actual != self.value) if self.negated else (actual == self.value)


def parse_field_selector(selector: str | None, key: str | None = None) -> list[FieldRequirement]:
    """Parse ``"metadata.name=x,status.phase!=Running"`` for resource ``key``.

    A field the resource does not support is ApiError 400 ``field label not supported: <field>``, as the real
    server answers; ``key=None`` allows the pod fields (the widest set).
    """
    if not selector or not selector.strip():
        return []
    allowed = supported_fields(key) if key is not None else SUPPORTED_FIELDS["pods"]
    result = []
    for term in selector.split(","):
        term = term.strip()
        if not term:
            raise bad_request(f"invalid selector: '{selector}'; can't understand ''")
        m = re.match(r"^([^=!]+?)\s*(!=|==|=)\s*(.*)$", term)
        if not m:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{term}'")
        name, op, value = m.group(1).strip(), m.group(2), m.group(3).strip()
        if name not in allowed:
            raise bad_request(f"field label not supported: {name}")
        result.append(FieldRequirement(name, op == "!=", value))
    return result


def matches_fields(requirements: list[FieldRequirement], obj: dict) -> bool:
    """Whether an object satisfies every field requirement (an empty list matches everything)."""
    return all(r.matches(obj) for r in requirements)
