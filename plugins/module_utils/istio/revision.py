# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Revision names: validation, the revision for a version, and the names of a revision's objects.

Istio validates a revision as a DNS-1123 label. The empty revision and ``default`` both mean the
non-revisioned control plane, whose objects carry no suffix (``istiod``, ``istio-sidecar-injector``).
"""

from __future__ import annotations

import re

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import parse_version

# istiod-<R> must stay a valid DNS-1123 label (63), so R keeps 63 - len("istiod-") characters.
REVISION_MAX = 56
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def is_default(revision: str | None) -> bool:
    """True when ``revision`` names the non-revisioned control plane (empty, None or ``default``)."""
    return revision in (None, "", labels.DEFAULT_REVISION)


def canonical(revision: str | None) -> str:
    """The revision as Istio's ``istio.io/rev`` label spells it: ``default`` for the empty revision."""
    return labels.DEFAULT_REVISION if is_default(revision) else str(revision)


def revision_problems(revision: str) -> list[str]:
    """Why ``revision`` is not a usable revision name; an empty list when it is.

    ``default`` and the empty string are accepted (the non-revisioned control plane).
    """
    if is_default(revision):
        return []
    problems = []
    if len(revision) > REVISION_MAX:
        problems.append(
            "revision %r is %d characters long; at most %d are allowed so that istiod-<revision> stays a DNS-1123 label"
            % (revision, len(revision), REVISION_MAX)
        )
    if not _DNS1123_LABEL.match(revision):
        problems.append(
            "revision %r is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending "
            "with a letter or digit (for example 1-29-2 instead of 1.29.2)" % (revision,)
        )
    return problems


def revision_from_version(version: str, prefix: str = "") -> str:
    """The conventional revision for an Istio version: ``1.29.2`` -> ``1-29-2``; ``1.29.0-rc.1`` -> ``1-29-0-rc-1``.

    The revision names the release: an image variant is not part of it (``1.29.2-distroless`` -> ``1-29-2``).
    This is the one derivation: the modules and the role's filter ``istio_revision_of`` both use it.
    ``prefix`` is prepended with a dash (``prefix="canary"`` -> ``canary-1-29-2``), as the sail operator does.
    Raises ValueError when the result is not a valid revision.
    """
    parsed = parse_version(version)
    text = parsed.release if parsed is not None else version.strip().lower()
    if text.startswith("v"):
        text = text[1:]
    body = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    revision = "%s-%s" % (prefix, body) if prefix else body
    problems = revision_problems(revision) if revision else ["version %r gives an empty revision" % (version,)]
    if problems:
        raise ValueError("; ".join(problems))
    return revision


def suffix(revision: str | None) -> str:
    """``-<R>`` for a named revision, the empty string for the default revision."""
    return "" if is_default(revision) else "-%s" % revision


def istiod_name(revision: str | None) -> str:
    """Name of the istiod Deployment, Service, ServiceAccount, PDB and HPA: ``istiod[-R]``."""
    return labels.ISTIOD + suffix(revision)


def injector_webhook_name(revision: str | None, namespace: str = labels.ISTIO_SYSTEM) -> str:
    """Name of the revision's MutatingWebhookConfiguration: ``istio-sidecar-injector[-R][-<ns>]``.

    The namespace suffix is added only when istiod is installed outside ``istio-system``.
    """
    return labels.SIDECAR_INJECTOR + suffix(revision) + _namespace_suffix(namespace)


def validator_webhook_name(revision: str | None, namespace: str = labels.ISTIO_SYSTEM) -> str:
    """Name of the revision's ValidatingWebhookConfiguration: ``istio-validator[-R]-<ns>`` (always suffixed)."""
    return "%s%s-%s" % (labels.VALIDATOR, suffix(revision), namespace)


def tag_webhook_name(tag: str, namespace: str = labels.ISTIO_SYSTEM) -> str:
    """Name of a revision tag's MutatingWebhookConfiguration: ``istio-revision-tag-<T>[-<ns>]``."""
    return labels.REVISION_TAG_WEBHOOK_PREFIX + tag + _namespace_suffix(namespace)


def tag_service_name(tag: str) -> str:
    """Name of a revision tag's Service (Istio 1.28 and later): ``istiod-revision-tag-<T>``."""
    return labels.REVISION_TAG_SERVICE_PREFIX + tag


def _namespace_suffix(namespace: str) -> str:
    return "" if namespace == labels.ISTIO_SYSTEM else "-%s" % namespace
