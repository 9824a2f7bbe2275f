#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_control_plane
short_description: Install, check and remove one istiod revision (the control plane of a canary upgrade)
version_added: 0.1.0
description:
  - Installs an istiod revision beside the ones already running, waits until it is ready, and removes it again.
    Nothing else moves; namespaces, gateways and workloads keep the revision they use.
  - O(state=present) does nothing when the revision already runs the version asked for (and, for the manifest and
    helm installers, with the same input); installs it when missing; refuses a different version under an existing
    revision name unless O(allow_in_place=true).
  - O(state=absent) refuses while the revision is in use and lists what uses it (RV(in_use)), that is namespaces whose
    labels select it (directly, through a tag, or as the default revision with C(istio-injection=enabled)), running
    pods with a sidecar it injected, gateways on it, revision tags pointing at it and C(istiod-default-validator)
    pointing at it. O(force=true) removes it anyway, with a warning.
  - Every check (revision name, namespace, manifest ownership, installer version, version under an existing name,
    in use) runs before the first write.
  - Reads the control plane with one LIST each of istiod Deployments and webhook configurations; O(state=absent)
    adds one LIST each of namespaces, pods and Deployments for the in-use report.
author:
  - meshops.istio maintainers (@meshops)
options:
  revision:
    description:
      - The revision name (a DNS-1123 label of at most 56 characters, for example V(1-29-2) or V(canary)).
      - Derived from O(version) when not given (V(1.29.2) becomes V(1-29-2)). One of O(revision) and O(version)
        is required.
    type: str
  version:
    description:
      - The Istio version the revision runs, for example V(1.29.2).
      - With O(installer=manifest) it must match the manifest's istiod image; with O(installer=istioctl) the
        istioctl binary's version; with O(installer=helm) it is passed to the chart as C(global.tag).
      - When omitted, the version is read from the manifest or from istioctl, or left to the chart's default.
    type: str
  state:
    description: Whether the revision is installed (V(present)) or removed (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  namespace:
    description: The namespace of the control plane. It must exist for O(state=present).
    type: str
    default: istio-system
  installer:
    description:
      - How the revision is installed and removed.
      - V(manifest) applies pre-rendered YAML (the output of C(helm template) or C(istioctl manifest generate) for
        this revision) with server-side apply (field manager C(meshops.istio)) and records the objects applied in
        the ConfigMap C(meshops-istio-manifest-<revision>) in O(namespace); O(state=absent) deletes exactly those.
      - V(helm) runs C(helm upgrade --install) and C(helm uninstall) for the istiod chart.
      - V(istioctl) runs C(istioctl install --set revision=<revision> -y) and C(istioctl uninstall --revision
        <revision> -y).
    type: str
    choices: [manifest, helm, istioctl]
    default: manifest
  manifests:
    description:
      - Paths of YAML files (multi-document) rendered for this revision. O(installer=manifest) only.
      - Every object must belong to the revision (the Deployment is C(istiod-<revision>), the webhook
        configuration C(istio-sidecar-injector-<revision>), every C(istio.io/rev) label names the revision);
        revision tags and C(istiod-default-validator) are refused because other revisions share them.
      - Istio's CRDs in the manifest go to the CRD step (O(crds)), never to the revision's record, so that removing the
        revision keeps them; CRDs of other groups are refused.
    type: list
    elements: path
  manifest_content:
    description: The manifest as YAML text, or as a list of objects. O(installer=manifest) only; adds to O(manifests).
    type: raw
  chart_ref:
    description: The istiod chart, as a reference (V(istio/istiod), an OCI reference) or a directory. Required for
      O(installer=helm) with O(state=present).
    type: str
  chart_version:
    description: The chart version (C(helm --version)). O(installer=helm) only.
    type: str
  values:
    description:
      - Chart values. O(installer=helm) only. C(revision) is always set to the revision and C(global.tag) to
        O(version); values that contradict them are refused.
    type: dict
  values_files:
    description: Values files, applied before O(values). O(installer=helm) only.
    type: list
    elements: path
  release_name:
    description: The Helm release. O(installer=helm) only. Default C(istiod-<revision>).
    type: str
  helm_binary:
    description: The helm executable (a path or a command on E(PATH)); default C(helm). O(installer=helm) only.
    type: str
  istioctl_binary:
    description: The istioctl executable (a path or a command on E(PATH)); default C(istioctl). O(installer=istioctl) only.
    type: str
  istio_operator_file:
    description: An IstioOperator file passed to C(istioctl install -f). O(installer=istioctl) only.
    type: path
  crds:
    description:
      - What O(state=present) does with Istio's CustomResourceDefinitions (group C(istio.io) or C(*.istio.io), shared
        by every revision), before it installs the revision, as Istio's upgrade procedure does.
      - V(upgrade) brings them to the target's release, only ever forward. The release of a CRD is its label
        C(app.kubernetes.io/version) (set by Istio's base chart, which C(helm) and C(istioctl) install), else
        C(operator.istio.io/version) (set by C(istioctl install)). A CRD missing from the cluster is created, an older
        one upgraded, one of the same or a newer release kept. A cluster CRD without either label is refused (its release
        cannot be told; label it with its release, or use V(skip)). CRDs are never deleted, and O(state=absent) (a
        rollback) never touches them.
      - With O(installer=manifest) the target's CRDs are those in the manifest (for example Istio's base chart rendered
        with C(helm template), or C(crd-all.gen.yaml), whose CRDs then take the revision's version); each CRD to create
        or upgrade is applied with server-side apply, and gets the label C(app.kubernetes.io/version) when it has none.
        A manifest without CRDs leaves them as they are.
      - With O(installer=helm) the target's CRDs are Istio's base chart (O(base_chart_ref), O(chart_version)) rendered
        with the values of its release O(base_release_name); when some must change, the release is upgraded with
        C(helm upgrade <base_release_name> <base_chart_ref>) and its values kept, as Istio's helm upgrade docs do. This
        is refused while any cluster CRD is newer than the target's (helm would replace it with the older one), when the
        release does not exist, or when it does not own a CRD to upgrade.
      - With O(installer=istioctl) the target's CRDs are those of C(istioctl manifest generate); C(istioctl install)
        applies them itself, and is refused while any cluster CRD is newer than istioctl's. istioctl applies its CRDs
        with every install, so V(skip) is refused with it.
      - V(skip) leaves the CRDs as they are (the manifest's CRDs are then ignored).
    type: str
    choices: [upgrade, skip]
    default: upgrade
  base_chart_ref:
    description:
      - Istio's base chart, whose release O(base_release_name) holds the CRDs. O(installer=helm) only; O(chart_version)
        applies to it too.
      - Default from O(chart_ref), V(istio/istiod) -> V(istio/base), C(oci://.../istiod) -> C(oci://.../base), a
        directory C(.../istio-control/istio-discovery) -> C(.../base).
    type: str
  base_release_name:
    description: The Helm release of Istio's base chart, by default C(istio-base) (the name in Istio's docs). O(installer=helm) only.
    type: str
  allow_in_place:
    description: Allow changing the version of an existing revision in place (the istiod pods restart).
    type: bool
    default: false
  force:
    description: Remove the revision even while it is in use (a warning lists the users).
    type: bool
    default: false
  assume_default_revision:
    description:
      - With O(state=absent), check the removal as it will be once the tag C(default) and C(istiod-default-validator)
        point at this revision, as finalizing an upgrade moves them (M(meshops.istio.revision_tag) with tag
        V(default)) just before it removes the earlier revision. Namespaces with C(istio-injection=enabled) or
        C(istio.io/rev=default), and gateways labelled C(istio.io/rev=default), then count for this revision.
      - In check mode the removal is planned on that assumption, so a dry run before the move shows what the real
        run does after it. Otherwise the module fails, removing nothing, unless the default tag and the validator
        do point at it.
      - It must be an installed revision other than O(revision).
    type: str
  wait:
    description:
      - Wait until the istiod Deployment has rolled out, as C(kubectl rollout status) reads it, and then check that
        its injector webhook configuration exists. A Deployment past its progress deadline (C(ProgressDeadlineExceeded))
        fails at once with kubectl's message. Not done in check mode.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait; on timeout the module fails with what it saw.
    type: int
    default: 300
notes:
  - helm and istioctl get the connection as C(--kubeconfig) and C(--kube-context) (istioctl C(--context)) when
    only O(kubeconfig) and O(context) are set. Any other connection option (O(host), O(api_key), certificates,
    O(validate_certs), O(proxy), impersonation) is resolved as for the module's own requests and written to a
    temporary kubeconfig file (mode 0600, removed at the end), so a token never appears on a command line.
  - In check mode the manifest installer sends its writes with C(dryRun=All); helm only renders (C(helm template))
    and reads (C(helm get)); istioctl only runs C(istioctl version --remote=false) and C(istioctl manifest generate).
  - O(crds=upgrade) adds one LIST of CustomResourceDefinitions.
extends_documentation_fragment:
  - meshops.istio.connection
  - meshops.istio.attributes
  - meshops.istio.attributes.check_mode
  - meshops.istio.attributes.diff_mode
"""

EXAMPLES = r"""
- name: Install revision 1-29-2 beside the running one, from a manifest rendered with helm template
  meshops.istio.mesh_control_plane:
    version: 1.29.2
    manifests:
      - /srv/istio/istiod-1-29-2.yaml
  register: canary

- name: Install the canary with helm
  meshops.istio.mesh_control_plane:
    revision: canary
    version: 1.29.2
    installer: helm
    chart_ref: istio/istiod
    chart_version: 1.29.2
    values:
      pilot:
        resources:
          requests:
            cpu: 200m

- name: Install with istioctl (the binary's version is the version installed)
  meshops.istio.mesh_control_plane:
    version: 1.29.2
    installer: istioctl
    istioctl_binary: /opt/istio-1.29.2/bin/istioctl

- name: Install with helm; the CRDs come from the base chart's release istio-base (helm upgrade, as Istio's docs say)
  meshops.istio.mesh_control_plane:
    version: 1.29.2
    installer: helm
    chart_ref: istio/istiod
    chart_version: 1.29.2
    base_chart_ref: istio/base
    crds: upgrade

- name: Install from a manifest that also holds the base chart's CRDs (helm template istio-base istio/base)
  meshops.istio.mesh_control_plane:
    version: 1.29.2
    manifests:
      - /srv/istio/base-1.29.2.yaml
      - /srv/istio/istiod-1-29-2.yaml

- name: Remove the old revision once nothing uses it
  meshops.istio.mesh_control_plane:
    revision: 1-28-1
    state: absent
  register: removed

- name: Before moving the default revision to 1-29-2, prove that 1-28-1 can be removed afterwards (dry run)
  meshops.istio.mesh_control_plane:
    revision: 1-28-1
    state: absent
    assume_default_revision: 1-29-2
  check_mode: true

- name: Show what still uses it (when the removal was refused)
  ansible.builtin.debug:
    var: removed.in_use
  when: removed is failed
"""

RETURN = r"""
msg:
  description: One-line summary.
  returned: always
  type: str
  sample: "revision 1-29-2 (1.29.2) installed with manifest: 15 objects; ready"
revision:
  description: The revision.
  returned: always
  type: str
  sample: 1-29-2
version:
  description: The Istio version of the revision (asked for, or read from the manifest, istioctl or the cluster).
  returned: always
  type: str
  sample: 1.29.2
installer:
  description: The installer used.
  returned: always
  type: str
  sample: manifest
action:
  description:
    - What was done (or, in check mode, would be done). V(install), V(in_place) (another version changed in
      place), V(reapply) (same version, changed input), V(none), V(remove).
  returned: always
  type: str
  sample: install
ready:
  description: Whether the istiod Deployment is available and its injector webhook configuration exists.
  returned: always
  type: bool
  sample: true
objects:
  description: The objects of the revision after the run (for O(state=absent), those deleted), as C(Kind namespace/name).
  returned: always
  type: list
  elements: str
  sample: ["Deployment istio-system/istiod-1-29-2", "MutatingWebhookConfiguration istio-sidecar-injector-1-29-2"]
created:
  description: The objects created (not present before).
  returned: always
  type: list
  elements: str
  sample: ["Deployment istio-system/istiod-1-29-2"]
deleted:
  description: The objects deleted.
  returned: always
  type: list
  elements: str
  sample: []
crds:
  description: The CRD step (O(crds)), as done or, in check mode, as it would be done.
  returned: when state=present
  type: dict
  contains:
    mode:
      description: O(crds).
      type: str
      sample: upgrade
    changed:
      description: Whether a CRD was (or would be) created or upgraded.
      type: bool
      sample: true
    msg:
      description: A summary.
      type: str
      sample: "CRDs: 14 upgraded"
    steps:
      description:
        - One entry per target CRD, with C(name), C(action) (V(create), V(upgrade), V(same), V(newer_in_cluster)),
          C(cluster_version) and C(target_version).
      type: list
      elements: dict
      sample: [{"name": "gateways.networking.istio.io", "action": "upgrade", "cluster_version": "1.28.2", "target_version": "1.29.1"}]
    upgraded:
      description: The CRDs upgraded.
      type: list
      elements: str
      sample: ["gateways.networking.istio.io"]
    created:
      description: The CRDs created.
      type: list
      elements: str
      sample: []
    kept_newer:
      description: The CRDs kept because the cluster's are newer than the target's.
      type: list
      elements: str
      sample: []
in_use:
  description: What uses the revision (O(state=absent) only; empty lists when nothing does).
  returned: when state=absent and the revision exists
  type: dict
  contains:
    namespaces:
      description: Namespaces whose labels select the revision, with C(name), C(label) and C(through).
      type: list
      elements: dict
      sample: [{"name": "shop", "label": "istio.io/rev=1-28-1", "through": "revision"}]
    pods:
      description: Running pods with a sidecar of the revision, with C(namespace), C(name) and C(gateway).
      type: list
      elements: dict
      sample: [{"namespace": "shop", "name": "frontend-7d9c-abcde", "gateway": false}]
    gateways:
      description: Gateway workloads whose pod template selects the revision, with C(kind), C(namespace), C(name), C(label).
      type: list
      elements: dict
      sample: [{"kind": "Deployment", "namespace": "istio-ingress", "name": "istio-ingressgateway", "label": "istio.io/rev=1-28-1"}]
    tags:
      description: Revision tags pointing at the revision.
      type: list
      elements: str
      sample: ["default", "prod"]
    default_validator:
      description: Whether C(istiod-default-validator) points at the revision.
      type: bool
      sample: true
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.meshops.istio.plugins.module_utils.installers import crds as crd_step
from ansible_collections.meshops.istio.plugins.module_utils.installers.helm import HelmInstaller
from ansible_collections.meshops.istio.plugins.module_utils.installers.istioctl import IstioctlInstaller
from ansible_collections.meshops.istio.plugins.module_utils.installers.manifest import ManifestInstaller
from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import default_moved_problem, with_default_moved
from ansible_collections.meshops.istio.plugins.module_utils.istio.inuse import describe_users, is_in_use
from ansible_collections.meshops.istio.plugins.module_utils.istio.lifecycle import (
    NOTHING,
    present_action,
    requested_revision,
)
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import with_image_tag
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.module import MeshModule, diff_of, run_module
from ansible_collections.meshops.istio.plugins.module_utils.mesh_reads.snapshot import read_control_plane
from ansible_collections.meshops.istio.plugins.module_utils.mesh_reads.revision_state import read_usage, wait_ready
from ansible_collections.meshops.istio.plugins.module_utils.yaml_support import HAS_YAML, YAML_IMPORT_ERROR

INSTALLER_OPTIONS = {
    "manifest": ("manifests", "manifest_content"),
    "helm": ("chart_ref", "chart_version", "values", "values_files", "release_name", "helm_binary", "base_chart_ref",
             "base_release_name"),
    "istioctl": ("istioctl_binary", "istio_operator_file"),
}

ARGUMENT_SPEC = {
    "revision": {"type": "str"},
    "version": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "namespace": {"type": "str", "default": "istio-system"},
    "installer": {"type": "str", "choices": ["manifest", "helm", "istioctl"], "default": "manifest"},
    "manifests": {"type": "list", "elements": "path"},
    "manifest_content": {"type": "raw"},
    "chart_ref": {"type": "str"},
    "chart_version": {"type": "str"},
    "values": {"type": "dict"},
    "values_files": {"type": "list", "elements": "path"},
    "release_name": {"type": "str"},
    "helm_binary": {"type": "str"},
    "istioctl_binary": {"type": "str"},
    "istio_operator_file": {"type": "path"},
    "crds": {"type": "str", "choices": [crd_step.UPGRADE, crd_step.SKIP], "default": crd_step.UPGRADE},
    "base_chart_ref": {"type": "str"},
    "base_release_name": {"type": "str"},
    "allow_in_place": {"type": "bool", "default": False},
    "force": {"type": "bool", "default": False},
    "assume_default_revision": {"type": "str"},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 300},
}


def option_problems(params: dict) -> list[str]:
    """Options given for another installer than the one chosen, and missing manifest input."""
    chosen = params["installer"]
    problems = ["option %s is for installer=%s, not %s" % (option, installer, chosen)
                for installer, options in INSTALLER_OPTIONS.items() if installer != chosen
                for option in options if params.get(option) not in (None, [], {})]
    if chosen == "manifest" and params["state"] == "present" and not (params.get("manifests") or params.get("manifest_content")):
        problems.append("installer=manifest with state=present needs manifests or manifest_content")
    if chosen == "istioctl" and params["state"] == "present" and params["crds"] == crd_step.SKIP:
        problems.append("installer=istioctl applies its CRDs with every install (istioctl install applies the base "
                        "component), so crds=skip cannot be honoured: use crds=upgrade, or installer manifest or helm")
    if params["wait_timeout"] < 0:
        problems.append("wait_timeout must not be negative")
    assumed = params.get("assume_default_revision")
    if assumed is not None:
        if params["state"] != "absent":
            problems.append("assume_default_revision is an option of state=absent")
        problems += ["assume_default_revision: %s" % problem for problem in rev.revision_problems(assumed)]
    return problems


def make_installer(module: MeshModule, revision: str):
    """The installer object chosen by the options."""
    params = module.params
    namespace = params["namespace"]
    if params["installer"] == "manifest":
        return ManifestInstaller(module.api, revision, namespace, params["manifests"], params["manifest_content"])
    if params["installer"] == "helm":
        return HelmInstaller(params, lambda: module.api.configuration, revision, namespace, params["version"])
    return IstioctlInstaller(params, lambda: module.api.configuration, revision, namespace)


def present(module: MeshModule, revision: str, installer) -> dict:
    """Install the revision when missing (or change it when allowed), then wait for it."""
    params = module.params
    namespace = params["namespace"]
    if module.api.get_or_none(R.NAMESPACES.path(name=namespace)) is None:
        raise MeshError("namespace %s does not exist: create it (istiod's namespace) before installing revision %s"
                        % (namespace, revision))
    installer.check(params["version"])
    version = params["version"] or installer.version
    plane = read_control_plane(module.api).control_plane
    current = plane.revisions.get(rev.canonical(revision))
    if current is not None and current.namespace != namespace:
        raise MeshError("revision %s already runs in namespace %s (%s), not %s: choose another revision name"
                        % (revision, current.namespace, current.deployment, namespace))
    action, problem = present_action(current, version, params["allow_in_place"],
                                     changed_input=current is not None and installer.changed_input())
    if problem:
        raise MeshError(problem)
    # CRDs first, as Istio's upgrade procedure does; their plan is checked before the first write
    crd_steps = crd_step.plan(module.api, installer, version, action != NOTHING)[0] if params["crds"] == crd_step.UPGRADE else []
    crds = crd_step.result(crd_steps, params["crds"], module.check_mode)
    before = installer.installed() if current is not None else []
    result = {"created": [], "deleted": []}
    installer.apply_crds(crd_steps, module.check_mode, installing=action != NOTHING)
    if action != NOTHING:
        result = installer.install(module.check_mode)
    objects = before if action == NOTHING else installer.planned()
    ready = bool(current and current.ready and action == NOTHING)
    if params["wait"] and not module.check_mode:
        ready = wait_ready(module.api, revision, namespace, params["wait_timeout"])["ready"]
    running = current.version.release if current is not None and current.version else None
    version = version or running
    before_state = {"revision": revision, "version": running, "objects": before} if current is not None else {}
    after_state = {"revision": revision, "version": version, "objects": objects}
    if action == "in_place":
        before_state["image"] = current.image
        after_state["image"] = with_image_tag(current.image, version)
    if crds["changed"]:
        before_state["crds"], after_state["crds"] = crd_step.diff(crd_steps)
    verb = {"install": "installed", "in_place": "changed in place to %s" % version, "reapply": "re-applied",
            NOTHING: "already present"}[action]
    msg = "revision %s (%s) %s with %s: %d objects; %s" % (
        revision, version or "version unknown", verb if not module.check_mode or action == NOTHING else "would be " + verb,
        installer.name, len(objects), "ready" if ready else ("not checked (check mode)" if module.check_mode else "not ready"))
    if crd_steps:
        msg += "; " + crds["msg"]
    return {"changed": action != NOTHING or crds["changed"], "msg": msg, "revision": revision, "version": version,
            "installer": installer.name, "action": action, "ready": ready, "objects": objects, "created": result["created"],
            "deleted": result["deleted"], "crds": crds, "diff": diff_of(before_state, after_state)}


def absent(module: MeshModule, revision: str, installer) -> dict:
    """Remove the revision unless something uses it (or ``force``)."""
    params = module.params
    namespace = params["namespace"]
    unchanged = {"changed": False, "revision": revision, "version": params["version"], "installer": installer.name,
                 "action": NOTHING, "ready": False, "objects": [], "created": [], "deleted": []}
    if module.api.get_or_none(R.NAMESPACES.path(name=namespace)) is None:
        return dict(unchanged, msg="revision %s is absent: namespace %s does not exist" % (revision, namespace))
    plane = read_control_plane(module.api).control_plane
    current = plane.revisions.get(rev.canonical(revision))
    webhook = rev.injector_webhook_name(revision, namespace)
    has_webhook = any(r.injector_webhook == webhook for r in plane.revisions.values())
    installed = installer.exists() if installer.name != "istioctl" else current is not None
    if current is None and not installed and not has_webhook:
        return dict(unchanged, msg="revision %s is already absent" % revision)
    if not installed:
        raise MeshError("revision %s runs in %s, but installer=%s has no record of it (%s): remove it with the installer "
                        "that installed it" % (revision, namespace, installer.name, _record_hint(installer, revision, namespace)))
    plane = _assumed_plane(module, revision, plane)
    usage = read_usage(module.api, revision, plane)
    if is_in_use(usage):
        users = describe_users(usage)
        if not params["force"]:
            raise MeshError("revision %s is in use, nothing was removed: %s. Move these to another revision first, "
                            "or set force=true" % (revision, users), result={"revision": revision, "in_use": usage})
        module.warn("removing revision %s although it is in use (force=true): %s" % (revision, users))
    version = params["version"] or (current.version.release if current is not None and current.version else None)
    deleted = installer.remove(module.check_mode)
    msg = "revision %s %s with %s: %d objects" % (revision, "would be removed" if module.check_mode else "removed",
                                                  installer.name, len(deleted))
    if module.check_mode and params["assume_default_revision"]:
        msg += " (once the tag default and %s point at %s)" % (L.DEFAULT_VALIDATOR, rev.canonical(params["assume_default_revision"]))
    return dict(unchanged, changed=True, msg=msg, version=version, action="remove", objects=deleted, deleted=deleted,
                in_use=usage, diff=diff_of({"revision": revision, "version": version, "objects": deleted}, {}))


def _assumed_plane(module: MeshModule, revision: str, plane):
    """The control plane to check the removal against: with O(assume_default_revision), the default moved there."""
    assumed = module.params["assume_default_revision"]
    if assumed is None:
        return plane
    assumed = rev.canonical(assumed)
    if assumed == rev.canonical(revision):
        raise MeshError("assume_default_revision=%s is the revision to remove: name the revision the default moves to"
                        % assumed)
    if assumed not in plane.revisions:
        raise MeshError("assume_default_revision=%s is not installed (installed revisions: %s); nothing was removed"
                        % (assumed, ", ".join(sorted(plane.revisions)) or "none"))
    if module.check_mode:
        return with_default_moved(plane, assumed, plane.revisions[assumed].namespace)
    problem = default_moved_problem(plane, assumed)
    if problem:
        raise MeshError("revision %s was not removed: assume_default_revision=%s, but %s. Point the tag default at %s "
                        "first (meshops.istio.revision_tag), or leave the option out" % (revision, assumed, problem, assumed))
    return plane


def _record_hint(installer, revision: str, namespace: str) -> str:
    if installer.name == "manifest":
        return "no ConfigMap %s/meshops-istio-manifest-%s" % (namespace, revision)
    return "no Helm release %s in namespace %s; set release_name if it has another name" % (installer.release, namespace)


def work(module: MeshModule) -> dict:
    """Validate everything that needs no request, then run the state asked for."""
    if not HAS_YAML:
        raise MeshError(missing_required_lib("PyYAML"), result={"exception": YAML_IMPORT_ERROR})
    params = module.params
    revision, problems = requested_revision(params["revision"], params["version"])
    problems += option_problems(params)
    if problems:
        raise MeshError("invalid options, nothing was read or changed: %s" % "; ".join(problems), problems=problems)
    installer = make_installer(module, revision)
    try:
        if params["state"] == "present":
            return present(module, revision, installer)
        return absent(module, revision, installer)
    finally:
        close = getattr(installer, "close", None)
        if close is not None:
            close()


def main() -> None:
    """Run the module."""
    run_module(work, ARGUMENT_SPEC, required_one_of=[("revision", "version")])


if __name__ == "__main__":
    main()
