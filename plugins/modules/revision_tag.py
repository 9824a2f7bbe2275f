#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: revision_tag
short_description: Point an Istio revision tag at a control plane revision, or remove it, as istioctl tag does
version_added: 0.1.0
description:
  - Like C(istioctl tag set) and C(istioctl tag remove). A revision tag is an alias that namespaces (or pods) name in
    their C(istio.io/rev) label; moving the tag moves, at their next restart, every workload that uses it, without
    relabelling.
  - O(state=present) creates or updates the MutatingWebhookConfiguration C(istio-revision-tag-<tag>) (labels
    C(istio.io/tag), C(istio.io/rev), C(app=sidecar-injector); webhooks C(rev.namespace.) and C(rev.object.), and
    for the tag V(default) also C(namespace.) and C(object.)), rendered from the revision's own webhook as istioctl
    does, so that it calls the revision's injector with its caBundle. For revisions of Istio 1.28 and later it also
    writes the Service C(istiod-revision-tag-<tag>); for older ones it deletes that Service if present.
  - For the tag V(default) it also writes C(istiod-default-validator), calling the revision's C(/validate), and
    deactivates the untagged default webhook C(istio-sidecar-injector) (its selectors never match) so that no pod
    is injected twice. The default tag is the default revision; it injects C(istio-injection=enabled) namespaces and
    C(sidecar.istio.io/inject=true) pods, and validates Istio configuration.
  - O(state=absent) deletes the MutatingWebhookConfigurations, ValidatingWebhookConfigurations and Services labelled
    C(istio.io/tag=<tag>), and refuses while namespaces or pods still use the tag, unless O(force).
  - Labels containing C(operator.istio.io) are never added, so that uninstalling a revision does not prune a tag the
    module creates. The labels an existing tag object already has are kept (those its installer set, such as the
    chart's C(operator.istio.io/component) and C(install.operator.istio.io/owning-resource), included), and only the
    labels above are changed, as C(istioctl tag set --overwrite) leaves them. A move and the move back give the
    object its labels of before.
  - Reads with one LIST request per kind (istiod Deployments, both kinds of webhook configurations, the tag's
    Services, namespaces, and for O(state=absent) the pods labelled with the tag); writes only what changes.
author:
  - meshops.istio maintainers (@meshops)
options:
  tag:
    description:
      - The tag, a DNS-1123 label of at most 43 characters. It may not be the name of an installed revision
        (V(default) excepted).
    type: str
    required: true
  revision:
    description:
      - The revision the tag points at (V(default) for the non-revisioned istiod). It must be installed in
        O(namespace), with its own MutatingWebhookConfiguration. Required for O(state=present).
    type: str
  state:
    description: V(present) points the tag at O(revision); V(absent) removes the tag.
    type: str
    choices: [present, absent]
    default: present
  namespace:
    description: Namespace of the control plane (istiod and the tag's Service).
    type: str
    default: istio-system
  overwrite:
    description:
      - Whether an existing tag may be moved to another revision. When false, a tag that points elsewhere makes the
        module fail. C(istioctl tag set) defaults to false; this module defaults to true, because moving tags is
        what an upgrade and its rollback do.
    type: bool
    default: true
  require_ready:
    description:
      - Refuse to point the tag at a revision whose istiod is not ready. Pods of namespaces on the tag could not be
        created while the injector they call does not answer (the webhooks fail closed).
    type: bool
    default: true
  force:
    description: With O(state=absent), remove the tag even though namespaces or pods still use it (they lose
      injection at their next restart).
    type: bool
    default: false
extends_documentation_fragment:
  - meshops.istio.connection
  - meshops.istio.attributes
  - meshops.istio.attributes.check_mode
  - meshops.istio.attributes.diff_mode
notes:
  - Removing the V(default) tag does not reactivate the untagged default webhook; point the tag at a revision
    instead.
"""

EXAMPLES = r"""
- name: Move the prod-stable tag to the new revision
  meshops.istio.revision_tag:
    tag: prod-stable
    revision: 1-29-2
  register: moved

- name: Make 1-29-2 the default revision (injection for istio-injection=enabled, and config validation)
  meshops.istio.revision_tag:
    tag: default
    revision: 1-29-2

- name: Create a tag only if it does not exist yet, as istioctl tag set does without --overwrite
  meshops.istio.revision_tag:
    tag: canary
    revision: 1-29-2
    overwrite: false

- name: Remove a tag that namespaces no longer use
  meshops.istio.revision_tag:
    tag: canary
    state: absent
"""

RETURN = r"""
msg:
  description: One-line summary.
  returned: always
  type: str
  sample: "tag prod-stable moved from 1-27-3 to 1-29-2: MutatingWebhookConfiguration/istio-revision-tag-prod-stable updated,
    Service/istiod-revision-tag-prod-stable created"
tag:
  description: The tag.
  returned: always
  type: str
  sample: prod-stable
revision:
  description: The revision the tag points at after the call; null when it does not exist.
  returned: always
  type: str
  sample: 1-29-2
previous_revision:
  description: The revision the tag pointed at before the call; null when it did not exist.
  returned: always
  type: str
  sample: 1-27-3
version:
  description: The Istio version of RV(revision), read from its istiod image; null when unknown or absent.
  returned: always
  type: str
  sample: 1.29.2
namespaces:
  description:
    - The namespaces that use the tag, that is whose new pods its webhooks inject. C(istio.io/rev=<tag>) without
      C(istio-injection), which takes precedence; for V(default) also C(istio-injection=enabled).
  returned: always
  type: list
  elements: str
  sample: [tagged]
objects:
  description: The objects of the tag and what the call did to each.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: Kind of the object.
      type: str
      sample: MutatingWebhookConfiguration
    name:
      description: Name of the object.
      type: str
      sample: istio-revision-tag-prod-stable
    namespace:
      description: Namespace of the object; null for cluster-scoped ones.
      type: str
      sample: null
    action:
      description: V(created), V(updated), V(deactivated), V(deleted) or V(unchanged) (in check mode, what would be done).
      type: str
      sample: updated
"""

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio import tags
from ansible_collections.meshops.istio.plugins.module_utils.istio.inuse import namespaces_using_tag
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.module import MeshModule, diff_of, run_module
from ansible_collections.meshops.istio.plugins.module_utils.mesh_reads.snapshot import read_control_plane

ARGUMENT_SPEC = {
    "tag": {"type": "str", "required": True},
    "revision": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "namespace": {"type": "str", "default": L.ISTIO_SYSTEM},
    "overwrite": {"type": "bool", "default": True},
    "require_ready": {"type": "bool", "default": True},
    "force": {"type": "bool", "default": False},
}
REQUIRED_IF = [("state", "present", ("revision",))]
RESOURCES = {tags.MUTATING: R.MUTATING_WEBHOOKS, tags.VALIDATING: R.VALIDATING_WEBHOOKS, tags.SERVICE: R.SERVICES}


def run(module: MeshModule) -> dict:
    """Read the control plane and the tag's objects, plan (istio/tags.py), then write what changes."""
    params = module.params
    tag, namespace = params["tag"], params["namespace"]
    problems = tags.option_problems(tag, params["revision"], params["state"])
    if problems:
        raise MeshError("invalid options for tag %s: %s" % (tag, "; ".join(problems)), problems=problems)

    snapshot = read_control_plane(module.api)
    services = module.api.list(R.SERVICES.path(namespace), label_selector="%s=%s" % (L.TAG, tag))
    namespaces = namespaces_using_tag(module.api.list(R.NAMESPACES.path()), tag)
    current = snapshot.control_plane.tags.get(tag)
    previous = current.revision if current else None
    if params["state"] == "absent":
        plan = tags.plan_absent(tag, snapshot.mutating_webhooks, snapshot.validating_webhooks, services)
        if plan.steps and not params["force"]:
            pods = module.api.list(R.PODS.path(), label_selector="%s=%s" % (L.REV, tag))
            problem = tags.removal_problem(tag, namespaces, pods)
            if problem:
                raise MeshError(problem, namespaces=namespaces, pods=len(pods))
        after = None
    else:
        plan, problem = tags.plan_present(tag, params["revision"], namespace, snapshot.control_plane,
                                          snapshot.mutating_webhooks, snapshot.validating_webhooks, services,
                                          params["overwrite"], params["require_ready"])
        if problem:
            raise MeshError(problem)
        after = rev.canonical(params["revision"])
    _execute(module, plan)
    found = snapshot.control_plane.revisions.get(after) if after else None
    objects = plan.objects()
    return {
        "changed": plan.changed,
        "msg": _message(module, tag, previous, after, objects),
        "tag": tag,
        "revision": after,
        "previous_revision": previous,
        "version": found.version.release if found and found.version else None,
        "namespaces": namespaces,
        "objects": objects,
        "diff": diff_of(_shown(previous, [o for o in objects if o["action"] not in ("created",)]),
                        _shown(after, [o for o in objects if o["action"] != "deleted"])),
    }


def _execute(module: MeshModule, plan: tags.TagPlan) -> None:
    api, dry_run = module.api, module.dry_run
    for action, kind, existing, body in plan.steps:
        if action == tags.UNCHANGED:
            continue
        resource = RESOURCES[kind]
        meta = (body or existing)["metadata"]
        namespace = meta.get("namespace") if resource.namespaced else None
        if action == tags.CREATED:
            api.create(resource.path(namespace), body, dry_run=dry_run)
        elif action == tags.DELETED:
            api.delete(resource.path(namespace, meta["name"]), dry_run=dry_run, missing_ok=True)
        else:
            api.replace(resource.path(namespace, meta["name"]), body, dry_run=dry_run)


def _shown(revision: str | None, objects: list) -> dict:
    return {"revision": revision, "objects": sorted("%s/%s" % (o["kind"], o["name"]) for o in objects)}


def _message(module: MeshModule, tag: str, previous: str | None, after: str | None, objects: list) -> str:
    would = "would be " if module.check_mode else ""
    if after is None:
        if not objects:
            return "tag %s does not exist; nothing to remove" % tag
        head = "tag %s %sremoved%s" % (tag, would, " (pointed at %s)" % previous if previous else "")
    elif previous is None:
        head = "tag %s %screated, pointing at %s" % (tag, would, after)
    elif previous != after:
        head = "tag %s %smoved from %s to %s" % (tag, would, previous, after)
    else:
        head = "tag %s points at %s" % (tag, after)
    changes = ["%s/%s %s" % (o["kind"], o["name"], o["action"]) for o in objects if o["action"] != "unchanged"]
    return head + (": " + ", ".join(changes) if changes else "; nothing to change")


def main() -> None:
    """Run the module."""
    run_module(run, ARGUMENT_SPEC, required_if=REQUIRED_IF)


if __name__ == "__main__":
    main()
