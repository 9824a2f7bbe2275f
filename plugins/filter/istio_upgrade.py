# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the upgrade role and playbooks: Istio's version rules (module_utils/istio/version.py) and the record's shapes."""

from __future__ import annotations

from ansible_collections.meshops.istio.plugins.module_utils.istio import record as rec
from ansible_collections.meshops.istio.plugins.module_utils.istio import report
from ansible_collections.meshops.istio.plugins.module_utils.istio.revision import revision_from_version
from ansible_collections.meshops.istio.plugins.module_utils.istio.role_inputs import (
    input_problems,
    renamed_problems,
    unknown_namespaces,
)
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import (
    compare,
    parse_version,
    upgrade_problems,
)


def istio_upgrade_problems(source_version, target_version) -> list:
    """Why a canary upgrade from ``source_version`` to ``target_version`` is refused; an empty list when it is allowed.

    The target must be a version, newer than the source, and within the minor versions a canary upgrade may jump.
    An unknown source version (an istiod image without a version tag) is not checked.
    """
    target = parse_version(target_version)
    if target is None:
        return ["istio_target_version %r is not an Istio version: give it as 1.29.2" % (target_version,)]
    source = parse_version(source_version)
    if source is None:
        return []
    if compare(target, source) == 0:
        return ["the target %s is the version the source revision already runs: there is nothing to upgrade; give the "
                "newer version to upgrade to in istio_target_version" % target.release]
    if compare(target, source) < 0:
        return ["the target %s is not newer than the running %s: an upgrade only moves forward; to go back before "
                "finalize, run playbooks/rollback.yml" % (target.release, source.release)]
    return upgrade_problems(source, target, canary=True)


def istio_input_problems(values, namespaces=None, variables=None) -> list:
    """Why the role's variables (``values``: variable name -> value) cannot be used; an empty list when they can.

    With ``namespaces`` (the names of the cluster's namespaces), the namespaces named in istio_data_plane_namespaces and
    istio_exclude_namespaces must be among them. With ``variables`` (the names of the variables the play sets, or a
    mapping of them to their values), none may be the old name of a renamed variable, unless it holds the same value
    as its new name. The rules are in module_utils/istio/role_inputs.py.
    """
    problems = renamed_problems(variables, dict(values or {})) + input_problems(dict(values or {}))
    if namespaces is not None:
        problems += unknown_namespaces(dict(values or {}), namespaces)
    return problems


def istio_move_attention(entries, gateways=None) -> list:
    """sidecar_audit's ``move_attention`` as lines ``ns/Kind/name (pods): what to do``, for preflight's report.

    A gateway named in ``gateways`` (istio_gateways) is left out of ``pins_revision``: the gateways stage moves it.
    """
    moved = {(gateway.get("namespace"), gateway.get("name")) for gateway in gateways or [] if isinstance(gateway, dict)}
    return ["%s/%s/%s (%s): %s" % (entry["namespace"], entry["kind"], entry["name"], ", ".join(entry["pods"]), entry["action"])
            for entry in entries or []
            if not (entry["issue"] == "pins_revision" and entry["kind"] == "Deployment"
                    and (entry["namespace"], entry["name"]) in moved)]


def istio_revision_of(version) -> str:
    """The revision name the collection derives from a version (``1.29.2`` -> ``1-29-2``, ``1.29.2-distroless`` ->
    ``1-29-2``): ``revision_from_version``, the modules' own derivation; empty when none can be derived."""
    try:
        return revision_from_version(str(version or ""))
    except ValueError:
        return ""


def istio_gateways_before(gateways) -> dict:
    """The upgrade record's ``gateways_before`` from gateway_revision's ``gateways``: ``ns/name`` -> its pod labels.

    Only the pod template's ``istio.io/rev`` label is kept (absent when the gateway had none).
    """
    before = {}
    for gateway in gateways or []:
        label = gateway.get("label_before")
        before["%s/%s" % (gateway["namespace"], gateway["name"])] = {"istio.io/rev": label} if label else {}
    return before


def istio_record_state(record, target_revision="") -> dict:
    """Where a run to ``target_revision`` stands from the upgrade record (module_utils/istio/record.py ``run_state``):
    whether the record is this upgrade's, the stage reached, and the finalize journal."""
    return rec.run_state(dict(record or {}), str(target_revision or ""))


def istio_upgrade_report(record, audit=None, mesh=None, check_mode=False) -> dict:
    """The end-of-run report (module_utils/istio/report.py) from the upgrade record, a sidecar_audit result (report
    attention) and a mesh_info result, with its text under ``lines``."""
    audit, mesh = audit or {}, mesh or {}
    built = report.build(record, audit.get("summary"), audit.get("pods"), mesh.get("namespaces"), bool(check_mode))
    built["lines"] = report.lines(built)
    return built


class FilterModule:
    """Filters of the upgrade role and playbooks."""

    def filters(self) -> dict:
        """Map filter names to functions."""
        return {
            "istio_upgrade_problems": istio_upgrade_problems,
            "istio_input_problems": istio_input_problems,
            "istio_move_attention": istio_move_attention,
            "istio_revision_of": istio_revision_of,
            "istio_gateways_before": istio_gateways_before,
            "istio_record_state": istio_record_state,
            "istio_upgrade_report": istio_upgrade_report,
        }
