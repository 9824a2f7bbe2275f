"""Pure functions over JSON documents: copy, JSON patch, merge patch, strategic merge patch, server-side apply.

Server-side apply tracks ownership in ``metadata.managedFields`` (``FieldsV1``): lists named in
``LIST_MAP_KEYS`` are associative (merged by key), ``SET_LISTS`` are sets, every other list is atomic.
Conflicts with other managers raise 409 unless ``force``; a field the same manager applied before and no
longer applies is removed unless another manager owns it.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import jsonpatch
import jsonpointer

from . import errors

# Associative lists: field name -> key fields ("ports" is resolved by its items: container or service ports).
LIST_MAP_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",), "initContainers": ("name",), "ephemeralContainers": ("name",), "volumes": ("name",),
    "env": ("name",), "volumeMounts": ("mountPath",), "imagePullSecrets": ("name",), "ownerReferences": ("uid",),
    "conditions": ("type",), "webhooks": ("name",), "hostAliases": ("ip",), "versions": ("name",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
}
SET_LISTS = frozenset({"finalizers"})
# Strategic merge patch keys (patchMergeKey) differ from SSA's list-map keys for ports.
_SMP_MERGE_KEYS: dict[str, str] = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name", "env": "name",
    "volumeMounts": "mountPath", "imagePullSecrets": "name", "ownerReferences": "uid", "conditions": "type",
    "webhooks": "name", "hostAliases": "ip", "topologySpreadConstraints": "topologyKey",
}
_UNTRACKED_METADATA = ("name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                       "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "generateName")


def clone(value):
    """Copy a JSON document (dicts, lists, scalars); faster than ``copy.deepcopy`` for API objects."""
    kind = type(value)
    if kind is dict:
        return _clone_dict(value)
    if kind is list:
        return _clone_list(value)
    return value


# The two helpers recurse only into containers: scalars (most values) are copied without a function call.

def _clone_dict(source: dict) -> dict:
    copy = {}
    for key, value in source.items():
        kind = type(value)
        if kind is dict:
            value = _clone_dict(value)
        elif kind is list:
            value = _clone_list(value)
        copy[key] = value
    return copy


def _clone_list(source: list) -> list:
    copy = []
    for value in source:
        kind = type(value)
        if kind is dict:
            value = _clone_dict(value)
        elif kind is list:
            value = _clone_list(value)
        copy.append(value)
    return copy


# ------------------------------------------------------------------------------------------------ JSON patch

def json_patch(obj: dict, ops) -> dict:
    """Apply an RFC 6902 JSON patch; a malformed patch is 400, an operation that cannot apply is 422."""
    if not isinstance(ops, list):
        raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch: a JSON patch is a list "
                                 "of operations")
    try:
        patch = jsonpatch.JsonPatch(ops)
        return patch.apply(clone(obj))
    except jsonpatch.InvalidJsonPatch as exc:
        raise errors.bad_request(f"invalid JSON patch: {exc}") from exc
    except (jsonpatch.JsonPatchConflict, jsonpatch.JsonPatchTestFailed, jsonpointer.JsonPointerException) as exc:
        raise errors.ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: {exc}") from exc


# ------------------------------------------------------------------------------------------------ merge patch

def merge_patch(obj, patch):
    """Apply an RFC 7386 JSON merge patch (``null`` deletes a key; lists and scalars replace)."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(obj) if isinstance(obj, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ------------------------------------------------------------------------------------------------ strategic merge

def strategic_merge_patch(obj: dict, patch, kind_key: str) -> dict:
    """Apply a Kubernetes strategic merge patch to a built-in kind (``kind_key`` is its resource key).

    Lists with a patch merge key merge by it, ``finalizers`` merge as a set, other lists replace; ``null``
    deletes; directives ``$patch: delete|replace|merge``, ``$retainKeys``, ``$deleteFromPrimitiveList/<f>``
    and ``$setElementOrder/<f>`` (ordering ignored). Custom resources are refused (415) like the real server.
    """
    from .resources import BUILTIN  # pylint: disable=import-outside-toplevel
    if BUILTIN.by_key(kind_key) is None:
        raise errors.ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media "
                              "types include: application/json-patch+json, application/merge-patch+json, "
                              "application/apply-patch+yaml (strategic merge patch is not supported for custom resources)")
    if not isinstance(patch, dict):
        raise errors.bad_request("a strategic merge patch must be a JSON object")
    result = _smp_map(clone(obj), patch)
    return result if result is not None else {}


