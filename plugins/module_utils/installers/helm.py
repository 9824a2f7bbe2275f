# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``helm`` installer: ``helm upgrade --install`` / ``helm uninstall`` of the istiod chart for one revision.

The values always set ``revision`` and, when a version is asked for, ``global.tag`` (the image tag the istiod
chart uses for pilot and the proxies). Reads (``helm get values``, ``helm get manifest``, ``helm template``) never
change the cluster, so check mode uses only them.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile

from ansible_collections.meshops.istio.plugins.module_utils.yaml_support import yaml

from ansible_collections.meshops.istio.plugins.module_utils.installers.tool import ToolError, ToolRunner, find_binary
from ansible_collections.meshops.istio.plugins.module_utils.installers.manifest import read_documents
from ansible_collections.meshops.istio.plugins.module_utils.istio.crds import APPLIED, crd_name, is_istio_crd
from ansible_collections.meshops.istio.plugins.module_utils.istio.manifest_revision import object_ref, ref_text
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError

RELEASE_NOT_FOUND = "not found"
BASE_RELEASE = "istio-base"
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
HELM_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"


def merge_values(base: dict, override: dict) -> dict:
    """Helm's merge of values: maps merge key by key, anything else in ``override`` replaces ``base``."""
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def revision_values(revision: str, version: str | None) -> dict:
    """The values the module always sets: ``revision`` and, for a version, ``global.tag``."""
    values = {"revision": revision}
    if version is not None:
        values["global"] = {"tag": version.lstrip("v")}
    return values


def base_chart_of(chart_ref: str | None) -> str | None:
    """Istio's base chart beside the istiod chart ``chart_ref``: ``istio/istiod`` -> ``istio/base``, an OCI
    ``.../istiod`` -> ``.../base``, the directory ``.../istio-control/istio-discovery`` -> ``.../base``; else None."""
    if not chart_ref:
        return None
    ref = chart_ref.rstrip("/")
    parts = ref.replace(os.sep, "/").split("/")
    if parts[-2:] == ["istio-control", "istio-discovery"]:
        return os.path.join(os.path.dirname(os.path.dirname(ref)), "base")
    if parts[-1] == "istiod" and len(parts) > 1:
        return ref[: -len("istiod")] + "base"
    return None


