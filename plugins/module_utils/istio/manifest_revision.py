# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a rendered istiod manifest belongs to one revision, and what it installs.

A manifest rendered for another revision (``helm template ... --set revision=1-28-1`` applied as ``1-29-2``) is a
classic mistake: it would overwrite the other revision's istiod. These checks find it before anything is written:

* every ``istio.io/rev`` label names the revision;
* the istiod Deployment is ``istiod-<R>`` and its ``discovery`` container's ``REVISION`` is the revision;
* the injector MutatingWebhookConfiguration is ``istio-sidecar-injector-<R>[-<ns>]``, its webhooks call
  ``istiod-<R>`` and select ``istio.io/rev`` values of the revision;
* the validator is ``istio-validator-<R>-<ns>``;
* namespaced objects live in the control plane's namespace;
* shared objects that outlive one revision are refused: CustomResourceDefinitions (base chart), revision tags
  (``istio-revision-tag-*``) and ``istiod-default-validator``, so that removing the revision never removes them
  (the manifest installer hands Istio's CRDs to its CRD step, ``installers/crds.py``, before this check).

Pure: input are plain dicts.
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import version_from_image

DEPLOYMENT = ("apps/v1", "Deployment")
MUTATING = ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration")
VALIDATING = ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration")


def object_ref(obj: dict) -> dict:
    """``{"apiVersion", "kind", "namespace", "name"}`` of an object (namespace None for cluster-scoped ones)."""
    meta = obj.get("metadata") or {}
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "namespace": meta.get("namespace"),
            "name": meta.get("name")}


def ref_text(ref: dict) -> str:
    """``Kind namespace/name`` or ``Kind name``."""
    where = "%s/%s" % (ref["namespace"], ref["name"]) if ref.get("namespace") else ref.get("name")
    return "%s %s" % (ref.get("kind"), where)


def manifest_digest(objects: list[dict]) -> str:
    """A stable sha256 of the objects (order and key order ignored), to tell whether a manifest changed."""
    texts = sorted(json.dumps(obj, sort_keys=True, separators=(",", ":")) for obj in objects)
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()


def _kind(obj: dict) -> tuple:
    return (obj.get("apiVersion"), obj.get("kind"))


def istiod_deployment(objects: list[dict], revision: str) -> dict | None:
    """The manifest's istiod Deployment (``istiod-<R>``), or None."""
    name = rev.istiod_name(revision)
    return next((o for o in objects if _kind(o) == DEPLOYMENT and (o.get("metadata") or {}).get("name") == name), None)


def manifest_version(objects: list[dict], revision: str) -> str | None:
    """The Istio version of the manifest's istiod (its ``discovery`` image tag), or None."""
    deployment = istiod_deployment(objects, revision)
    if deployment is None:
        return None
    found = version_from_image(_discovery(deployment).get("image"))
    return found.release if found else None


def _discovery(deployment: dict) -> dict:
    containers = ((((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or []
    return next((c for c in containers if c.get("name") == L.DISCOVERY_CONTAINER), containers[0] if containers else {})


def _expected_names(revision: str, namespace: str) -> dict:
    return {
        "istiod": rev.istiod_name(revision),
        "injector": rev.injector_webhook_name(revision, namespace),
        "validator": rev.validator_webhook_name(revision, namespace),
    }


def ownership_problems(objects: list[dict], revision: str, namespace: str = L.ISTIO_SYSTEM) -> list[str]:
    """Why ``objects`` are not an istiod manifest of ``revision`` installed in ``namespace``; empty when they are."""
    revision = rev.canonical(revision)
    expected = _expected_names(revision, namespace)
    problems = []
    for obj in objects:
        problems.extend(_object_problems(obj, revision, namespace, expected))
    if istiod_deployment(objects, revision) is None:
        problems.append("the manifest has no istiod Deployment %s: render the istiod chart with revision=%s"
                        % (expected["istiod"], revision))
    if not any(_kind(o) == MUTATING and (o.get("metadata") or {}).get("name") == expected["injector"] for o in objects):
        problems.append("the manifest has no injector MutatingWebhookConfiguration %s: render the istiod chart with "
                        "revision=%s" % (expected["injector"], revision))
    return problems


def _object_problems(obj: dict, revision: str, namespace: str, expected: dict) -> list[str]:
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    kind = obj.get("kind") or ""
    what = "%s %s" % (kind or "object", name or "(no name)")
    if not obj.get("apiVersion") or not kind or not name:
        return ["%s has no apiVersion, kind or metadata.name: every document must be a Kubernetes object" % what]
    if kind == "CustomResourceDefinition":
        return ["%s is a CustomResourceDefinition: CRDs belong to the base chart and are shared by every revision; "
                "remove it from the manifest and install CRDs separately" % what]
    obj_labels = meta.get("labels") or {}
    if name.startswith(L.REVISION_TAG_WEBHOOK_PREFIX) or L.TAG in obj_labels or name == L.DEFAULT_VALIDATOR:
        return ["%s is a revision tag or the default validator, shared beyond one revision; remove it from the "
                "manifest and manage tags with meshops.istio's tag handling" % what]
    problems = []
    if meta.get("namespace") not in (None, namespace):
        problems.append("%s is in namespace %s, not %s: render the manifest for namespace %s"
                        % (what, meta["namespace"], namespace, namespace))
    label = obj_labels.get(L.REV)
    if label is not None and rev.canonical(label) != revision:
        problems.append("%s is labelled %s=%s, not %s: the manifest was rendered for revision %s"
                        % (what, L.REV, label, revision, label))
    problems.extend(_name_problems(obj, kind, name, obj_labels, revision, expected))
    return problems


def _name_problems(obj: dict, kind: str, name: str, obj_labels: dict, revision: str, expected: dict) -> list[str]:
    what = "%s %s" % (kind, name)
    problems = []
    if _kind(obj) == DEPLOYMENT and obj_labels.get(L.APP) == L.APP_ISTIOD:
        if name != expected["istiod"]:
            problems.append("%s is an istiod Deployment but revision %s's is named %s" % (what, revision, expected["istiod"]))
        env_revision = next((e.get("value") for e in _discovery(obj).get("env") or [] if e.get("name") == "REVISION"), None)
        if env_revision is not None and rev.canonical(env_revision) != revision:
            problems.append("%s runs with REVISION=%s, not %s: the manifest was rendered for revision %s"
                            % (what, env_revision, revision, env_revision))
    elif _kind(obj) == MUTATING:
        if name != expected["injector"]:
            problems.append("%s is not revision %s's injector webhook configuration %s" % (what, revision, expected["injector"]))
        for hook in obj.get("webhooks") or []:
            service = ((hook.get("clientConfig") or {}).get("service") or {}).get("name")
            if service is not None and service != expected["istiod"]:
                problems.append("%s webhook %s calls Service %s, not %s" % (what, hook.get("name"), service, expected["istiod"]))
    elif _kind(obj) == VALIDATING and name.startswith(L.VALIDATOR) and name != expected["validator"]:
        problems.append("%s is not revision %s's validator %s" % (what, revision, expected["validator"]))
    return problems
