# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access: prove permissions with SelfSubjectAccessReview, and apply or remove the collection's RBAC objects.

The permissions come from ``istio/permissions.py``, the one list of them; here is only the I/O.
"""

from __future__ import annotations

from ansible_collections.meshops.istio.plugins.module_utils.k8s.resources import SERVICEACCOUNTS, Resource

SELF_SUBJECT_ACCESS_REVIEWS = Resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False)
RBAC_RESOURCES = {kind: Resource("rbac.authorization.k8s.io", "v1", plural, kind, kind in ("Role", "RoleBinding"))
                  for kind, plural in (("ClusterRole", "clusterroles"), ("ClusterRoleBinding", "clusterrolebindings"),
                                       ("Role", "roles"), ("RoleBinding", "rolebindings"))}
FIELD_MANAGER = "meshops.istio"


def review(api, entry: dict) -> dict:
    """Ask the API server whether the identity in use may do one thing; ``{"allowed": bool, "reason": str}``."""
    attributes = {"verb": entry["verb"], "group": entry["group"], "resource": entry["resource"]}
    if entry.get("namespace"):
        attributes["namespace"] = entry["namespace"]
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {"resourceAttributes": attributes}}
    status = api.create(SELF_SUBJECT_ACCESS_REVIEWS.path(), body).get("status") or {}
    return {"allowed": bool(status.get("allowed")) and not status.get("denied"), "reason": status.get("reason") or ""}


def missing_permissions(api, needed: list) -> list:
    """The entries of ``needed`` (from ``permissions.required``) that the identity in use does not hold."""
    return [entry for entry in needed if not review(api, entry)["allowed"]]


def _path(obj: dict, with_name: bool = True) -> str:
    meta = obj["metadata"]
    return RBAC_RESOURCES[obj["kind"]].path(meta.get("namespace"), meta["name"] if with_name else None)


def _comparable(obj: dict | None) -> dict | None:
    if obj is None:
        return None
    meta = obj.get("metadata") or {}
    kept = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
            "metadata": {k: meta[k] for k in ("name", "namespace", "labels") if meta.get(k)}}
    for field in ("rules", "roleRef", "subjects"):
        if field in obj:
            kept[field] = obj[field]
    return kept


def _same(live: dict | None, desired: dict) -> bool:
    if live is None:
        return False
    labels = (live.get("metadata") or {}).get("labels") or {}
    return (all(labels.get(k) == v for k, v in desired["metadata"]["labels"].items())
            and all(_normal(live.get(f)) == _normal(desired.get(f)) for f in ("rules", "roleRef", "subjects") if f in desired))


def _normal(value):
    """Rules and subjects as the API server stores them: empty lists dropped."""
    if isinstance(value, list):
        return [_normal(item) for item in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if v not in (None, [], "")}
    return value


def apply_objects(api, objects: list, dry_run: bool) -> tuple:
    """Server-side apply of the objects that differ; returns ``(changed names, before, after)`` for the diff."""
    changed, before, after = [], [], []
    for obj in objects:
        live = api.get_or_none(_path(obj))
        if _same(live, obj):
            continue
        api.patch(_path(obj), obj, "apply", dry_run=dry_run, field_manager=FIELD_MANAGER, force=True)
        changed.append(describe(obj))
        before.append(_comparable(live))
        after.append(_comparable(obj))
    return changed, before, after


def delete_objects(api, objects: list, dry_run: bool) -> tuple:
    """Delete the objects that exist (bindings first); returns ``(removed names, before)``."""
    removed, before = [], []
    for obj in sorted(objects, key=lambda o: not o["kind"].endswith("Binding")):
        live = api.get_or_none(_path(obj))
        if live is None:
            continue
        api.delete(_path(obj), dry_run=dry_run)
        removed.append(describe(obj))
        before.append(_comparable(live))
    return removed, before


def ensure_service_account(api, namespace: str, name: str, dry_run: bool) -> bool:
    """Create the ServiceAccount the rules are bound to when it is missing; True when it was (or would be) created."""
    if api.get_or_none(SERVICEACCOUNTS.path(namespace, name)) is not None:
        return False
    meta = {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/managed-by": "meshops.istio"}}
    body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
    api.create(SERVICEACCOUNTS.path(namespace), body, dry_run=dry_run)
    return True


def describe(obj: dict) -> str:
    """``ClusterRole/meshops-istio-read`` or ``Role/istio-system/meshops-istio-read``."""
    meta = obj["metadata"]
    return "/".join(part for part in (obj["kind"], meta.get("namespace"), meta["name"]) if part)
