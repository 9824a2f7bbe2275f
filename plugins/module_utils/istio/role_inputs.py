# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The variables of the role meshops.istio.istio: what each may hold, checked before the first write.

The role's argument specs check types and choices, but Ansible converts rather than refuses (``5`` passes as the list
``['5']``, a command-line ``-e x=0`` is a string) and cannot express ranges, the form of a version, the syntax of a
label selector or the shape of a gateway entry. :func:`input_problems` checks all of that for every variable of every
stage, :func:`renamed_problems` refuses the old names of renamed variables, and :func:`unknown_namespaces` which named
namespaces the cluster does not have. Each problem names the
variable, the value given and what to write instead.
"""

from __future__ import annotations

from ansible_collections.meshops.istio.plugins.module_utils.istio.label_query import SelectorSyntaxError, parse_selector
from ansible_collections.meshops.istio.plugins.module_utils.istio.precheck import CODES as PRECHECK_CODES
from ansible_collections.meshops.istio.plugins.module_utils.istio.revision import revision_problems
from ansible_collections.meshops.istio.plugins.module_utils.istio.scope import is_namespace_name
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import parse_version

INSTALLERS = ("manifest", "helm", "istioctl")
RESTART_POLICIES = ("waves", "none")
GATEWAY_STRATEGIES = ("in_place", "canary")
GATEWAY_KEYS = ("name", "namespace")
CRD_ACTIONS = ("upgrade", "skip")

# Numbers: (kind, minimum, whether the minimum itself is allowed).
NUMBERS = {
    "istio_control_plane_wait_timeout": (int, 0, True),
    "istio_restart_batch_size": (int, 1, True),
    "istio_restart_pause": (float, 0, True),
    "istio_restart_wait_timeout": (int, 1, True),
    "istio_restart_poll_interval": (float, 0, False),
    "istio_gateway_canary_replicas": (int, 1, True),
    "istio_gateway_wait_timeout": (int, 0, True),
}
CHOICES = {
    "istio_installer": INSTALLERS,
    "istio_source_installer": ("",) + INSTALLERS,
    "istio_restart_policy": RESTART_POLICIES,
    "istio_gateway_strategy": GATEWAY_STRATEGIES,
    "istio_crds": CRD_ACTIONS,
}
STRINGS = ("istio_target_version", "istio_target_revision", "istio_source_revision", "istio_record_operator",
           "istio_helm_chart", "istio_helm_chart_version", "istio_helm_release", "istio_istioctl_binary", "istio_istioctl_operator_file",
           "istio_source_helm_release", "istio_source_istioctl_binary", "istio_helm_base_chart", "istio_helm_base_release")
REVISIONS = ("istio_target_revision", "istio_source_revision")
NAMESPACE_LISTS = ("istio_data_plane_namespaces", "istio_exclude_namespaces")
SELECTOR_LISTS = ("istio_namespace_selector", "istio_gateway_selector")
PATH_LISTS = ("istio_manifests", "istio_helm_values_files")
NAMES = ("istio_control_plane_namespace", "istio_record_name")
# Every variable of the role (defaults/main.yml and meta/argument_specs.yml declare the same ones).
OTHER_VARIABLES = {"istio_gateways", "istio_helm_values", "istio_upgrade_finalize", "istio_precheck_ignore"}
VARIABLES = tuple(sorted(set(NUMBERS) | set(CHOICES) | set(STRINGS) | set(NAMESPACE_LISTS) | set(SELECTOR_LISTS)
                         | set(PATH_LISTS) | set(NAMES) | OTHER_VARIABLES))
LIST_EXAMPLES = {
    "istio_data_plane_namespaces": ("[bookinfo, shop]", '["bookinfo", "shop"]'),
    "istio_exclude_namespaces": ("[payments]", '["payments"]'),
    "istio_namespace_selector": ("[env=prod]", '["env=prod"]'),
    "istio_gateway_selector": ("[istio=ingressgateway]", '["istio=ingressgateway"]'),
    "istio_manifests": ("[/srv/istio/istiod.yaml]", '["/srv/istio/istiod.yaml"]'),
    "istio_helm_values_files": ("[values.yaml]", '["values.yaml"]'),
}
# Variables renamed (old name -> new name), so that they cannot be confused with their near-twins. A play that still
# sets an old name is refused: ignoring it would use the new name's default instead (istio-system, every injected
# namespace), which may be the wrong control plane or namespaces.
RENAMED = {
    "istio_namespace": "istio_control_plane_namespace",
    "istio_namespaces": "istio_data_plane_namespaces",
    "istio_operator": "istio_record_operator",
    "istio_operator_file": "istio_istioctl_operator_file",
}
BOOLEANS = ("true", "false", "yes", "no", "on", "off", "1", "0")


def input_problems(values: dict) -> list[str]:
    """Why the role's variables (``values``: name -> value, as the play holds them) cannot be used; empty when they can.

    Variables missing from ``values`` are not checked (their defaults are valid).
    """
    problems = []
    for name in sorted(values):
        value = values[name]
        if name in NUMBERS:
            problems.extend(_number_problems(name, value, *NUMBERS[name]))
        elif name in CHOICES:
            if value not in CHOICES[name]:
                problems.append("%s is %r: use one of %s" % (name, value, ", ".join(repr(c) if not c else c for c in CHOICES[name])))
        elif name in STRINGS:
            problems.extend(_string_problems(name, value))
        elif name in NAMES:
            if not isinstance(value, str) or not all(is_namespace_name(part) for part in value.split(".")):
                problems.append("%s is %r: give a Kubernetes name (lower-case letters, digits and '-', at most 63 characters)"
                                % (name, value))
        elif name in NAMESPACE_LISTS + SELECTOR_LISTS + PATH_LISTS:
            problems.extend(_list_problems(name, value))
        elif name == "istio_gateways":
            problems.extend(gateway_problems(value))
        elif name == "istio_helm_values" and not isinstance(value, dict):
            problems.append("istio_helm_values is %r (%s): give a mapping of chart values, such as {pilot: {replicaCount: 2}}"
                            % (value, _kind(value)))
        elif name == "istio_precheck_ignore":
            if not isinstance(value, list) or any(code not in PRECHECK_CODES for code in value):
                problems.append("istio_precheck_ignore is %r: give a list of precheck codes not to stop on, from %s"
                                % (value, ", ".join(PRECHECK_CODES)))
        elif name == "istio_upgrade_finalize" and not isinstance(value, bool) and str(value).lower() not in BOOLEANS:
            problems.append("istio_upgrade_finalize is %r: give true or false" % (value,))
    return problems


def renamed_problems(variables, values: dict | None = None) -> list[str]:
    """The problems of the old names of renamed variables (:data:`RENAMED`) among ``variables``.

    ``variables`` is the names a play sets, or a mapping of those names to their values. With values, an old name
    that holds the same value as its new name (``values``: the role's variables) is accepted: another role may use
    the name for the same thing. Any other value is refused, because the role would silently use the new name's
    value (its default, another namespace) instead.
    """
    values = values or {}
    given = variables if isinstance(variables, dict) else dict.fromkeys(variables or ())
    problems = []
    for old in sorted(set(given) & set(RENAMED)):
        new = RENAMED[old]
        if isinstance(variables, dict):
            if new in values and given[old] == values[new]:
                continue
            problems.append("%s is %r, but this role reads %s (%r); %s is its old name. Set %s to the value meant and "
                            "remove %s (if another role needs %s, give it that role's vars only)"
                            % (old, given[old], new, values.get(new), old, new, old, old))
        else:
            problems.append("%s was renamed %s: set %s instead and remove %s (with the old name alone, %s would silently "
                            "take its default)" % (old, new, new, old, new))
    return problems


def target_version_problems(version) -> list[str]:
    """Why ``version`` is not a target version (``1.29.2``, ``1.29.0-rc.1``, ``1.29.2-distroless``); empty when it is."""
    if not version:
        return []
    parsed = parse_version(str(version))
    if parsed is None or parsed.patch is None or str(version).strip().startswith("v"):
        return ["istio_target_version is %r: give the full Istio release as major.minor.patch, such as 1.28.1 (no leading "
                "'v', no minor version alone)" % (str(version),)]
    return []


def gateway_problems(gateways) -> list[str]:
    """Why ``istio_gateways`` is not a list of ``{name, namespace}``; empty when it is."""
    example = "such as [{name: istio-ingressgateway, namespace: istio-ingress}]"
    if not isinstance(gateways, list):
        return ["istio_gateways is %r (%s): give a list of gateway Deployments as {name, namespace}, %s"
                % (gateways, _kind(gateways), example)]
    problems = []
    for index, entry in enumerate(gateways):
        where = "istio_gateways[%d]" % index
        if not isinstance(entry, dict):
            problems.append("%s is %r: each gateway is a mapping with name and namespace, %s" % (where, entry, example))
            continue
        unknown = sorted(str(key) for key in entry if key not in GATEWAY_KEYS)
        if unknown:
            problems.append("%s has the unknown key%s %s: a gateway has only name and namespace"
                            % (where, "s" if len(unknown) > 1 else "", ", ".join(unknown)))
        for key in GATEWAY_KEYS:
            if key not in entry:
                problems.append("%s (%r) has no %s: give both name and namespace of the gateway Deployment" % (where, entry, key))
            elif not isinstance(entry[key], str) or not is_namespace_name(entry[key]):
                problems.append("%s.%s is %r: give the %s of the gateway Deployment (a Kubernetes name)"
                                % (where, key, entry[key], key))
    return problems


def unknown_namespaces(values: dict, existing) -> list[str]:
    """The problems of namespaces named in ``istio_data_plane_namespaces`` and ``istio_exclude_namespaces`` that are not in ``existing``."""
    known = frozenset(existing or ())
    problems = []
    for name in NAMESPACE_LISTS:
        names = values.get(name)
        if not isinstance(names, list):
            continue
        missing = [item for item in names if isinstance(item, str) and item not in known]
        if missing:
            problems.append("%s names %s that %s not exist in the cluster: check the spelling (kubectl get namespaces) and "
                            "correct %s" % (name, ", ".join(missing), "does" if len(missing) == 1 else "do", name))
    return problems


def _number_problems(name: str, value, kind, minimum, inclusive: bool) -> list[str]:
    wanted = ("at least %d" % minimum if minimum else "0 or more") if inclusive else "more than %s" % minimum
    what = "a whole number" if kind is int else "a number"
    number = None
    if not isinstance(value, bool):
        try:
            number = kind(value)
        except (TypeError, ValueError):
            number = None
    if number is None or (kind is int and isinstance(value, float) and value != number):
        return ["%s is %r: give %s, %s" % (name, value, what, wanted)]
    if number < minimum or (not inclusive and number == minimum):
        return ["%s is %s: it must be %s" % (name, value, wanted)]
    return []


def _string_problems(name: str, value) -> list[str]:
    if name == "istio_target_version" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return target_version_problems(str(value))
    if not isinstance(value, str):
        return ["%s is %r (%s): give it as a string, quoted if needed (\"%s\")" % (name, value, _kind(value), value)]
    if name == "istio_target_version":
        return target_version_problems(value)
    if name in REVISIONS and value:
        return ["%s: %s" % (name, problem) for problem in revision_problems(value)]
    return []


def _list_problems(name: str, value) -> list[str]:
    if not isinstance(value, list):
        yaml_form, json_form = LIST_EXAMPLES[name]
        return ["%s is %r (%s): give a list, such as %s (on the command line: -e '{\"%s\": %s}')"
                % (name, value, _kind(value), yaml_form, name, json_form)]
    problems = []
    for item in value:
        if not isinstance(item, str) or not item:
            problems.append("%s holds %r: every entry must be a non-empty string" % (name, item))
        elif name in NAMESPACE_LISTS and not is_namespace_name(item):
            problems.append("%s holds %r, which is not a namespace name (lower-case letters, digits and '-', at most 63 "
                            "characters)" % (name, item))
        elif name in SELECTOR_LISTS:
            try:
                parse_selector(item)
            except SelectorSyntaxError as error:
                problems.append("%s: %s" % (name, error))
    return problems


def _kind(value) -> str:
    # isinstance, not type(): Ansible hands over its own subclasses of int, str, dict and list
    for kind, name in ((bool, "a boolean"), (int, "a number"), (float, "a number"), (str, "a string"), (dict, "a mapping"),
                       (list, "a list")):
        if isinstance(value, kind):
            return name
    return "null" if value is None else type(value).__name__
