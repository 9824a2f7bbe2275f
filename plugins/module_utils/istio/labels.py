# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every label, annotation, object name part and fixed value of Istio that the collection reads or writes.

Taken from Istio's charts (istio-discovery templates) and its injector (pkg/kube/inject); one place, so that
every module agrees on the spelling.
"""

from __future__ import annotations

# Namespace and pod labels that select sidecar injection.
ISTIO_INJECTION = "istio-injection"
INJECTION_ENABLED = "enabled"
INJECTION_DISABLED = "disabled"
REV = "istio.io/rev"
TAG = "istio.io/tag"
SIDECAR_INJECT = "sidecar.istio.io/inject"

# Annotations written or read by the injector.
SIDECAR_STATUS = "sidecar.istio.io/status"
INJECT_TEMPLATES = "inject.istio.io/templates"
GATEWAY_TEMPLATE = "gateway"

# Labels the injector writes on pods.
TLS_MODE = "security.istio.io/tlsMode"
CANONICAL_NAME = "service.istio.io/canonical-name"
CANONICAL_REVISION = "service.istio.io/canonical-revision"

# `istioctl tag set default` deactivates the untagged webhook with this selector.
DEACTIVATED = "istio.io/deactivated"
NEVER_MATCH = "never-match"

# Labels on control-plane objects.
APP = "app"
APP_ISTIOD = "istiod"
APP_SIDECAR_INJECTOR = "sidecar-injector"
ISTIO = "istio"
ISTIO_PILOT = "pilot"
ISTIO_ISTIOD = "istiod"
APP_KUBERNETES_NAME = "app.kubernetes.io/name"

# Label the API server sets on every namespace (used by the `auto.` webhook).
NAMESPACE_NAME = "kubernetes.io/metadata.name"

# The revision called "default" (empty revision: no suffix on object names).
DEFAULT_REVISION = "default"
DEFAULT_TAG = "default"
ISTIO_SYSTEM = "istio-system"

# Containers.
PROXY_CONTAINER = "istio-proxy"
DISCOVERY_CONTAINER = "discovery"
GATEWAY_AUTO_IMAGE = "auto"

# Object names and name prefixes.
ISTIOD = "istiod"
SIDECAR_INJECTOR = "istio-sidecar-injector"
REVISION_TAG_WEBHOOK_PREFIX = "istio-revision-tag-"
REVISION_TAG_SERVICE_PREFIX = "istiod-revision-tag-"
VALIDATOR = "istio-validator"
DEFAULT_VALIDATOR = "istiod-default-validator"

# Namespaces the injector never injects into (pkg/kube/inject IgnoredNamespaces).
IGNORED_NAMESPACES = frozenset(("kube-system", "kube-public", "kube-node-lease", "local-path-storage"))