class HelmInstaller:
    """Installs and removes one revision as a Helm release of the istiod chart."""

    name = "helm"
    # helm upgrade of the base chart applies every CRD of the chart at once
    crd_tool = "helm upgrade of the base chart"
    crds_with_install = False

    def __init__(self, params: dict, configuration_factory, revision: str, namespace: str, version: str | None) -> None:
        self.revision = revision
        self.namespace = namespace
        self.requested_version = version
        self.release = params.get("release_name") or "istiod-%s" % revision
        self.chart_ref = params.get("chart_ref")
        self.chart_version = params.get("chart_version")
        self.values_files = [os.path.expanduser(path) for path in params.get("values_files") or []]
        self.values = params.get("values") or {}
        self.binary = find_binary(params.get("helm_binary") or "helm", "helm_binary")
        self.runner = ToolRunner(self.binary, params, configuration_factory, "--kubeconfig", "--kube-context")
        self._workdir = tempfile.mkdtemp(prefix="meshops-istio-helm-")
        self._deployed = None
        self.base_release = params.get("base_release_name") or BASE_RELEASE
        self.base_chart_ref = params.get("base_chart_ref") or base_chart_of(self.chart_ref)
        self._base_values = None

    def close(self) -> None:
        """Remove temporary files."""
        self.runner.close()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def desired_values(self) -> dict:
        """The values files, then ``values``, then the revision values, merged as Helm merges them."""
        merged = {}
        for path in self.values_files:
            try:
                with open(path, encoding="utf-8") as handle:
                    merged = merge_values(merged, yaml.safe_load(handle) or {})
            except (OSError, yaml.YAMLError) as exc:
                raise MeshError("cannot read values file %s: %s" % (path, exc)) from exc
        return merge_values(merge_values(merged, self.values), revision_values(self.revision, self.requested_version))

    def check(self, version: str | None) -> None:
        """Fail before any write when ``values`` set a revision or tag that contradicts the module's options."""
        del version  # the version is passed to the chart as global.tag
        given = merge_values(self.values, {})
        problems = []
        if "revision" in given and given["revision"] != self.revision:
            problems.append("values set revision=%s but the module installs revision %s: remove it from values"
                            % (given["revision"], self.revision))
        tag = (given.get("global") or {}).get("tag")
        if tag is not None and self.requested_version is not None and str(tag).lstrip("v") != self.requested_version.lstrip("v"):
            problems.append("values set global.tag=%s but version is %s: remove it from values" % (tag, self.requested_version))
        if not self.chart_ref:
            problems.append("the helm installer needs chart_ref (for example istio/istiod or a chart directory)")
        if problems:
            raise MeshError("; ".join(problems))

    @property
    def version(self) -> str | None:
        """The version asked for (the chart's default when None)."""
        return self.requested_version

    def deployed_values(self) -> dict | None:
        """The release's user-supplied values (``helm get values -o json``); None when there is no release."""
        if self._deployed is None:
            try:
                self._deployed = json.loads(self.runner.run("get", "values", self.release, "--namespace", self.namespace,
                                                            "--output", "json") or "null") or {}
            except ToolError as error:
                if RELEASE_NOT_FOUND not in error.msg:
                    raise
                self._deployed = False
        return self._deployed if self._deployed is not False else None

    def exists(self) -> bool:
        """True when the release exists."""
        return self.deployed_values() is not None

    def changed_input(self) -> bool:
        """True when the release is missing or was installed with other values."""
        return self.deployed_values() != self.desired_values()

    def _chart_args(self) -> list[str]:
        path = os.path.join(self._workdir, "values.yaml")
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(self.desired_values(), handle)
        args = [self.release, self.chart_ref, "--namespace", self.namespace, "--values", path]
        if self.chart_version:
            args += ["--version", self.chart_version]
        return args

    def planned(self) -> list[str]:
        """The objects the chart renders with these values (``helm template``, no cluster access needed)."""
        return self._objects(self.runner.run("template", *self._chart_args()))

    def installed(self) -> list[str]:
        """The objects of the deployed release (``helm get manifest``); empty when there is no release."""
        if not self.exists():
            return []
        return self._objects(self.runner.run("get", "manifest", self.release, "--namespace", self.namespace))

    @staticmethod
    def _objects(text: str) -> list[str]:
        return [ref_text(object_ref(obj)) for obj in read_documents(None, text)]

    # -- CRDs: Istio's upgrade docs upgrade the base chart's release before installing the new revision ------------

    def base_values(self) -> dict | None:
        """The base release's user-supplied values; None when there is no such release."""
        if self._base_values is None:
            try:
                self._base_values = json.loads(self.runner.run("get", "values", self.base_release, "--namespace",
                                                               self.namespace, "--output", "json") or "null") or {}
            except ToolError as error:
                if RELEASE_NOT_FOUND not in error.msg:
                    raise
                self._base_values = False
        return self._base_values if self._base_values is not False else None

    def _base_args(self) -> list[str]:
        """The base release, its chart and its user-supplied values (what helm upgrade without values keeps)."""
        args = [self.base_release, self.base_chart_ref, "--namespace", self.namespace]
        if self.chart_version:
            args += ["--version", self.chart_version]
        if self.base_values():
            path = os.path.join(self._workdir, "base-values.yaml")
            with open(path, "w", encoding="utf-8") as handle:
                yaml.safe_dump(self.base_values(), handle)
            args += ["--values", path]
        return args

    def target_crds(self) -> list[dict]:
        """Istio's CRDs of the target's base chart (``helm template`` with the base release's values)."""
        if not self.base_chart_ref:
            raise MeshError("cannot tell Istio's base chart from chart_ref %s: set base_chart_ref (for example "
                            "istio/base), or crds=skip to leave the CRDs as they are" % self.chart_ref)
        return [obj for obj in read_documents(None, self.runner.run("template", *self._base_args())) if is_istio_crd(obj)]

    def crd_problems(self, current: list[dict], steps: list) -> list[str]:
        """The base release must exist and own the CRDs it is to upgrade (helm refuses objects of another owner)."""
        if self.base_values() is None:
            return ["there is no Helm release %s in namespace %s to upgrade (Istio's docs upgrade the CRDs with helm "
                    "upgrade of the base chart's release): set base_release_name to the release of Istio's base chart, "
                    "or crds=skip to leave the CRDs as they are" % (self.base_release, self.namespace)]
        changing = {step.name for step in steps if step.action in APPLIED}
        foreign = []
        for obj in current:
            annotations = (obj.get("metadata") or {}).get("annotations") or {}
            owner = (annotations.get(HELM_RELEASE_ANNOTATION), annotations.get(HELM_NAMESPACE_ANNOTATION))
            if crd_name(obj) in changing and owner != (self.base_release, self.namespace):
                foreign.append("%s (%s)" % (crd_name(obj), "release %s/%s" % (owner[1], owner[0]) if owner[0] else "not a Helm object"))
        if foreign:
            return ["helm would refuse to upgrade CRDs that release %s/%s does not own: %s; adopt them into the release "
                    "or set crds=skip" % (self.namespace, self.base_release, ", ".join(foreign))]
        return []

    def major_version(self) -> int:
        """helm's major version (``helm version --template``); 3 when it cannot be read."""
        text = self.runner.run("version", "--template", "{{.Version}}").strip().lstrip("v")
        head = text.split(".", 1)[0]
        return int(head) if head.isdigit() else 3

    def apply_crds(self, steps: list, dry_run: bool, installing: bool) -> None:
        """``helm upgrade`` of the base release to the target's chart, as Istio's upgrade docs do (its values kept).

        With client-side apply, as helm 3 does and Istio's docs assume: with server-side apply (helm 4's default for
        releases it installed) the base charts before Istio's fix (istio/istio#59367, not in 1.29.1) conflict with
        istiod, which owns ``failurePolicy`` of ``istiod-default-validator`` once it is ready, and the upgrade fails.
        As with helm 3, the chart's ``failurePolicy: Ignore`` is written and istiod sets it back to ``Fail``.
        """
        del installing
        if not dry_run and any(step.action in APPLIED for step in steps):
            apply = ["--server-side=false"] if self.major_version() >= 4 else []
            self.runner.run("upgrade", *self._base_args(), *apply)

    def install(self, dry_run: bool) -> dict:
        """``helm upgrade --install`` (nothing in check mode); return the objects created."""
        before = set(self.installed())
        if dry_run:
            return {"created": [text for text in self.planned() if text not in before], "deleted": []}
        self.runner.run("upgrade", "--install", *self._chart_args())
        self._deployed = None
        after = self.installed()
        return {"created": [text for text in after if text not in before],
                "deleted": sorted(before - set(after))}

    def remove(self, dry_run: bool) -> list[str]:
        """``helm uninstall`` (nothing in check mode); return the release's objects."""
        objects = self.installed()
        if not dry_run and self.exists():
            self.runner.run("uninstall", self.release, "--namespace", self.namespace)
        return objects