def _smp_map(original, patch: dict):
    """Merge ``patch`` into the dict ``original`` (mutated); None means the map is deleted."""
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: clone(v) for k, v in patch.items() if k != "$patch"}
    if directive not in (None, "merge"):
        raise errors.bad_request(f"strategic merge patch: unknown patch type {directive!r} (use delete, replace or merge)")
    result = original if isinstance(original, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in (value or [])]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _smp_map(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _smp_list(key, result.get(key), value)
        else:
            result[key] = value
    if retain is not None:
        for key in [k for k in result if k not in retain]:
            del result[key]
    return result


def _smp_list(field: str, original, patch: list) -> list:
    original = original if isinstance(original, list) else []
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [clone(item) for item in patch if not (isinstance(item, dict) and item.get("$patch") == "replace")]
    if field in SET_LISTS:
        return original + [clone(v) for v in patch if v not in original]
    merge_key = _SMP_MERGE_KEYS.get(field)
    if field == "ports":
        merge_key = "containerPort" if any("containerPort" in p for p in patch + original if isinstance(p, dict)) else "port"
    if merge_key is None or not all(isinstance(item, dict) for item in patch):
        return clone(patch)
    result = list(original)
    for item in patch:
        if merge_key not in item:
            raise errors.bad_request(f"strategic merge patch: an item of {field!r} lacks its merge key {merge_key!r}: {item!r}")
        position = next((i for i, old in enumerate(result) if isinstance(old, dict) and old.get(merge_key) == item[merge_key]), None)
        if item.get("$patch") == "delete":
            if position is not None:
                del result[position]
        elif position is None:
            result.append({k: clone(v) for k, v in item.items() if k != "$patch"})
        else:
            result[position] = _smp_map(result[position], item)
    return result


# ------------------------------------------------------------------------------------------------ field sets

def _list_keys(field: str, items: list) -> tuple[str, ...] | None:
    if field == "ports":
        if any(isinstance(p, dict) and "containerPort" in p for p in items):
            return ("containerPort", "protocol")
        return ("port", "protocol")
    return LIST_MAP_KEYS.get(field)


def _item_key(keys: tuple[str, ...], item: dict) -> str:
    values = {k: item.get(k, "TCP" if k == "protocol" else None) for k in keys}
    return json.dumps({k: v for k, v in values.items() if v is not None}, sort_keys=True, separators=(",", ":"))


def _is_map_list(field: str, value) -> tuple[str, ...] | None:
    keys = _list_keys(field, value)
    if keys and value and all(isinstance(item, dict) and keys[0] in item for item in value):
        return keys
    return None


def field_paths(obj: dict) -> set[tuple]:
    """The set of field paths an object sets (FieldsV1 semantics; metadata bookkeeping and status left out)."""
    paths: set[tuple] = set()
    top = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "status")}
    meta = top.get("metadata")
    if isinstance(meta, dict):
        top["metadata"] = {k: v for k, v in meta.items() if k not in _UNTRACKED_METADATA}
        if not top["metadata"]:
            del top["metadata"]
    _walk(top, (), paths)
    return paths


def _walk(value: dict, prefix: tuple, paths: set) -> None:
    for field, child in value.items():
        path = prefix + (("f", field),)
        if isinstance(child, dict) and child:
            _walk(child, path, paths)
        elif isinstance(child, list) and field in SET_LISTS:
            paths.update(path + (("v", json.dumps(v, sort_keys=True)),) for v in child)
        elif isinstance(child, list) and _is_map_list(field, child):
            keys = _is_map_list(field, child)
            for item in child:
                item_path = path + (("k", _item_key(keys, item)),)
                paths.add(item_path)
                _walk(item, item_path, paths)
        else:
            paths.add(path)


def paths_to_fields_v1(paths: set[tuple]) -> dict:
    """Render a path set as a ``FieldsV1`` dict (``f:``, ``k:``, ``v:`` keys, ``.`` for an item with children)."""
    root: dict = {}
    for path in sorted(paths):
        node = root
        for kind, name in path:
            node = node.setdefault(f"{kind}:{name}", {})
    for path in paths:
        node = root
        for kind, name in path:
            node = node[f"{kind}:{name}"]
        if node and "." not in node:
            node["."] = {}
    return root


def fields_v1_to_paths(fields: dict, prefix: tuple = ()) -> set[tuple]:
    """Read a ``FieldsV1`` dict back into a path set."""
    paths: set[tuple] = set()
    for name, child in (fields or {}).items():
        if name == ".":
            paths.add(prefix)
            continue
        kind, _colon, rest = name.partition(":")
        path = prefix + ((kind, rest),)
        if child:
            paths.update(fields_v1_to_paths(child, path))
        else:
            paths.add(path)
    return paths


