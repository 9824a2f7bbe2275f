#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_info
short_description: Describe the Istio control plane revisions, tags and namespace injection of a cluster
version_added: 0.1.0
description:
  - Reports the istiod revisions installed (Deployments labelled C(app=istiod)) with the version of their
    C(discovery) image and their readiness, the revision tags and the revision each points at, the default
    revision, and the revision of C(istiod-default-validator).
  - For every namespace, reports its injection labels (C(istio-injection), C(istio.io/rev)), what they mean, and
    the revision a new pod there would be injected by, found by evaluating the MutatingWebhookConfigurations
    present as the API server does.
  - Reads with one LIST request per kind (istiod Deployments, mutating and validating webhook configurations,
    namespaces), whatever the size of the cluster.
  - With O(checks), also runs the checks C(istioctl x precheck) and C(istioctl analyze) users expect before an
    upgrade and returns what they find in RV(findings) (one more GET of C(/version) and one LIST each of all pods and
    all Deployments).
author:
  - meshops.istio maintainers (@meshops)
options:
  namespaces:
    description:
      - Report only these namespaces. Names that do not exist are listed in RV(namespaces_not_found).
      - Default is every namespace (that matches O(namespace_selector)).
    type: list
    elements: str
  namespace_selector:
    description:
      - Report only namespaces whose labels match these label selectors (all of them), for example
        V(istio-injection=enabled) or V(istio.io/rev).
    type: list
    elements: str
  checks:
    description:
      - Check the mesh before an upgrade and return the findings in RV(findings), each with a code, a severity
        (V(error) or V(warning)) and what to do.
      - C(kubernetes_version) compares the API server's Kubernetes version with O(target_version)'s release, as
        C(istioctl x precheck) does (older than istioctl's minimum is an error, outside Istio's supported versions a
        warning).
      - C(IST0139) finds webhooks that would inject the same pod twice, as C(istioctl analyze) does.
      - C(revision_missing) finds tags, validators, gateways and namespaces that point at a revision that does not
        run; C(pods_not_ready) lists the pods that are not Ready before anything moves.
      - Reads every namespace for these checks; O(namespaces) and O(namespace_selector) narrow only RV(namespaces).
    type: bool
    default: false
  target_version:
    description:
      - The Istio version to check the Kubernetes version against (for example V(1.29.2)); with O(checks) only.
      - Without it the Kubernetes version is not checked.
    type: str
extends_documentation_fragment:
  - meshops.istio.connection
  - meshops.istio.attributes
  - meshops.istio.attributes.check_mode_read_only
  - meshops.istio.attributes.diff_mode_none
"""

EXAMPLES = r"""
- name: Describe the mesh
  meshops.istio.mesh_info:
    kubeconfig: ~/.kube/config
  register: mesh

- name: Show the default revision and the namespaces that would not get it
  ansible.builtin.debug:
    msg: >-
      default={{ mesh.default_revision }}
      elsewhere={{ mesh.namespaces | selectattr('injected') | rejectattr('revision', 'eq', mesh.default_revision)
      | map(attribute='name') | list }}

- name: Only the namespaces labelled for injection, connection set once for the collection
  module_defaults:
    group/meshops.istio.istio:
      context: prod-cluster
  block:
    - name: Read injected namespaces
      meshops.istio.mesh_info:
        namespace_selector:
          - istio.io/rev
      register: revisioned

- name: Check the mesh before an upgrade to 1.29.2 and stop on what istioctl would refuse
  meshops.istio.mesh_info:
    checks: true
    target_version: 1.29.2
  register: precheck
  failed_when: precheck.findings | selectattr('severity', 'eq', 'error') | list | length > 0

- name: Two namespaces, with a token
  meshops.istio.mesh_info:
    host: https://10.0.0.1:6443
    api_key: "{{ k8s_token }}"
    ca_cert: /etc/ssl/cluster-ca.pem
    namespaces:
      - shop
      - payments
"""

RETURN = r"""
msg:
  description: One-line summary.
  returned: always
  type: str
  sample: "2 revisions (1-28-1 ready, 1-29-2 ready); default revision 1-28-1; 2 tags; 6 namespaces"
