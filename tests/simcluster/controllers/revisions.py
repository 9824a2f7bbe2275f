"""ControllerRevisions: the template history of StatefulSets and DaemonSets (what ``kubectl rollout undo`` reads)."""

from __future__ import annotations

from ..errors import ApiError
from ..patch import clone
from .podtemplate import CONTROLLER_REVISION_HASH, compute_hash, is_terminating, owner_reference

KEY = "apps/controllerrevisions"


def revision_data(owner: dict) -> dict:
    """The patch a revision stores: the owner's pod template, replacing the whole template when applied."""
    template = clone((owner.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def owned_revisions(manager, owner: dict) -> list[dict]:
    """The owner's ControllerRevisions, oldest revision first."""
    found = manager.cache.children(owner["metadata"]["uid"], KEY)
    return sorted(found, key=lambda cr: (int(cr.get("revision") or 0), cr["metadata"]["name"]))


def sync_update_revision(manager, owner: dict, revisions: list[dict]) -> dict | None:
    """The ControllerRevision of the owner's current template: reused (and made the newest) or created.

    None when the name is taken by a revision of another template (``status.collisionCount`` is raised then).
    """
    data = revision_data(owner)
    latest = max([int(cr.get("revision") or 0) for cr in revisions] + [0])
    for cr in reversed(revisions):
        if cr.get("data") == data:
            if int(cr.get("revision") or 0) == latest:
                return cr
            updated = clone(cr)
            updated["revision"] = latest + 1
            return manager.update(updated)
    meta = owner["metadata"]
    collisions = int((owner.get("status") or {}).get("collisionCount") or 0)
    digest = compute_hash(data, collisions)
    labels = dict(((owner["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {})
    labels[CONTROLLER_REVISION_HASH] = digest
    revision = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {"name": f"{meta['name']}-{digest}", "namespace": meta["namespace"], "labels": labels,
                     "ownerReferences": [owner_reference(owner)]},
        "data": data,
        "revision": latest + 1,
    }
    if meta.get("annotations"):
        revision["metadata"]["annotations"] = dict(meta["annotations"])
    try:
        return manager.create(revision)
    except ApiError as error:
        if error.code != 409:
            raise
    taken = manager.store.get(KEY, meta["namespace"], revision["metadata"]["name"])
    if taken is not None and taken.get("data") == data:
        return taken
    updated = clone(owner)
    updated.setdefault("status", {})["collisionCount"] = collisions + 1
    manager.update(updated, subresource="status")
    return None


def cleanup_history(manager, owner: dict, revisions: list[dict], live: set[str]) -> None:
    """Delete the oldest revisions no pod uses beyond ``spec.revisionHistoryLimit`` (default 10)."""
    limit = (owner.get("spec") or {}).get("revisionHistoryLimit")
    limit = 10 if limit is None else int(limit)
    unused = [cr for cr in revisions if cr["metadata"]["name"] not in live and not is_terminating(cr)]
    for cr in unused[: max(len(unused) - limit, 0)]:
        manager.delete(KEY, cr["metadata"]["namespace"], cr["metadata"]["name"])
