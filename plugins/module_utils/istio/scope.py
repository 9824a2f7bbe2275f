# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which namespaces a data-plane module acts on: the scope options ``namespaces``, ``namespace_selector``,
``all_injected`` and ``exclude`` (doc fragment ``meshops.istio.scope``), applied to namespace objects (dicts).

Rules, shared by every module that takes a scope:

* Exactly one way of choosing: ``namespaces`` (names), or ``namespace_selector`` and/or ``all_injected``
  (both together: the injected namespaces that also match the selector). ``namespaces`` with either of the
  others is an error; so is giving none of them.
* ``all_injected`` selects namespaces labelled ``istio-injection`` (any value) or ``istio.io/rev``.
* Namespaces *chosen by label* (selector or ``all_injected``) are skipped, with the reason, when they are a
  Kubernetes system namespace (istiod never injects there), have injection turned off (``istio-injection``
  other than ``enabled``) or are being deleted. Naming a namespace in ``namespaces`` takes it as it is.
* ``exclude`` removes namespaces from the scope however they were chosen (it wins over ``namespaces``).
* Names in ``namespaces`` that do not exist are returned in ``not_found``; the module decides whether that fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio.label_query import SelectorSyntaxError, parse_selector
from ansible_collections.meshops.istio.plugins.module_utils.istio.selector import matches

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAMESPACE_MAX = 63

SKIP_EXCLUDED = "excluded"
SKIP_SYSTEM = "system"
SKIP_DISABLED = "disabled"
SKIP_TERMINATING = "terminating"


@dataclass(frozen=True)
class ScopeOptions:
    """The scope options as a module received them (``exclude`` may be empty)."""

    namespaces: tuple | None = None
    namespace_selector: str | None = None
    all_injected: bool = False
    exclude: tuple = ()

    @classmethod
    def from_params(cls, params: dict) -> ScopeOptions:
        """Read the options from a module's params; ``namespace_selector`` (a list) is joined with commas."""
        names = params.get("namespaces")
        selector = params.get("namespace_selector")
        if isinstance(selector, (list, tuple)):
            selector = ",".join(part.strip() for part in selector if part and part.strip())
        return cls(
            namespaces=None if names is None else tuple(names),
            namespace_selector=selector or None,
            all_injected=bool(params.get("all_injected")),
            exclude=tuple(params.get("exclude") or ()),
        )

    @property
    def server_selector(self) -> str | None:
        """The label selector to send with the namespace LIST (None: list every namespace)."""
        return None if self.namespaces is not None else self.namespace_selector


@dataclass
class Scope:
    """The result: namespace objects in scope (sorted by name), those skipped and why, names not found."""

    namespaces: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    not_found: list = field(default_factory=list)
    named: frozenset = frozenset()

    @property
    def names(self) -> list[str]:
        """The names of the namespaces in scope, sorted."""
        return [namespace_name(ns) for ns in self.namespaces]

    def as_dict(self) -> dict:
        """A plain dict for module results (never return a top-level ``skipped``: Ansible would report the task skipped)."""
        return {"namespaces_in_scope": self.names, "namespaces_skipped": [dict(item) for item in self.skipped],
                "namespaces_not_found": list(self.not_found)}


def namespace_name(namespace: dict) -> str:
    """The name of a namespace object."""
    return (namespace.get("metadata") or {}).get("name", "")


def namespace_labels(namespace: dict) -> dict:
    """The labels of a namespace object (a new dict)."""
    return dict((namespace.get("metadata") or {}).get("labels") or {})


def scope_problems(options: ScopeOptions) -> list[str]:
    """Why the scope options cannot be used (each message says what to change); empty when they can."""
    problems = []
    by_label = options.namespace_selector is not None or options.all_injected
    if options.namespaces is None and not by_label:
        problems.append("no namespaces chosen: give namespaces (a list of names), namespace_selector (labels, as kubectl -l "
                        "takes them) or all_injected=true")
    if options.namespaces is not None and options.namespace_selector is not None:
        problems.append("namespaces and namespace_selector are mutually exclusive: name the namespaces, or select them by label")
    if options.namespaces is not None and options.all_injected:
        problems.append("namespaces and all_injected are mutually exclusive: name the namespaces, or take every injected "
                        "namespace (optionally narrowed by namespace_selector)")
    for option, names in (("namespaces", options.namespaces or ()), ("exclude", options.exclude)):
        invalid = [name for name in names if not is_namespace_name(name)]
        if invalid:
            problems.append("%s: %s %s not a valid namespace name (a DNS-1123 label: lower-case letters, digits and '-', at "
                            "most 63 characters)" % (option, ", ".join(repr(n) for n in invalid), "is" if len(invalid) == 1 else "are"))
    if options.namespace_selector is not None:
        try:
            parse_selector(options.namespace_selector)
        except SelectorSyntaxError as error:
            problems.append("namespace_selector: %s" % error)
    return problems


def select_namespaces(namespaces: list[dict], options: ScopeOptions) -> Scope:
    """Apply the scope options to namespace objects (a LIST's items, narrowed by the server selector or not).

    Raises ValueError when :func:`scope_problems` reports a problem.
    """
    problems = scope_problems(options)
    if problems:
        raise ValueError("; ".join(problems))
    excluded = frozenset(options.exclude)
    by_name = {namespace_name(ns): ns for ns in namespaces or []}
    scope = Scope(named=frozenset(options.namespaces or ()))
    if options.namespaces is not None:
        scope.not_found = sorted(set(options.namespaces) - set(by_name) - excluded)
        candidates = [by_name[name] for name in sorted(set(options.namespaces)) if name in by_name]
    else:
        selector = parse_selector(options.namespace_selector)
        candidates = [by_name[name] for name in sorted(by_name)
                      if matches(selector, namespace_labels(by_name[name]))
                      and (not options.all_injected or selects_injection(namespace_labels(by_name[name])))]
    for namespace in candidates:
        name = namespace_name(namespace)
        reason = skip_reason(namespace, excluded, explicit=name in scope.named)
        if reason:
            scope.skipped.append({"name": name, "reason": reason[0], "message": reason[1]})
        else:
            scope.namespaces.append(namespace)
    return scope


def selects_injection(ns_labels: dict) -> bool:
    """True when a namespace carries an injection label (``istio-injection`` with any value, or ``istio.io/rev``)."""
    return L.ISTIO_INJECTION in ns_labels or L.REV in ns_labels


def skip_reason(namespace: dict, excluded: frozenset, explicit: bool) -> tuple[str, str] | None:
    """Why a candidate namespace is left out of the scope, as ``(code, message)``; None when it stays in."""
    name = namespace_name(namespace)
    if name in excluded:
        return SKIP_EXCLUDED, "named in exclude"
    if explicit:
        return None
    if name in L.IGNORED_NAMESPACES:
        return SKIP_SYSTEM, "Kubernetes system namespace, where istiod never injects; name it in namespaces to include it"
    injection = namespace_labels(namespace).get(L.ISTIO_INJECTION)
    if injection is not None and injection != L.INJECTION_ENABLED:
        return SKIP_DISABLED, ("injection is turned off (%s=%s); left alone: name it in namespaces to include it"
                               % (L.ISTIO_INJECTION, injection))
    if (namespace.get("status") or {}).get("phase") == "Terminating":
        return SKIP_TERMINATING, "the namespace is being deleted"
    return None


def is_namespace_name(name) -> bool:
    """True when ``name`` is a valid namespace name (a DNS-1123 label of at most 63 characters)."""
    return isinstance(name, str) and len(name) <= NAMESPACE_MAX and bool(_DNS1123_LABEL.match(name))
