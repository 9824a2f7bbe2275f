# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``istioctl`` installer: ``istioctl install --set revision=R -y`` and ``istioctl uninstall --revision R -y``.

istioctl installs its own Istio version, so the version asked for must be the binary's (read with
``istioctl version --remote=false -o json``). Check mode runs only that read.
"""

from __future__ import annotations

import json
import os

from ansible_collections.meshops.istio.plugins.module_utils.installers.manifest import read_documents
from ansible_collections.meshops.istio.plugins.module_utils.installers.tool import ToolRunner, find_binary
from ansible_collections.meshops.istio.plugins.module_utils.istio.crds import APPLIED, is_istio_crd
from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.lifecycle import same_release
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError


class IstioctlInstaller:
    """Installs and removes one revision with istioctl."""

    name = "istioctl"
    # istioctl install applies the base component, every CRD of its release, with each install
    crd_tool = "istioctl install"
    crds_with_install = True

    def __init__(self, params: dict, configuration_factory, revision: str, namespace: str) -> None:
        self.revision = revision
        self.namespace = namespace
        self.operator_file = params.get("istio_operator_file")
        self.binary = find_binary(params.get("istioctl_binary") or "istioctl", "istioctl_binary")
        self.runner = ToolRunner(self.binary, params, configuration_factory, "--kubeconfig", "--context")
        self._version = None

    def close(self) -> None:
        """Remove temporary files."""
        self.runner.close()

    @property
    def version(self) -> str | None:
        """The Istio version istioctl installs (its client version)."""
        if self._version is None:
            text = self.runner.run("version", "--remote=false", "-o", "json")
            try:
                self._version = json.loads(text)["clientVersion"]["version"]
            except (ValueError, KeyError, TypeError) as exc:
                raise MeshError("cannot read the version of %s from 'istioctl version --remote=false -o json': %s"
                                % (self.binary, exc)) from exc
        return self._version

    def check(self, version: str | None) -> None:
        """Fail before any write when istioctl is of another version, or the operator file is missing."""
        if self.operator_file and not os.path.isfile(os.path.expanduser(self.operator_file)):
            raise MeshError("istio_operator_file %s does not exist" % self.operator_file)
        if version is not None and not same_release(self.version, version):
            raise MeshError("%s is istioctl %s, which installs Istio %s, not %s: set istioctl_binary to istioctl %s"
                            % (self.binary, self.version, self.version, version, version))

    @staticmethod
    def changed_input() -> bool:
        """istioctl keeps no record of its input since 1.24: an installed revision of the right version is kept."""
        return False

    def planned(self) -> list[str]:
        """The main objects istioctl creates for the revision."""
        return ["Deployment %s/%s" % (self.namespace, rev.istiod_name(self.revision)),
                "MutatingWebhookConfiguration %s" % rev.injector_webhook_name(self.revision, self.namespace),
                "ValidatingWebhookConfiguration %s" % rev.validator_webhook_name(self.revision, self.namespace)]

    installed = planned

    def _profile_args(self) -> list[str]:
        args = ["--set", "revision=%s" % self.revision]
        if self.operator_file:
            args += ["-f", os.path.expanduser(self.operator_file)]
        return args

    def target_crds(self) -> list[dict]:
        """The CRDs ``istioctl install`` would apply (``istioctl manifest generate``, which reads nothing in the cluster)."""
        text = self.runner.run("manifest", "generate", *self._profile_args())
        return [obj for obj in read_documents(None, text) if is_istio_crd(obj)]

    @staticmethod
    def crd_problems(current: list[dict], steps: list) -> list[str]:
        """Nothing beyond Istio's rule (istioctl applies with server-side apply, forcing conflicts)."""
        del current, steps
        return []

    def apply_crds(self, steps: list, dry_run: bool, installing: bool) -> None:
        """istioctl applies its CRDs with the install; when the revision is already installed, run the install again."""
        if not installing and any(step.action in APPLIED for step in steps):
            self.install(dry_run)

    def install(self, dry_run: bool) -> dict:
        """``istioctl install --set revision=R -y`` (nothing in check mode)."""
        if not dry_run:
            self.runner.run(*(["install"] + self._profile_args() + ["-y"]))
        return {"created": self.planned(), "deleted": []}

    def remove(self, dry_run: bool) -> list[str]:
        """``istioctl uninstall --revision R -y`` (nothing in check mode)."""
        if not dry_run:
            self.runner.run("uninstall", "--revision", self.revision, "-y")
        return self.installed()