def _value_at(obj, path: tuple):
    """The value at a path, or a sentinel ``_MISSING``."""
    node = obj
    for index, (kind, name) in enumerate(path):
        if kind == "f":
            if not isinstance(node, dict) or name not in node:
                return _MISSING
            node = node[name]
        elif kind == "k":
            field = path[index - 1][1]
            keys = _list_keys(field, node if isinstance(node, list) else [])
            node = next((item for item in node or () if isinstance(item, dict) and keys and _item_key(keys, item) == name), _MISSING)
            if node is _MISSING:
                return _MISSING
        else:
            return name if isinstance(node, list) and json.loads(name) in node else _MISSING
    return node


_MISSING = object()


def _changed_paths(old: dict | None, new: dict) -> set[tuple]:
    paths = field_paths(new)
    if old is None:
        return paths
    return {p for p in paths if _value_at(old, p) != _value_at(new, p)}


def _entries(obj: dict | None) -> list[dict]:
    return clone(((obj or {}).get("metadata") or {}).get("managedFields") or [])


def _entry(manager: str, operation: str, api_version: str, time: str, paths: set[tuple], subresource: str = "") -> dict:
    entry = {"manager": manager, "operation": operation, "apiVersion": api_version, "time": time,
             "fieldsType": "FieldsV1", "fieldsV1": paths_to_fields_v1(paths)}
    if subresource:
        entry["subresource"] = subresource
    return entry


def record_update_manager(old: dict | None, new: dict, manager: str, api_version: str, time: str) -> list[dict]:
    """The ``managedFields`` after ``manager`` wrote ``new`` over ``old`` with an update (or create).

    The manager takes the fields whose value it changed (other managers lose them); unchanged writes keep
    the list as it was.
    """
    entries = _entries(new) if (new.get("metadata") or {}).get("managedFields") is not None else _entries(old)
    changed = _changed_paths(old, new)
    if not changed:
        return entries
    result = []
    mine: set[tuple] = set(changed)
    for entry in entries:
        paths = fields_v1_to_paths(entry.get("fieldsV1") or {})
        if entry.get("manager") == manager and entry.get("operation") == "Update" and not entry.get("subresource"):
            mine |= paths
            continue
        paths -= changed
        if paths:
            entry["fieldsV1"] = paths_to_fields_v1(paths)
            result.append(entry)
    result.append(_entry(manager, "Update", api_version, time, mine))
    return result


# ------------------------------------------------------------------------------------------------ server-side apply

def server_side_apply(live: dict | None, applied: dict, field_manager: str, force: bool = False) -> dict:
    """Merge an apply configuration into the live object (or make the object to create when ``live`` is None).

    Returns the new object with ``metadata.managedFields`` updated for ``field_manager``; when nothing
    changes it returns the live object as it was (so the store keeps its resourceVersion). Raises ApiError
    409 Conflict when another manager owns a field with a different value, unless ``force``.
    """
    if not field_manager:
        raise errors.bad_request("PATCH with apply-patch+yaml requires a fieldManager: pass fieldManager=<name>")
    if not isinstance(applied, dict) or not applied.get("apiVersion") or not applied.get("kind"):
        raise errors.bad_request("invalid object: an apply configuration needs apiVersion and kind")
    applied = {k: clone(v) for k, v in applied.items() if k != "status"}
    applied_meta = applied.setdefault("metadata", {})
    applied_meta.pop("managedFields", None)
    api_version = applied["apiVersion"]
    applied_paths = field_paths(applied)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if live is None:
        result = applied
        result["metadata"]["managedFields"] = [_entry(field_manager, "Apply", api_version, now, applied_paths)]
        return result

    entries = _entries(live)
    previous: set[tuple] = set()
    others: list[tuple[dict, set[tuple]]] = []
    for entry in entries:
        paths = fields_v1_to_paths(entry.get("fieldsV1") or {})
        if entry.get("manager") == field_manager and entry.get("operation") == "Apply" and not entry.get("subresource"):
            previous = paths
        else:
            others.append((entry, paths))

    conflicts = []
    for entry, paths in others:
        if entry.get("subresource"):
            continue
        clashing = sorted(p for p in applied_paths & paths if _value_at(live, p) != _value_at(applied, p))
        if clashing:
            conflicts.append((entry, clashing))
    if conflicts and not force:
        raise _conflict_error(live, conflicts)

    result = _apply_merge(clone(live), applied)
    owned_by_others = set().union(*(paths for _entry, paths in others)) if others else set()
    removed = previous - applied_paths - owned_by_others
    for path in sorted(removed):
        if not any(path[:depth] in removed for depth in range(1, len(path))):
            _remove_path(result, path, applied_paths)

    new_entries = []
    changed_by_apply = {p for p in applied_paths if _value_at(live, p) != _value_at(applied, p)}
    for entry, paths in others:
        kept = paths - changed_by_apply
        if kept:
            if kept != paths:
                entry = dict(entry, fieldsV1=paths_to_fields_v1(kept))
            new_entries.append(entry)
    old_mine = next((e for e in entries if e.get("manager") == field_manager and e.get("operation") == "Apply"
                     and not e.get("subresource")), None)
    strip = {"managedFields"}
    if previous == applied_paths and old_mine is not None and _without_meta(result, strip) == _without_meta(live, strip):
        return clone(live)
    new_entries.insert(0, _entry(field_manager, "Apply", api_version, now, applied_paths))
    result["metadata"]["managedFields"] = new_entries
    return result


