# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CRD step of ``mesh_control_plane`` (``state=present``): bring Istio's CRDs to the target's, only ever forward.

Each installer gives the target's CRDs (``target_crds()``): the manifest installer the CRDs in its manifest, helm the
base chart rendered with ``helm template``, istioctl ``istioctl manifest generate``. The plan (which CRD is created,
upgraded, kept) is Istio's rule in ``istio/crds.py``; every problem is found before the first write. The installer
then applies (``apply_crds``): the manifest installer with server-side apply of exactly the CRDs to create or upgrade,
helm with ``helm upgrade`` of the base chart's release (Istio's upgrade docs), istioctl with ``istioctl install``
(which applies its CRDs itself). A rollback (``state=absent``) never touches CRDs.
"""

from __future__ import annotations

from ansible_collections.meshops.istio.plugins.module_utils.istio import crds as C
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import parse_version
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError

UPGRADE, SKIP = "upgrade", "skip"


def cluster_crds(api) -> list[dict]:
    """Istio's CRDs in the cluster (one LIST of CustomResourceDefinitions)."""
    return [obj for obj in api.list(R.CUSTOM_RESOURCE_DEFINITIONS.path()) if C.is_istio_crd(obj)]


def plan(api, installer, version: str | None, installing: bool) -> tuple[list[C.CrdStep], list[dict]]:
    """(the steps, the target's CRDs); MeshError, before any write, when the plan is not safe.

    ``installing``: the revision is (re)installed in this run (istioctl then applies its CRDs whatever the plan).
    """
    target = [obj for obj in installer.target_crds() if C.is_istio_crd(obj)]
    current = cluster_crds(api)
    steps = C.crd_plan(current, target, parse_version(version))
    problems = C.plan_problems(steps, installer.crd_tool, runs_anyway=installing and installer.crds_with_install)
    if not problems and C.applies(steps):
        problems = installer.crd_problems(current, steps)
    if problems:
        raise MeshError("Istio's CRDs cannot be brought to the target's, nothing was changed: %s" % "; ".join(problems),
                        problems=problems, crds=[step.as_dict() for step in steps])
    return steps, target


def result(steps: list[C.CrdStep], mode: str, check_mode: bool) -> dict:
    """The module's ``crds`` return value."""
    if mode == SKIP:
        return {"mode": SKIP, "changed": False, "msg": "CRDs left as they are (crds=skip)", "steps": []}
    text = C.summary(steps)
    if check_mode and C.applies(steps):
        text = text.replace(" upgraded", " would be upgraded").replace(" created", " would be created")
    return {"mode": mode, "changed": C.applies(steps), "msg": text, "steps": [step.as_dict() for step in steps],
            "upgraded": C.names(steps, C.UPGRADE), "created": C.names(steps, C.CREATE),
            "kept_newer": C.names(steps, C.NEWER)}


def diff(steps: list[C.CrdStep]) -> tuple[dict, dict]:
    """(before, after) releases of the CRDs that change, for ``--diff``."""
    changing = [step for step in steps if step.action in C.APPLIED]
    return C.versions(changing, "cluster"), C.versions(changing, "after")


def server_side_apply(api, resolver, crd_objects: list[dict], steps: list[C.CrdStep], dry_run: bool,
                      field_manager: str) -> None:
    """Apply (server-side, ``force``) the CRDs the steps create or upgrade; a CRD without a version marker gets the
    target's release as label ``app.kubernetes.io/version`` so that the next run can compare it."""
    by_name = {C.crd_name(obj): obj for obj in crd_objects}
    for step in steps:
        if step.action not in C.APPLIED:
            continue
        obj = by_name[step.name]
        meta = {key: value for key, value in (obj.get("metadata") or {}).items() if key != "namespace"}
        if C.crd_version(obj) is None:
            meta["labels"] = dict(meta.get("labels") or {}, **{C.VERSION_LABEL: step.target})
        obj = dict(obj, metadata=meta)
        resource = resolver.resolve(obj["apiVersion"], obj["kind"])
        api.patch(resource.path(None, step.name), obj, "apply", dry_run=dry_run, field_manager=field_manager, force=True)
