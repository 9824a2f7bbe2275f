# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The namespace scope options (module_utils/k8s/scope_args.py holds the argument spec, istio/scope.py the rules)."""

from __future__ import annotations


class ModuleDocFragment:
    """Options that choose the namespaces a module acts on."""

    DOCUMENTATION = r"""
options:
  namespaces:
    description:
      - The namespaces to act on, by name.
      - A namespace named here is taken as it is, even a Kubernetes system namespace or one labelled
        C(istio-injection=disabled).
      - Mutually exclusive with O(namespace_selector) and O(all_injected).
    type: list
    elements: str
  namespace_selector:
    description:
      - Act on the namespaces whose labels match this label selector, written as C(kubectl -l) takes it,
        for example V(team=shop,env in (prod,staging)) or V(!legacy). Several items must all match.
      - The selector is sent with the namespace LIST, so the API server does the filtering.
      - With O(all_injected=true), only the injected namespaces that also match.
    type: list
    elements: str
  all_injected:
    description:
      - Act on every namespace labelled C(istio-injection) or C(istio.io/rev).
      - With O(namespace_selector), only those that also match it.
    type: bool
    default: false
  exclude:
    description:
      - Namespaces never to act on, however they were chosen (this wins over O(namespaces)).
      - Names that do not exist are ignored.
    type: list
    elements: str
    default: []
notes:
  - Give O(namespaces), or O(namespace_selector) and/or O(all_injected=true); at least one is required.
  - Namespaces chosen by label (O(namespace_selector) or O(all_injected)) are skipped, and reported with the reason,
    when they are a Kubernetes system namespace (C(kube-system), C(kube-public), C(kube-node-lease),
    C(local-path-storage), where istiod never injects), when C(istio-injection) is set to anything but C(enabled)
    (injection turned off), or when they are being deleted. Name such a namespace in O(namespaces) to act on it.
  - The namespaces are read with one LIST request, whatever their number.
"""
