# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes resources the collection works with, and their API paths (no discovery request needed)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Resource:
    """A resource type: group (empty for core), version, plural, kind, and whether it lives in a namespace."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, ``<group>/<version>`` otherwise."""
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        """The API path of the collection (no name) or of one object; ``namespace=None`` lists across namespaces.

        Raises ValueError for a namespaced object without a namespace, or a cluster-scoped one with one.
        """
        base = "/apis/%s/%s" % (self.group, self.version) if self.group else "/api/%s" % self.version
        if namespace is not None:
            if not self.namespaced:
                raise ValueError("%s is cluster-scoped: give no namespace" % self.kind)
            base += "/namespaces/%s" % quote(namespace, safe="")
        elif self.namespaced and name is not None:
            raise ValueError("%s %r is namespaced: give its namespace" % (self.kind, name))
        base += "/" + self.plural
        if name is not None:
            base += "/" + quote(name, safe="")
            if subresource:
                base += "/" + subresource
        return base


NAMESPACES = Resource("", "v1", "namespaces", "Namespace", False)
PODS = Resource("", "v1", "pods", "Pod", True)
SERVICES = Resource("", "v1", "services", "Service", True)
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap", True)
SERVICEACCOUNTS = Resource("", "v1", "serviceaccounts", "ServiceAccount", True)
EVENTS = Resource("", "v1", "events", "Event", True)
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment", True)
STATEFULSETS = Resource("apps", "v1", "statefulsets", "StatefulSet", True)
DAEMONSETS = Resource("apps", "v1", "daemonsets", "DaemonSet", True)
REPLICASETS = Resource("apps", "v1", "replicasets", "ReplicaSet", True)
JOBS = Resource("batch", "v1", "jobs", "Job", True)
MUTATING_WEBHOOKS = Resource("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
                             "MutatingWebhookConfiguration", False)
VALIDATING_WEBHOOKS = Resource("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
                               "ValidatingWebhookConfiguration", False)
CUSTOM_RESOURCE_DEFINITIONS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions",
                                       "CustomResourceDefinition", False)

KNOWN = (NAMESPACES, PODS, SERVICES, CONFIGMAPS, SERVICEACCOUNTS, EVENTS, DEPLOYMENTS, STATEFULSETS, DAEMONSETS,
         REPLICASETS, JOBS, MUTATING_WEBHOOKS, VALIDATING_WEBHOOKS, CUSTOM_RESOURCE_DEFINITIONS)
