# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""List the objects of a namespaced kind in a set of namespaces with as few requests as possible.

A LIST across all namespaces costs one request per page, whatever the scope; per-namespace LISTs cost at least
one request per namespace. The choice is made from the first page of the cluster-wide LIST: when it holds
everything (no ``continue``) it is the answer (one request); otherwise its ``remainingItemCount`` tells how
many pages are left, and when the scope has fewer namespaces than that, the rest is read namespace by namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.meshops.istio.plugins.module_utils.k8s.resources import Resource

PAGE_SIZE = 1000


@dataclass
class ScopedList:
    """The items found and how they were read (``cluster`` or ``namespaces``)."""

    items: list
    mode: str


def list_in_namespaces(api, resource: Resource, namespaces: list[str] | None, page_size: int = PAGE_SIZE) -> ScopedList:
    """Items of ``resource`` in ``namespaces`` (None: every namespace), read with the cheaper of the two ways.

    Items of other namespaces may be left in the result when the cluster-wide LIST was used: filter them.
    """
    pages = api.list_pages(resource.path(), limit=page_size)
    first = next(pages)
    items = list(first.get("items") or [])
    meta = first.get("metadata") or {}
    if not meta.get("continue"):
        return ScopedList(items, "cluster")
    remaining = meta.get("remainingItemCount")
    if namespaces is not None and remaining is not None and len(namespaces) < -(-int(remaining) // page_size):
        pages.close()
        items = []
        for namespace in namespaces:
            items.extend(api.list(resource.path(namespace), limit=page_size))
        return ScopedList(items, "namespaces")
    for page in pages:
        items.extend(page.get("items") or [])
    return ScopedList(items, "cluster")