revisions:
  description: The istiod revisions installed, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The revision (V(default) for the non-revisioned istiod).
      type: str
      sample: 1-29-2
    namespace:
      description: Namespace of the istiod Deployment.
      type: str
      sample: istio-system
    deployment:
      description: Name of the istiod Deployment.
      type: str
      sample: istiod-1-29-2
    image:
      description: Image of the C(discovery) container.
      type: str
      sample: docker.io/istio/pilot:1.29.2
    version:
      description: Istio version read from the image tag, without variant; null when the tag is not a version.
      type: str
      sample: 1.29.2
    replicas:
      description: Desired replicas.
      type: int
      sample: 1
    ready_replicas:
      description: Ready replicas.
      type: int
      sample: 1
    ready:
      description: Whether the rollout is complete and every replica is ready.
      type: bool
      sample: true
    injector_webhook:
      description: Name of the revision's untagged MutatingWebhookConfiguration, if any.
      type: str
      sample: istio-sidecar-injector-1-29-2
    validator_webhook:
      description: Name of the revision's ValidatingWebhookConfiguration, if any.
      type: str
      sample: istio-validator-1-29-2-istio-system
tags:
  description: The revision tags, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The tag.
      type: str
      sample: default
    revision:
      description: The revision the tag points at.
      type: str
      sample: 1-28-1
    configuration:
      description: The tag's MutatingWebhookConfiguration.
      type: str
      sample: istio-revision-tag-default
default_revision:
  description:
    - The revision that injects for C(istio-injection=enabled), C(sidecar.istio.io/inject=true) and
      C(istio.io/rev=default); null when there is none.
  returned: always
  type: str
  sample: 1-28-1
default_revision_source:
  description: Where the default revision was read from, V(tag) (the C(default) tag) or V(webhook) (the untagged
    default webhook); null when there is no default revision.
  returned: always
  type: str
  sample: tag
default_validator_revision:
  description: The C(istio.io/rev) of C(istiod-default-validator); null when it does not exist.
  returned: always
  type: str
  sample: 1-28-1
webhooks:
  description: Every Istio sidecar-injector webhook, in the order the API server calls them.
  returned: always
  type: list
  elements: dict
  contains:
    configuration:
      description: Name of the MutatingWebhookConfiguration.
      type: str
      sample: istio-revision-tag-default
    webhook:
      description: Name of the webhook.
      type: str
      sample: namespace.sidecar-injector.istio.io
    revision:
      description: The revision whose istiod serves it.
      type: str
      sample: 1-28-1
    tag:
      description: The tag of the configuration, null for a revision's own configuration.
      type: str
      sample: default
    failure_policy:
      description: The webhook's failurePolicy.
      type: str
      sample: Fail
    service:
      description: C(namespace/name) of the Service it calls, null for a URL webhook.
      type: str
      sample: istio-system/istiod-1-28-1
    deactivated:
      description: Whether its selectors were set to never match (C(istioctl tag set default) does this).
      type: bool
      sample: false
namespaces:
  description: The namespaces reported, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The namespace.
      type: str
      sample: shop
    istio_injection:
      description: Value of the C(istio-injection) label, null when absent.
      type: str
      sample: enabled
    rev_label:
      description: Value of the C(istio.io/rev) label, null when absent.
      type: str
      sample: canary
    injection:
      description:
        - What the labels mean. V(enabled) (C(istio-injection=enabled), the default revision), V(revision)
          (C(istio.io/rev)), V(both) (both labels; C(istio-injection) wins), V(disabled), or V(none).
      type: str
      sample: revision
    injected:
      description: Whether a new pod without injection labels of its own would get a sidecar.
      type: bool
      sample: true
    revision:
      description: The revision that would inject it; null when none would.
      type: str
      sample: 1-29-2
    tag:
      description: The tag through which that revision is selected, if any.
      type: str
      sample: canary
    version:
      description: The Istio version of that revision, if known.
      type: str
      sample: 1.29.2
    webhook:
      description: The first webhook that matches (same keys as RV(webhooks)); null when none matches.
      type: dict
    overlap:
      description: Whether more than one injector webhook matches (the pod would be injected more than once).
      type: bool
      sample: false
    reason:
      description: Why the pod would or would not be injected.
      type: str
      sample: webhook rev.namespace.sidecar-injector.istio.io of istio-sidecar-injector-1-29-2 matches; revision 1-29-2 injects
namespaces_not_found:
  description: Names given in O(namespaces) that do not exist (or do not match O(namespace_selector)).
  returned: always
  type: list
  elements: str
  sample: []
problems:
  description: Inconsistencies found, such as a tag or the default validator pointing at a revision without istiod.
  returned: always
  type: list
  elements: str
  sample: ["tag prod (istio-revision-tag-prod) points at revision 1-27-0, which has no istiod Deployment"]
kubernetes_version:
  description: The API server's version (its C(gitVersion)).
  returned: when O(checks) is true
  type: str
  sample: v1.35.2
