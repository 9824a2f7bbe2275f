# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control plane as found in the cluster: revisions, tags, the default revision and the default validator.

Input are plain dicts: istiod Deployments (``app=istiod``), MutatingWebhookConfigurations and
ValidatingWebhookConfigurations. Inconsistencies (a tag pointing at a revision without istiod, a default
validator pointing at a missing istiod, ...) are returned as problems, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import IstioVersion, version_from_image
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import DEFAULT_NAMESPACE_WEBHOOK, injector_webhooks


@dataclass
class Revision:
    """One installed istiod revision."""

    name: str
    namespace: str
    deployment: str
    image: str | None
    version: IstioVersion | None
    replicas: int
    ready_replicas: int
    ready: bool
    injector_webhook: str | None = None
    validator_webhook: str | None = None

    def as_dict(self) -> dict:
        """A plain dict for module results."""
        return {"name": self.name, "namespace": self.namespace, "deployment": self.deployment, "image": self.image,
                "version": self.version.release if self.version else None, "replicas": self.replicas,
                "ready_replicas": self.ready_replicas, "ready": self.ready,
                "injector_webhook": self.injector_webhook, "validator_webhook": self.validator_webhook}


@dataclass
class Tag:
    """One revision tag: a MutatingWebhookConfiguration labelled ``istio.io/tag``."""

    name: str
    revision: str
    configuration: str

    def as_dict(self) -> dict:
        """A plain dict for module results."""
        return {"name": self.name, "revision": self.revision, "configuration": self.configuration}


@dataclass
class ControlPlane:
    """Everything :func:`discover` found."""

    revisions: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    default_revision: str | None = None
    default_revision_source: str | None = None
    default_validator_revision: str | None = None
    problems: list = field(default_factory=list)

    def resolve(self, name: str | None) -> str | None:
        """The revision that a revision-or-tag name (as in an ``istio.io/rev`` label) stands for; None if unknown."""
        if name is None:
            return None
        if name in self.tags:
            return self.tags[name].revision
        if rev.is_default(name):
            return self.default_revision
        return name if name in self.revisions else None

    def as_dict(self) -> dict:
        """A plain dict for module results."""
        return {
            "revisions": [self.revisions[name].as_dict() for name in sorted(self.revisions)],
            "tags": [self.tags[name].as_dict() for name in sorted(self.tags)],
            "default_revision": self.default_revision,
            "default_revision_source": self.default_revision_source,
            "default_validator_revision": self.default_validator_revision,
            "problems": list(self.problems),
        }


def with_default_moved(plane: ControlPlane, revision: str, namespace: str = L.ISTIO_SYSTEM) -> ControlPlane:
    """``plane`` as it is once the tag ``default`` and ``istiod-default-validator`` point at ``revision``.

    What ``istioctl tag set default --revision R`` (and ``revision_tag`` with tag ``default``) leaves: the default
    tag is the default revision, and the validator's ``istio.io/rev`` names it (ISTIO.md section 2). Used to plan the
    removal of the earlier default revision before the tag has moved (a dry run, check mode). ``plane`` is unchanged.
    """
    revision = rev.canonical(revision)
    tags = dict(plane.tags)
    tags[L.DEFAULT_TAG] = Tag(L.DEFAULT_TAG, revision, rev.tag_webhook_name(L.DEFAULT_TAG, namespace))
    return replace(plane, tags=tags, default_revision=revision, default_revision_source="tag",
                   default_validator_revision=revision, problems=list(plane.problems))


def default_moved_problem(plane: ControlPlane, revision: str) -> str | None:
    """Why the default revision and ``istiod-default-validator`` do not both point at ``revision``; None when they do."""
    revision = rev.canonical(revision)
    if plane.default_revision == revision and plane.default_validator_revision == revision:
        return None
    return ("the default revision is %s and %s points at %s, not both at %s" % (
        plane.default_revision or "none", L.DEFAULT_VALIDATOR, plane.default_validator_revision or "nothing", revision))


def revision_of(obj: dict) -> str:
    """The canonical revision an object belongs to, from its ``istio.io/rev`` label (``default`` when absent)."""
    return rev.canonical(((obj.get("metadata") or {}).get("labels") or {}).get(L.REV))