def _without_meta(obj: dict, fields: set[str]) -> dict:
    copy = dict(obj)
    copy["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in fields}
    return copy


def _conflict_error(live: dict, conflicts: list) -> errors.ApiError:
    causes, lines = [], []
    for entry, paths in conflicts:
        who = f'conflict with "{entry.get("manager")}"'
        if entry.get("operation") == "Update":
            who += f' using {entry.get("apiVersion")}'
        for path in paths:
            field = _path_text(path)
            causes.append({"reason": "FieldManagerConflict", "message": who, "field": field})
            lines.append((who, field))
    count = len(causes)
    if count == 1:
        message = f"Apply failed with 1 conflict: {lines[0][0]}: {lines[0][1]}"
    else:
        message = f"Apply failed with {count} conflicts: " + "\n".join(f"{who}: {field}" for who, field in lines)
    meta = live.get("metadata") or {}
    return errors.ApiError(409, "Conflict", message, {"name": meta.get("name", ""), "causes": causes})


def _path_text(path: tuple) -> str:
    text = ""
    for kind, name in path:
        text += f".{name}" if kind == "f" else f"[{name}]" if kind == "k" else f"[={name}]"
    return text


def _apply_merge(live, applied):
    """Merge an apply configuration into a live value: maps merge, associative lists by key, sets union."""
    if not isinstance(applied, dict) or not isinstance(live, dict):
        return clone(applied)
    for field, value in applied.items():
        current = live.get(field)
        if isinstance(value, dict):
            live[field] = _apply_merge(current, value) if isinstance(current, dict) and value else clone(value)
        elif isinstance(value, list) and field in SET_LISTS and isinstance(current, list):
            live[field] = current + [clone(v) for v in value if v not in current]
        elif isinstance(value, list) and _is_map_list(field, value) and isinstance(current, list):
            keys = _is_map_list(field, value)
            merged = list(current)
            for item in value:
                key = _item_key(keys, item)
                pos = next((i for i, old in enumerate(merged) if isinstance(old, dict) and _item_key(keys, old) == key), None)
                if pos is None:
                    merged.append(clone(item))
                else:
                    merged[pos] = _apply_merge(merged[pos], item)
            live[field] = merged
        else:
            live[field] = clone(value)
    return live


def _remove_path(obj: dict, path: tuple, keep: set[tuple]) -> None:
    """Remove the field (or list item) at ``path``; prune maps left empty by the removal unless applied (``keep``)."""
    parents = []
    node = obj
    for index, (kind, name) in enumerate(path[:-1]):
        parents.append(node)
        if kind == "f":
            node = node.get(name) if isinstance(node, dict) else None
        elif kind == "k":
            keys = _list_keys(path[index - 1][1], node if isinstance(node, list) else [])
            node = next((i for i in node or () if isinstance(i, dict) and keys and _item_key(keys, i) == name), None)
        else:
            return
        if node is None:
            return
    kind, name = path[-1]
    if kind == "f" and isinstance(node, dict):
        node.pop(name, None)
    elif kind == "k" and isinstance(node, list):
        keys = _list_keys(path[-2][1], node)
        node[:] = [i for i in node if not (isinstance(i, dict) and keys and _item_key(keys, i) == name)]
    elif kind == "v" and isinstance(node, list):
        value = json.loads(name)
        node[:] = [i for i in node if i != value]
    # prune empty maps upwards
    for depth in range(len(path) - 1, 0, -1):
        kind, name = path[depth - 1]
        parent = parents[depth - 1]
        if kind == "f" and isinstance(parent, dict) and parent.get(name) in ({}, []) and path[:depth] not in keep:
            del parent[name]
        else:
            break
