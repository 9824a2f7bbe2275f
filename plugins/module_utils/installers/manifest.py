# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``manifest`` installer: server-side apply of a pre-rendered istiod manifest, and exact removal.

The objects are applied with the field manager ``meshops.istio`` (``force`` takes over fields another manager
set). What was applied is recorded in the ConfigMap ``meshops-istio-manifest-<R>`` in the control plane's
namespace (apiVersion, kind, namespace and name of every object, the manifest's digest and version): ``absent``
deletes exactly those objects, and a later ``present`` with a changed manifest also deletes the objects the new
manifest no longer has. The record lives in the cluster, beside what it describes, so any controller host can
remove the revision.
"""

from __future__ import annotations

import json
import os

from ansible_collections.meshops.istio.plugins.module_utils.yaml_support import yaml

from ansible_collections.meshops.istio.plugins.module_utils.installers import crds as crd_step
from ansible_collections.meshops.istio.plugins.module_utils.istio.crds import crd_name, is_crd, is_istio_crd
from ansible_collections.meshops.istio.plugins.module_utils.istio.istiod_fields import (
    is_istiod_webhook_configuration,
    without_istiod_fields,
)
from ansible_collections.meshops.istio.plugins.module_utils.istio.manifest_revision import (
    manifest_digest,
    manifest_version,
    object_ref,
    ownership_problems,
    ref_text,
)
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.discovery import ResourceResolver
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError

FIELD_MANAGER = "meshops.istio"
RECORD_PREFIX = "meshops-istio-manifest-"
RECORD_REVISION_LABEL = "meshops.istio/revision"
MANAGED_BY = {"app.kubernetes.io/managed-by": "meshops.istio"}


def record_name(revision: str) -> str:
    """Name of the ConfigMap recording what was applied for ``revision``."""
    return RECORD_PREFIX + revision


def read_documents(manifests: list | None, manifest_content) -> list[dict]:
    """The objects of the files ``manifests`` and of ``manifest_content`` (YAML text, or a list of dicts).

    Empty documents are skipped and ``kind: List`` is flattened. MeshError names the file that cannot be read.
    """
    documents = []
    for path in manifests or []:
        try:
            with open(os.path.expanduser(path), encoding="utf-8") as handle:
                documents.extend(yaml.safe_load_all(handle))
        except (OSError, yaml.YAMLError) as exc:
            raise MeshError("cannot read manifest %s: %s" % (path, exc)) from exc
    if isinstance(manifest_content, str):
        try:
            documents.extend(yaml.safe_load_all(manifest_content))
        except yaml.YAMLError as exc:
            raise MeshError("manifest_content is not valid YAML: %s" % exc) from exc
    elif manifest_content:
        documents.extend(manifest_content if isinstance(manifest_content, list) else [manifest_content])
    objects = []
    for document in documents:
        if not document:
            continue
        if not isinstance(document, dict):
            raise MeshError("a manifest document is %s, not a Kubernetes object (a mapping)" % type(document).__name__)
        if document.get("kind", "").endswith("List") and isinstance(document.get("items"), list):
            objects.extend(item for item in document["items"] if item)
        else:
            objects.append(document)
    return objects


class ManifestInstaller:
    """Applies and removes one revision's pre-rendered manifest through the API."""

    name = "manifest"
    # CRDs are applied one by one (server-side apply), not by a tool that applies all of them at once
    crd_tool = None
    crds_with_install = False

    def __init__(self, api, revision: str, namespace: str, manifests: list | None, manifest_content) -> None:
        self.api = api
        self.revision = revision
        self.namespace = namespace
        documents = read_documents(manifests, manifest_content)
        # the CRDs (the base chart's, shared by every revision) go to the CRD step, never to the revision's record
        self.crds = [obj for obj in documents if is_crd(obj)]
        self.objects = [obj for obj in documents if not is_crd(obj)]
        self.resolver = ResourceResolver(api)
        self._record = None
        self._record_read = False

    # -- before any write ----------------------------------------------------------------------------------------

    def check(self, version: str | None) -> None:
        """Fail (MeshError) unless the manifest is an istiod manifest of this revision (and ``version``, if given)."""
        if not self.objects:
            raise MeshError("the manifest is empty: give manifests (files) or manifest_content rendered for revision %s"
                            % self.revision)
        for obj in self.objects:
            resource = self.resolver.resolve(obj.get("apiVersion") or "", obj.get("kind") or "")
            meta = obj.setdefault("metadata", {})
            if resource.namespaced:
                meta.setdefault("namespace", self.namespace)
            elif meta.get("namespace"):
                meta.pop("namespace")
        problems = ownership_problems(self.objects, self.revision, self.namespace)
        problems += ["CustomResourceDefinition %s is not one of Istio's CRDs (group istio.io or *.istio.io): apply it "
                     "separately" % (crd_name(obj) or "(no name)") for obj in self.crds if not is_istio_crd(obj)]
        found = manifest_version(self.objects, self.revision)
        if version is not None and found is not None and found != version.lstrip("v"):
            problems.append("the manifest's istiod runs version %s, not %s: render the manifest for %s" % (found, version, version))
        if problems:
            raise MeshError("the manifest does not belong to revision %s in namespace %s; nothing was applied: %s"
                            % (self.revision, self.namespace, "; ".join(problems)), problems=problems)

    @property
    def version(self) -> str | None:
        """The Istio version of the manifest's istiod."""
        return manifest_version(self.objects, self.revision)

    def record(self) -> dict | None:
        """The record ConfigMap's content ``{"objects": [refs], "digest", "version"}``; None when there is none."""
        if not self._record_read:
            found = self.api.get_or_none(R.CONFIGMAPS.path(self.namespace, record_name(self.revision)))
            if found is not None:
                data = found.get("data") or {}
                try:
                    self._record = {"objects": json.loads(data.get("objects") or "[]"), "digest": data.get("digest"),
                                    "version": data.get("version")}
                except ValueError as exc:
                    raise MeshError("ConfigMap %s/%s is not a readable record of applied objects (%s); delete it and "
                                    "run again" % (self.namespace, record_name(self.revision), exc)) from exc
            self._record_read = True
        return self._record

    def changed_input(self) -> bool:
        """True when the manifest differs from the recorded one (or nothing is recorded)."""
        found = self.record()
        return found is None or found.get("digest") != manifest_digest(self.objects)

    def planned(self) -> list[str]:
        """The objects of the manifest, as ``Kind namespace/name``."""
        return [ref_text(object_ref(obj)) for obj in self.objects]

    def installed(self) -> list[str]:
        """The objects recorded as applied."""
        return [ref_text(ref) for ref in (self.record() or {}).get("objects") or []]

    def exists(self) -> bool:
        """True when a record of applied objects exists."""
        return self.record() is not None

    def target_crds(self) -> list[dict]:
        """The Istio CRDs given in the manifest (for example the base chart rendered with ``helm template``)."""
        return self.crds

    @staticmethod
    def crd_problems(current: list[dict], steps: list) -> list[str]:
        """Nothing beyond Istio's rule: server-side apply takes over the fields of any earlier manager."""
        del current, steps
        return []

    def apply_crds(self, steps: list, dry_run: bool, installing: bool) -> None:
        """Server-side apply of the CRDs the steps create or upgrade (never recorded: removing the revision keeps them)."""
        del installing
        crd_step.server_side_apply(self.api, self.resolver, self.crds, steps, dry_run, FIELD_MANAGER)

    # -- writes --------------------------------------------------------------------------------------------------

    def install(self, dry_run: bool) -> dict:
        """Apply every object, prune recorded objects the manifest dropped, write the record; return what changed."""
        before = {ref_text(ref): ref for ref in (self.record() or {}).get("objects") or []}
        refs = [object_ref(obj) for obj in self.objects]
        for obj in self.objects:
            resource = self.resolver.resolve(obj["apiVersion"], obj["kind"])
            meta = obj["metadata"]
            path = resource.path(meta.get("namespace") if resource.namespaced else None, meta["name"])
            if is_istiod_webhook_configuration(obj):
                obj = without_istiod_fields(obj, exists=self.api.get_or_none(path) is not None)
            self.api.patch(path, obj, "apply", dry_run=dry_run, field_manager=FIELD_MANAGER, force=True)
        now = {ref_text(ref) for ref in refs}
        dropped = [ref for text, ref in before.items() if text not in now]
        for ref in reversed(dropped):
            self._delete(ref, dry_run)
        self._write_record(refs, dry_run)
        return {"created": [text for text in (ref_text(r) for r in refs) if text not in before],
                "deleted": [ref_text(ref) for ref in dropped]}

    def remove(self, dry_run: bool) -> list[str]:
        """Delete the recorded objects (last applied first), then the record; return what was deleted."""
        refs = (self.record() or {}).get("objects") or []
        for ref in reversed(refs):
            self._delete(ref, dry_run)
        self.api.delete(R.CONFIGMAPS.path(self.namespace, record_name(self.revision)), dry_run=dry_run, missing_ok=True)
        return [ref_text(ref) for ref in refs]

    def _delete(self, ref: dict, dry_run: bool) -> None:
        resource = self.resolver.resolve(ref["apiVersion"], ref["kind"])
        path = resource.path(ref.get("namespace") if resource.namespaced else None, ref["name"])
        self.api.delete(path, dry_run=dry_run, propagation_policy="Background", missing_ok=True)

    def _write_record(self, refs: list[dict], dry_run: bool) -> None:
        name = record_name(self.revision)
        body = {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": self.namespace,
                         "labels": dict(MANAGED_BY, **{RECORD_REVISION_LABEL: self.revision}),
                         "annotations": {"kubernetes.io/description": "Objects applied by meshops.istio.mesh_control_plane "
                                         "for istiod revision %s; state=absent deletes exactly these." % self.revision}},
            "data": {"objects": json.dumps(refs, indent=1), "digest": manifest_digest(self.objects),
                     "version": self.version or ""},
        }
        self.api.patch(R.CONFIGMAPS.path(self.namespace, name), body, "apply", dry_run=dry_run,
                       field_manager=FIELD_MANAGER, force=True)
