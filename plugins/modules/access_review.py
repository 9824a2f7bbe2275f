#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: access_review
short_description: Prove, before any write, that the identity in use holds every permission the chosen stages need
version_added: 0.2.0
description:
  - Asks the API server, with one SelfSubjectAccessReview per permission, whether the identity in use (its token,
    certificate or impersonated user) may do everything the chosen stages of the upgrade or the rollback will do,
    with the chosen installer.
  - The permissions checked are those of the collection's shipped RBAC rules (see M(meshops.istio.operator_rbac) and
    docs/rbac.md); one list serves both, so the check and the rules cannot disagree.
  - Fails listing every missing permission at once (verb, resource, namespace, the rule set that grants it and the
    stages that need it) and writes nothing. A SelfSubjectAccessReview persists nothing, so the module runs the same
    in check mode.
author:
  - meshops.istio maintainers (@meshops)
options:
  stages:
    description:
      - The stages to check. When not given, they are derived from O(entry_point), O(run_tags) and O(finalize).
    type: list
    elements: str
    choices: [preflight, control_plane, data_plane, gateways, verify, finalize, rollback]
  entry_point:
    description: V(upgrade) (playbooks/upgrade.yml) or V(rollback) (playbooks/rollback.yml).
    type: str
    choices: [upgrade, rollback]
    default: upgrade
  run_tags:
    description: The tags the play runs with (C(ansible_run_tags)); V(all) runs every stage.
    type: list
    elements: str
    default: [all]
  finalize:
    description: Whether the run finalizes (C(istio_upgrade_finalize)).
    type: bool
    default: false
  installers:
    description:
      - The installers of the control planes, whose permissions are checked too - the target's, and the source's
        when it differs (finalize removes the source control plane with the installer that installed it).
    type: list
    elements: str
    choices: [manifest, helm, istioctl]
    default: [manifest]
  namespace:
    description: The control plane's namespace, where the namespaced permissions are checked.
    type: str
    default: istio-system
extends_documentation_fragment:
  - meshops.istio.connection
  - meshops.istio.attributes
  - meshops.istio.attributes.check_mode_read_only
  - meshops.istio.attributes.diff_mode_none
"""

EXAMPLES = r"""
- name: Prove the permissions of the whole upgrade with the helm installer
  meshops.istio.access_review:
    run_tags: "{{ ansible_run_tags }}"
    finalize: "{{ istio_upgrade_finalize }}"
    installers: [helm]

- name: Prove the permissions of a rollback
  meshops.istio.access_review:
    entry_point: rollback
"""

RETURN = r"""
stages:
  description: The stages checked.
  returned: always
  type: list
  elements: str
  sample: [preflight, control_plane, data_plane, gateways, verify]
checked:
  description: How many permissions were checked (one SelfSubjectAccessReview each).
  returned: always
  type: int
  sample: 96
missing:
  description: The permissions the identity does not hold, with the stages that need them.
  returned: always
  type: list
  elements: dict
  contains:
    verb: {description: The verb, type: str, sample: patch}
    group: {description: "The API group, empty for the core group", type: str, sample: ""}
    resource: {description: The resource, type: str, sample: namespaces}
    namespace: {description: "The namespace, empty for every namespace (cluster-wide)", type: str, sample: ""}
    stages: {description: The stages that need it, type: list, elements: str, sample: [data_plane, rollback]}
    rule_set: {description: The shipped rule set that grants it, type: str, sample: upgrade}
"""

from ansible_collections.meshops.istio.plugins.module_utils.istio import permissions as perms
from ansible_collections.meshops.istio.plugins.module_utils.k8s.access import missing_permissions
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.module import MeshModule, run_module

ARGUMENT_SPEC = {
    "stages": {"type": "list", "elements": "str", "choices": list(perms.STAGES)},
    "entry_point": {"type": "str", "choices": ["upgrade", "rollback"], "default": "upgrade"},
    "run_tags": {"type": "list", "elements": "str", "default": ["all"]},
    "finalize": {"type": "bool", "default": False},
    "installers": {"type": "list", "elements": "str", "choices": list(perms.INSTALLERS), "default": ["manifest"]},
    "namespace": {"type": "str", "default": "istio-system"},
}


def run(module: MeshModule) -> dict:
    """Review every permission the stages need; fail listing all that are missing."""
    params = module.params
    stages = params["stages"] or perms.stages_for(params["entry_point"], params["run_tags"], params["finalize"])
    needed = perms.required(stages, params["installers"], params["namespace"])
    missing = missing_permissions(module.api, needed)
    if missing:
        raise MeshError("the identity in use lacks %d permission(s) that the stages %s need, so nothing was changed:\n- %s\n"
                        "Grant them with the collection's rules (playbooks/rbac.yml, docs/rbac.md) or connect as another user"
                        % (len(missing), ", ".join(stages), "\n- ".join(perms.describe_missing(entry) for entry in missing)),
                        missing=missing, stages=stages, checked=len(needed))
    return {"changed": False, "msg": "%d permissions of the stages %s are held" % (len(needed), ", ".join(stages)),
            "stages": stages, "checked": len(needed), "missing": []}


def main() -> None:
    """Run the module."""
    run_module(run, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