def istiod_revision(deployment: dict) -> Revision:
    """Describe one istiod Deployment: revision, version from the ``discovery`` image tag, and readiness."""
    meta = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    discovery = next((c for c in containers if c.get("name") == L.DISCOVERY_CONTAINER), containers[0] if containers else {})
    name = revision_of(deployment)
    if name == L.DEFAULT_REVISION:
        env_revision = next((e.get("value") for e in discovery.get("env") or [] if e.get("name") == "REVISION"), None)
        name = rev.canonical(env_revision)
    replicas = 1 if spec.get("replicas") is None else int(spec["replicas"])
    ready_replicas = status.get("readyReplicas") or 0
    current = (status.get("observedGeneration") or 0) >= (meta.get("generation") or 0)
    updated = (status.get("updatedReplicas") or 0) >= replicas
    return Revision(
        name=name,
        namespace=meta.get("namespace", L.ISTIO_SYSTEM),
        deployment=meta.get("name", ""),
        image=discovery.get("image"),
        version=version_from_image(discovery.get("image")),
        replicas=replicas,
        ready_replicas=ready_replicas,
        ready=replicas > 0 and ready_replicas >= replicas and current and updated,
    )


def discover(deployments: list[dict], mutating: list[dict], validating: list[dict]) -> ControlPlane:
    """Build the :class:`ControlPlane` from istiod Deployments and the webhook configurations present."""
    plane = ControlPlane()
    for deployment in deployments or []:
        if ((deployment.get("metadata") or {}).get("labels") or {}).get(L.APP) != L.APP_ISTIOD:
            continue
        found = istiod_revision(deployment)
        if found.name in plane.revisions:
            plane.problems.append("revision %s has more than one istiod Deployment: %s/%s and %s/%s" % (
                found.name, plane.revisions[found.name].namespace, plane.revisions[found.name].deployment,
                found.namespace, found.deployment))
            continue
        plane.revisions[found.name] = found

    _read_mutating(plane, mutating or [])
    _read_validating(plane, validating or [])
    return plane


def _read_mutating(plane: ControlPlane, mutating: list[dict]) -> None:
    hooks = injector_webhooks(mutating)
    for config in mutating:
        meta = config.get("metadata") or {}
        config_labels = meta.get("labels") or {}
        name = meta.get("name", "")
        revision = rev.canonical(config_labels.get(L.REV))
        tag = config_labels.get(L.TAG)
        if not any(h.configuration == name for h in hooks):
            continue
        if tag:
            plane.tags[tag] = Tag(tag, revision, name)
            if revision not in plane.revisions:
                plane.problems.append("tag %s (%s) points at revision %s, which has no istiod Deployment"
                                      % (tag, name, revision))
        elif revision in plane.revisions:
            plane.revisions[revision].injector_webhook = name
        else:
            plane.problems.append("injector webhook %s belongs to revision %s, which has no istiod Deployment"
                                  % (name, revision))

    default_tag = plane.tags.get(L.DEFAULT_TAG)
    if default_tag:
        plane.default_revision, plane.default_revision_source = default_tag.revision, "tag"
        return
    # Without a default tag, the untagged configuration that carries the default-revision webhooks
    # (namespace./object.) and is not deactivated serves istio-injection=enabled.
    for hook in hooks:
        if hook.tag is None and not hook.deactivated and hook.name == DEFAULT_NAMESPACE_WEBHOOK:
            plane.default_revision, plane.default_revision_source = hook.revision, "webhook"
            return


def _read_validating(plane: ControlPlane, validating: list[dict]) -> None:
    for config in validating:
        meta = config.get("metadata") or {}
        name = meta.get("name", "")
        revision = revision_of(config)
        if name == L.DEFAULT_VALIDATOR:
            plane.default_validator_revision = revision
            if revision not in plane.revisions:
                plane.problems.append("%s points at revision %s, which has no istiod Deployment: Istio config would be "
                                      "rejected; point it at an installed revision" % (L.DEFAULT_VALIDATOR, revision))
        elif name.startswith(L.VALIDATOR + "-") and revision in plane.revisions:
            plane.revisions[revision].validator_webhook = name
