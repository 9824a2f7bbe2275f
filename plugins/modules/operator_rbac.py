#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: operator_rbac
short_description: Grant the identity that runs the upgrade the least privilege it needs (ClusterRoles, Roles, bindings)
version_added: 0.2.0
description:
  - Applies (server-side) the collection's least-privilege rules for the identity that runs the playbooks, bound to
    O(subject) (a ServiceAccount, a user or a group), or removes them.
  - The rules are split into rule sets, each a ClusterRole for what is needed cluster-wide and a Role in the control
    plane's namespace O(namespace) for what is needed there only, named C(meshops-istio-<set>) with a binding of the
    same name - V(read) (every stage, M(meshops.istio.mesh_info), M(meshops.istio.sidecar_audit)), V(upgrade) (the
    writes of the stages), and C(installer-<name>) for each installer of O(installers).
  - The same list of permissions is what M(meshops.istio.access_review) checks at preflight. See docs/rbac.md for
    every rule and why it is needed.
  - "Applying the installer rule sets needs the right to grant them: the API server refuses a role or binding that
    grants permissions its writer does not hold, unless the writer has C(escalate) and C(bind) on roles; a
    cluster-admin applies them once."
  - Only the objects that differ are written; a second run reports no change.
author:
  - meshops.istio maintainers (@meshops)
options:
  subject:
    description: Who the rules are bound to.
    type: dict
    required: true
    suboptions:
      kind:
        description: The subject's kind.
        type: str
        choices: [ServiceAccount, User, Group]
        default: ServiceAccount
      name:
        description: The subject's name.
        type: str
        required: true
      namespace:
        description: The ServiceAccount's namespace (only for O(subject.kind=ServiceAccount)).
        type: str
        default: istio-system
  installers:
    description: The installers whose rule sets are granted (none for O(read_only=true)).
    type: list
    elements: str
    choices: [manifest, helm, istioctl]
    default: [manifest]
  read_only:
    description: Grant only the V(read) rule set (M(meshops.istio.mesh_info), M(meshops.istio.sidecar_audit)).
    type: bool
    default: false
  namespace:
    description: The control plane's namespace, where the Roles and RoleBindings are.
    type: str
    default: istio-system
  create_service_account:
    description: Create the ServiceAccount O(subject) when it does not exist.
    type: bool
    default: true
  state:
    description: V(present) applies the rules and bindings, V(absent) removes them (bindings first).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - meshops.istio.connection
  - meshops.istio.attributes
  - meshops.istio.attributes.check_mode
  - meshops.istio.attributes.diff_mode
"""

EXAMPLES = r"""
- name: Grant the ServiceAccount istio-system/mesh-upgrader what an upgrade with helm needs
  meshops.istio.operator_rbac:
    subject: {kind: ServiceAccount, name: mesh-upgrader, namespace: istio-system}
    installers: [helm]

- name: Let the SRE group read the mesh (mesh_info, sidecar_audit) and nothing more
  meshops.istio.operator_rbac:
    subject: {kind: Group, name: sre}
    read_only: true
"""

RETURN = r"""
objects:
  description: The ClusterRoles, Roles and bindings of the rule sets, as applied (or to remove).
  returned: always
  type: list
  elements: dict
changed_objects:
  description: The objects created, changed or removed (C(Kind/namespace/name)).
  returned: always
  type: list
  elements: str
  sample: [ClusterRole/meshops-istio-read, Role/istio-system/meshops-istio-read]
rule_sets:
  description: The rule sets granted.
  returned: always
  type: list
  elements: str
  sample: [read, upgrade, installer-manifest]
"""

from ansible_collections.meshops.istio.plugins.module_utils.istio import permissions as perms
from ansible_collections.meshops.istio.plugins.module_utils.k8s import access
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.module import MeshModule, diff_of, run_module

ARGUMENT_SPEC = {
    "subject": {"type": "dict", "required": True, "options": {
        "kind": {"type": "str", "choices": ["ServiceAccount", "User", "Group"], "default": "ServiceAccount"},
        "name": {"type": "str", "required": True},
        "namespace": {"type": "str", "default": "istio-system"},
    }},
    "installers": {"type": "list", "elements": "str", "choices": list(perms.INSTALLERS), "default": ["manifest"]},
    "read_only": {"type": "bool", "default": False},
    "namespace": {"type": "str", "default": "istio-system"},
    "create_service_account": {"type": "bool", "default": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def run(module: MeshModule) -> dict:
    """Apply or remove the rule sets' objects."""
    params = module.params
    subject = params["subject"]
    installers = [] if params["read_only"] else params["installers"]
    if not params["read_only"] and not installers:
        raise MeshError("installers is empty: name the installer(s) the upgrade uses (manifest, helm, istioctl), "
                        "or set read_only=true")
    sets = perms.rule_sets(installers, params["read_only"])
    objects = perms.rbac_objects(subject, sets, params["namespace"])
    results = {"objects": objects, "rule_sets": list(sets)}
    if params["state"] == "absent":
        removed, before = access.delete_objects(module.api, objects, module.dry_run)
        return dict(results, changed=bool(removed), changed_objects=removed, diff=diff_of(before, []),
                    msg="removed %s" % ", ".join(removed) if removed else "the rules of %s are absent" % ", ".join(sets))
    changed = []
    if subject["kind"] == "ServiceAccount" and params["create_service_account"]:
        if access.ensure_service_account(module.api, subject["namespace"], subject["name"], module.dry_run):
            changed.append("ServiceAccount/%s/%s" % (subject["namespace"], subject["name"]))
    applied, before, after = access.apply_objects(module.api, objects, module.dry_run)
    changed += applied
    who = "%s %s" % (subject["kind"], subject["name"] if subject["kind"] != "ServiceAccount"
                     else "%s/%s" % (subject["namespace"], subject["name"]))
    msg = ("%s now holds the rule sets %s (%s)" % (who, ", ".join(sets), ", ".join(changed)) if changed
           else "%s already holds the rule sets %s" % (who, ", ".join(sets)))
    return dict(results, changed=bool(changed), changed_objects=changed, diff=diff_of(before, after), msg=msg)


def main() -> None:
    """Run the module."""
    run_module(run, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