findings:
  description: What the checks found, errors first; empty when nothing is wrong.
  returned: when O(checks) is true
  type: list
  elements: dict
  contains:
    code:
      description: V(kubernetes_version), V(IST0139), V(revision_missing) or V(pods_not_ready).
      type: str
      sample: IST0139
    severity:
      description: V(error) (an upgrade should not start) or V(warning).
      type: str
      sample: error
    message:
      description: What is wrong, where, and what to do.
      type: str
      sample: "webhooks istio-revision-tag-default/..., istio-sidecar-injector/... overlap: ..."
    objects:
      description: The objects concerned (webhooks as C(configuration/webhook), others as C(namespace/name)).
      type: list
      elements: str
      sample: ["shop/cart-7d9f (istio-proxy: CrashLoopBackOff)"]
"""

from ansible_collections.meshops.istio.plugins.module_utils.istio import precheck
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.module import MeshModule, run_module
from ansible_collections.meshops.istio.plugins.module_utils.mesh_reads.snapshot import (
    describe_namespace,
    describe_webhooks,
    read_mesh,
)

ARGUMENT_SPEC = {
    "namespaces": {"type": "list", "elements": "str"},
    "namespace_selector": {"type": "list", "elements": "str"},
    "checks": {"type": "bool", "default": False},
    "target_version": {"type": "str"},
}


def gather(module: MeshModule) -> dict:
    """Read the mesh and describe it."""
    if module.params["target_version"] is not None:
        if not module.params["checks"]:
            raise MeshError("target_version is used only by the checks: set checks: true, or leave target_version out")
        if precheck.parse_version(module.params["target_version"]) is None:
            raise MeshError("target_version %r is not an Istio version: give it as MAJOR.MINOR.PATCH, for example "
                            "1.29.2" % module.params["target_version"])
    selector = ",".join(module.params["namespace_selector"] or []) or None
    # the checks look at every namespace; the selector then narrows only what is described
    snapshot = read_mesh(module.api, namespace_selector=None if module.params["checks"] else selector)
    checked = run_checks(module, snapshot) if module.params["checks"] else {}
    if selector and module.params["checks"]:
        selected = {ns["metadata"]["name"] for ns in module.api.list(R.NAMESPACES.path(), label_selector=selector)}
        snapshot.namespaces = [ns for ns in snapshot.namespaces if ns["metadata"]["name"] in selected]
    wanted = module.params["namespaces"]
    namespaces = snapshot.namespaces
    if wanted is not None:
        namespaces = [ns for ns in namespaces if ns["metadata"]["name"] in wanted]
    found = {ns["metadata"]["name"] for ns in namespaces}
    described = sorted((describe_namespace(ns, snapshot.mutating_webhooks, snapshot.control_plane) for ns in namespaces),
                       key=lambda item: item["name"])
    plane = snapshot.control_plane.as_dict()
    revisions = ", ".join("%s %s" % (r["name"], "ready" if r["ready"] else "not ready") for r in plane["revisions"])
    msg = "%d revision%s%s; default revision %s; %d tag%s; %d namespace%s" % (
        len(plane["revisions"]), "" if len(plane["revisions"]) == 1 else "s", " (%s)" % revisions if revisions else "",
        plane["default_revision"] or "none", len(plane["tags"]), "" if len(plane["tags"]) == 1 else "s",
        len(described), "" if len(described) == 1 else "s")
    if checked:
        errors = sum(1 for finding in checked["findings"] if finding["severity"] == precheck.ERROR)
        warnings = len(checked["findings"]) - errors
        msg += "; checks: %d error%s, %d warning%s" % (errors, "" if errors == 1 else "s", warnings, "" if warnings == 1 else "s")
    return dict(
        changed=False,
        msg=msg,
        webhooks=describe_webhooks(snapshot.mutating_webhooks),
        namespaces=described,
        namespaces_not_found=sorted(set(wanted or []) - found),
        **dict(plane, **checked)
    )


def run_checks(module: MeshModule, snapshot) -> dict:
    """The precheck findings (errors first) and the API server's version."""
    server = module.api.get("/version").get("gitVersion", "")
    findings = (precheck.kubernetes_version(server, module.params["target_version"] or "")
                + precheck.webhook_overlaps(snapshot.mutating_webhooks)
                + precheck.missing_revisions(snapshot.control_plane, snapshot.namespaces,
                                             module.api.list(R.DEPLOYMENTS.path()))
                + precheck.pods_not_ready(module.api.list(R.PODS.path())))
    findings.sort(key=lambda finding: finding.severity != precheck.ERROR)
    return {"kubernetes_version": server, "findings": [finding.as_dict() for finding in findings]}


def main() -> None:
    """Run the module."""
    run_module(gather, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
