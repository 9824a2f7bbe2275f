# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the sidecar of a pod (plain dict): present or not, native or not, its revision and its version.

The revision comes from the ``sidecar.istio.io/status`` annotation's ``revision`` (the injecting istiod's revision,
never a tag), falling back to the pod's ``istio.io/rev`` annotation; the version from the ``istio-proxy`` image tag.
Malformed annotations are tolerated and reported, never raised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import IstioVersion, image_tag, parse_version


@dataclass(frozen=True)
class Sidecar:
    """The Istio sidecar found in a pod (or the absence of one)."""

    present: bool
    native: bool
    revision: str | None
    image: str | None
    version: IstioVersion | None
    gateway: bool
    problems: tuple = ()

    def as_dict(self) -> dict:
        """A plain dict for module results."""
        return {"present": self.present, "native": self.native, "revision": self.revision, "image": self.image,
                "version": self.version.release if self.version else None, "gateway": self.gateway,
                "problems": list(self.problems)}


def parse_status(text: str | None) -> tuple[dict | None, str | None]:
    """Parse a ``sidecar.istio.io/status`` value; returns ``(status, problem)`` with one of them None."""
    if text is None:
        return None, None
    try:
        status = json.loads(text)
    except ValueError as exc:
        return None, "annotation %s is not valid JSON (%s)" % (L.SIDECAR_STATUS, exc)
    if not isinstance(status, dict):
        return None, "annotation %s is not a JSON object" % L.SIDECAR_STATUS
    return status, None


def proxy_container(pod: dict) -> tuple[dict | None, bool]:
    """The ``istio-proxy`` container of a pod or pod template and whether it is a native sidecar (init container)."""
    spec = pod.get("spec") or {}
    for container in spec.get("containers") or []:
        if container.get("name") == L.PROXY_CONTAINER:
            return container, False
    for container in spec.get("initContainers") or []:
        if container.get("name") == L.PROXY_CONTAINER:
            return container, True
    return None, False


def parse_sidecar(pod: dict) -> Sidecar:
    """Describe the sidecar of ``pod`` (a Pod or a pod template dict with ``metadata`` and ``spec``)."""
    meta = pod.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    container, native = proxy_container(pod)
    status, problem = parse_status(annotations.get(L.SIDECAR_STATUS))
    problems = [problem] if problem else []
    revision = None
    if status is not None and status.get("revision"):
        revision = str(status["revision"])
    elif annotations.get(L.REV):
        revision = annotations[L.REV]
    image = container.get("image") if container else None
    version = parse_version(image_tag(image)) if image else None
    if image and version is None and image != L.GATEWAY_AUTO_IMAGE:
        problems.append("cannot read an Istio version from the %s image %r" % (L.PROXY_CONTAINER, image))
    gateway = annotations.get(L.INJECT_TEMPLATES) == L.GATEWAY_TEMPLATE
    return Sidecar(
        present=container is not None,
        native=native,
        revision=revision if container is not None else None,
        image=image,
        version=version,
        gateway=gateway,
        problems=tuple(problems),
    )
