# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``MeshModule``: the AnsibleModule every module of the collection uses.

It adds the connection options, reports a missing kubernetes library, builds the API client on first use, runs
the module's work turning our errors into ``fail_json`` with the API's own reason, and exits uniformly with
``changed``, a one-line ``msg`` and ``diff`` only when Ansible runs with ``--diff``.

One error path: a module's work raises :class:`MeshError` (data in ``result``), never calls fail_json; ``run`` fails once.
"""

from __future__ import annotations

from typing import Callable

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.meshops.istio.plugins.module_utils.k8s.api import KubeApi
from ansible_collections.meshops.istio.plugins.module_utils.k8s.args import (
    resolve_connection,
    sensitive_values,
    with_connection,
)
from ansible_collections.meshops.istio.plugins.module_utils.k8s.client import (
    HAS_KUBERNETES,
    KUBERNETES_IMPORT_ERROR,
    build_api_client,
    request_headers,
)
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.retry import RetryPolicy


class MeshModule(AnsibleModule):
    """AnsibleModule with the connection options, a lazily built :class:`KubeApi` and uniform results."""

    def __init__(self, argument_spec: dict | None = None, supports_check_mode: bool = True, **kwargs) -> None:
        super().__init__(argument_spec=with_connection(argument_spec), supports_check_mode=supports_check_mode, **kwargs)
        # options not given come from K8S_AUTH_* as kubernetes.core reads them; every secret they carry (a kubeconfig
        # dict's tokens and keys included) is hidden in all the module prints, its invocation at -vvv included
        self.params.update(resolve_connection(self.params))
        self.no_log_values.update(sensitive_values(self.params))
        if not HAS_KUBERNETES:
            self.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
        self._api = None

    @property
    def api(self) -> KubeApi:
        """The API access for this run, built from the connection options on first use."""
        if self._api is None:
            self._api = KubeApi(build_api_client(self.params), headers=request_headers(self.params), retry=RetryPolicy())
        return self._api

    @property
    def dry_run(self) -> bool:
        """True in check mode: writes go to the API with ``dryRun=All`` and persist nothing."""
        return self.check_mode

    def run(self, work: Callable[[MeshModule], dict]) -> None:
        """Call ``work(self)``, which returns the result dict (with ``changed`` and ``msg``), and exit with it.

        A MeshError (options, connection, API, a refusal) becomes ``fail_json`` with its readable message, its
        ``result`` at the top level and its structured details under ``error``: the one place a module fails.
        """
        try:
            result = work(self)
        except MeshError as error:
            self.fail_json(**dict(error.result, msg=error.msg, error=error.details))
        self.exit(**result)

    def exit(self, changed: bool = False, msg: str = "", diff: dict | None = None, **results) -> None:
        """exit_json with ``changed`` and ``msg``; ``diff`` is returned only when Ansible runs with --diff."""
        if diff is not None and self._diff:
            results["diff"] = diff
        self.exit_json(changed=changed, msg=msg, **results)


def run_module(work: Callable[[MeshModule], dict], argument_spec: dict, **kwargs) -> None:
    """A module's ``main()``: build the :class:`MeshModule` (check mode supported) and :meth:`~MeshModule.run` ``work``."""
    MeshModule(argument_spec=argument_spec, supports_check_mode=True, **kwargs).run(work)


def diff_of(before, after) -> dict:
    """A ``diff`` entry as Ansible's callback shows it."""
    return {"before": before, "after": after}
