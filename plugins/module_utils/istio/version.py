# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Istio versions: parse versions and image tags, compare them, and check version skew.

Accepted forms: ``1.29.2``, ``v1.29.2``, ``1.29.0-rc.1``, ``1.29-dev``, ``1.29-alpha.<sha>``, and image tags with
a variant such as ``1.29.2-distroless`` or ``1.29.0-rc.1-debug``. Skew checks return the reasons a move is not
supported (an empty list when it is), never raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VARIANTS = ("distroless", "debug")
# Canary (revision-based) upgrades may skip one minor (1.15 -> 1.17); in-place ones move one minor at a time.
CANARY_MAX_MINOR_JUMP = 2
IN_PLACE_MAX_MINOR_JUMP = 1

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?$")


@dataclass(frozen=True)
class IstioVersion:
    """A parsed Istio version. ``patch`` is None for development builds such as ``1.29-dev``."""

    major: int
    minor: int
    patch: int | None
    prerelease: str
    variant: str
    text: str

    @property
    def minor_version(self) -> str:
        """``major.minor``, e.g. ``1.29``."""
        return "%d.%d" % (self.major, self.minor)

    @property
    def release(self) -> str:
        """The version without its image variant, e.g. ``1.29.0-rc.1`` for ``1.29.0-rc.1-distroless``."""
        base = "%d.%d" % (self.major, self.minor) if self.patch is None else "%d.%d.%d" % (self.major, self.minor, self.patch)
        return "%s-%s" % (base, self.prerelease) if self.prerelease else base

    def sort_key(self) -> tuple:
        """A key that orders versions: a pre-release or development build sorts before its release."""
        return (self.major, self.minor, -1 if self.patch is None else self.patch, 0 if self.prerelease else 1,
                _prerelease_key(self.prerelease))

    def __str__(self) -> str:
        return self.text


def parse_version(text: str | None) -> IstioVersion | None:
    """Parse an Istio version or image tag; None when ``text`` is not one (``latest``, a digest, empty)."""
    if not text:
        return None
    raw = str(text).strip()
    match = _VERSION.match(raw)
    if not match:
        return None
    major, minor, patch, rest = match.groups()
    prerelease, variant = "", ""
    if rest:
        parts = rest.split("-")
        if parts[-1] in VARIANTS:
            variant = parts.pop()
        prerelease = "-".join(parts)
    return IstioVersion(int(major), int(minor), None if patch is None else int(patch), prerelease, variant, raw)


def image_tag(image: str | None) -> str | None:
    """The tag of a container image reference (``hub/proxyv2:1.29.2@sha256:...`` -> ``1.29.2``); None if untagged."""
    if not image:
        return None
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    return last.rsplit(":", 1)[1] or None


def with_image_tag(image: str | None, version: str | None) -> str | None:
    """``image`` with its tag replaced by ``version`` (``hub/pilot:1.28.1`` -> ``hub/pilot:1.29.2``), any digest dropped;
    ``image`` itself when either is empty."""
    if not image or not version:
        return image
    tag = image_tag(image)
    base = image.split("@", 1)[0]
    return (base[: -len(tag) - 1] if tag else base) + ":" + version.lstrip("v")


def version_from_image(image: str | None) -> IstioVersion | None:
    """The Istio version in an image's tag (``docker.io/istio/pilot:1.29.2-distroless`` -> 1.29.2), or None."""
    return parse_version(image_tag(image))


def compare(left: IstioVersion, right: IstioVersion) -> int:
    """-1, 0 or 1 as ``left`` is older than, the same release as, or newer than ``right`` (variants ignored)."""
    a, b = left.sort_key(), right.sort_key()
    return (a > b) - (a < b)


def minor_distance(source: IstioVersion, target: IstioVersion) -> int:
    """How many minors ``target`` is ahead of ``source`` (negative when behind); majors count as 100 minors."""
    return (target.major - source.major) * 100 + (target.minor - source.minor)


def upgrade_problems(current: IstioVersion, target: IstioVersion, canary: bool = True) -> list[str]:
    """Why moving the control plane from ``current`` to ``target`` is unsupported; empty when it is supported.

    A canary (revision-based) move may jump ``CANARY_MAX_MINOR_JUMP`` minors, an in-place one only one; the same
    limits apply to a downgrade.
    """
    limit = CANARY_MAX_MINOR_JUMP if canary else IN_PLACE_MAX_MINOR_JUMP
    kind = "a canary" if canary else "an in-place"
    problems = []
    if current.major != target.major:
        problems.append("%s move from %s to %s changes the major version; Istio supports moves within one major version"
                        % (kind, current.release, target.release))
        return problems
    distance = minor_distance(current, target)
    if abs(distance) > limit:
        problems.append(
            "%s move from %s to %s spans %d minor versions; at most %d are supported: go through %s first"
            % (kind, current.release, target.release, abs(distance), limit,
               _stepping_stone(current, distance, limit))
        )
    return problems


def _stepping_stone(current: IstioVersion, distance: int, limit: int) -> str:
    step = limit if distance > 0 else -limit
    return "%d.%d" % (current.major, current.minor + step)


def _prerelease_key(prerelease: str) -> tuple:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.-]", prerelease) if part)
