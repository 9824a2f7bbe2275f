# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions about one istiod revision: which revision a request names, and what ``present`` has to do.

Pure: works on names, versions and the :class:`Revision` found by ``controlplane.discover``.
"""

from __future__ import annotations

from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import Revision
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import parse_version

INSTALL = "install"
IN_PLACE = "in_place"
REAPPLY = "reapply"
NOTHING = "none"


def requested_revision(revision: str | None, version: str | None) -> tuple[str | None, list[str]]:
    """The revision a request names (``revision``, else derived from ``version``: 1.29.2 -> 1-29-2) and its problems."""
    problems = []
    if version is not None and parse_version(version) is None:
        problems.append("version %r is not an Istio version such as 1.29.2" % (version,))
    if revision is not None:
        return revision, problems + rev.revision_problems(revision)
    if version is None:
        return None, problems + ["give revision or version"]
    try:
        return rev.revision_from_version(version), problems
    except ValueError as exc:
        return None, problems + [str(exc)]


def same_release(left: str | None, right: str | None) -> bool:
    """True when two version strings name the same Istio release (``v1.29.2`` and ``1.29.2-distroless`` do)."""
    a, b = parse_version(left), parse_version(right)
    return a is not None and b is not None and a.release == b.release


def present_action(current: Revision | None, version: str | None, allow_in_place: bool,
                   changed_input: bool = False) -> tuple[str, str | None]:
    """What ``state=present`` does for the revision found (``current``, None when missing): ``(action, problem)``.

    Actions: ``install`` (missing), ``in_place`` (another version runs under the name and ``allow_in_place``),
    ``reapply`` (same version, but the installer's input changed, ``changed_input``), ``none`` (same version:
    nothing to write; waiting for readiness is the caller's business). ``problem`` is set, and the action is
    ``none``, when another version runs under the name without ``allow_in_place``.
    """
    if current is None:
        return INSTALL, None
    running = current.version.release if current.version else None
    if version is not None and not same_release(running, version):
        if allow_in_place:
            return IN_PLACE, None
        return NOTHING, ("revision %s already runs version %s (%s/%s), not %s: install %s under a new revision name "
                         "(the canary way), or set allow_in_place=true to change it in place"
                         % (current.name, running or "unknown (image %s)" % current.image, current.namespace,
                            current.deployment, version, version))
    if changed_input:
        return REAPPLY, None
    return NOTHING, None
