"""Build (and cache) the real cluster's programs from the Go modules in this folder.

Four programs: ``realcluster`` (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, the supervisor;
``cmd/realcluster``), ``kwok`` (``kwok/``) and one ``pilot-discovery`` per Istio release (``istiod/<minor>/``).
Go's own build cache (``go env GOCACHE``) makes a second build a matter of seconds; the binaries go to
``$XDG_CACHE_HOME/meshops-istio/realcluster/bin`` (default ``~/.cache``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclasses.dataclass(frozen=True)
class IstioRelease:
    """One Istio release the real cluster can run: its Go module folder here and its revision name."""

    version: str
    module_dir: str  # relative to this folder

    @property
    def revision(self) -> str:
        """The revision name users give this release (``1.28.2`` -> ``1-28-2``)."""
        return self.version.replace(".", "-")


# Two releases one minor apart: the source and the target of the upgrade on the real cluster. They are the
# newest patch releases of 1.28 and 1.29 whose istio.io/istio commit and every dependency the Go module
# proxy serves (see README.md for the ones it refuses).
RELEASES = {release.version: release for release in (IstioRelease("1.28.2", "istiod/1.28"), IstioRelease("1.29.1", "istiod/1.29"))}
SOURCE, TARGET = RELEASES["1.28.2"], RELEASES["1.29.1"]


class RealClusterUnavailable(RuntimeError):
    """The real cluster cannot be built or started on this machine (the message says why, in one line)."""


def cache_dir() -> str:
    """Where the binaries go."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "meshops-istio", "realcluster")


def go_binary() -> str:
    """The go command, or RealClusterUnavailable with the reason."""
    go = shutil.which("go")
    if not go:
        raise RealClusterUnavailable("the real cluster is built from Go modules, and no 'go' command is on PATH: install Go 1.25 or newer")
    return go


def _go_env() -> dict:
    env = dict(os.environ)
    # go.mod and go.sum pin every module; a build never changes them and never asks for another toolchain
    env.update(GOFLAGS="-mod=readonly", GOTOOLCHAIN="local")
    return env


def _sources_digest(go: str, module_dir: str, ldflags: str) -> str:
    """A digest of what a build of the module reads from this repository (go.mod, go.sum, its .go files), the flags
    and the Go version: when it matches the stamp beside the binary, the binary is current and go is not asked."""
    digest = hashlib.sha256()
    digest.update(ldflags.encode())
    digest.update(subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False).stdout.encode())
    root = os.path.join(HERE, module_dir)
    for folder, subfolders, files in os.walk(root):
        # another module's folder (a go.mod of its own) is not part of this one
        subfolders[:] = sorted(d for d in subfolders if not os.path.exists(os.path.join(folder, d, "go.mod")))
        for name in sorted(files):
            if name.endswith(".go") or name in ("go.mod", "go.sum"):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, root).encode())
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    return digest.hexdigest()


def _build(go: str, module_dir: str, package: str, output: str, ldflags: str = "") -> bool:
    """Build one program unless its stamp says it is current; True when it was built."""
    stamp = output + ".stamp"
    digest = _sources_digest(go, module_dir, ldflags)
    if os.path.exists(output) and os.path.exists(stamp):
        with open(stamp, encoding="utf-8") as handle:
            if handle.read().strip() == digest:
                return False
    command = [go, "build", "-o", output]
    if ldflags:
        command += ["-ldflags", ldflags]
    command.append(package)
    done = subprocess.run(command, cwd=os.path.join(HERE, module_dir), env=_go_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RealClusterUnavailable(f"'{' '.join(command)}' in tests/realcluster/{module_dir} failed (exit {done.returncode}): "
                                     + " ".join(done.stderr.strip().splitlines()[-5:]))
    with open(stamp, "w", encoding="utf-8") as handle:
        handle.write(digest + "\n")
    return True


@dataclasses.dataclass
class Binaries:
    """Paths of the built programs."""

    realcluster: str
    kwok: str
    istiod: dict  # version -> pilot-discovery path


def ensure_built(log=sys.stderr) -> Binaries:
    """Build what is missing or out of date (go decides), print one line per program with its time; return the paths."""
    go = go_binary()
    bin_dir = os.path.join(cache_dir(), "bin")
    os.makedirs(bin_dir, exist_ok=True)
    binaries = Binaries(realcluster=os.path.join(bin_dir, "realcluster"), kwok=os.path.join(bin_dir, "kwok"), istiod={})
    plan = [(".", "./cmd/realcluster", binaries.realcluster, ""), ("kwok", ".", binaries.kwok, "")]
    for release in RELEASES.values():
        path = os.path.join(bin_dir, f"pilot-discovery-{release.version}")
        binaries.istiod[release.version] = path
        plan.append((release.module_dir, "istio.io/istio/pilot/cmd/pilot-discovery", path,
                     f"-X istio.io/istio/pkg/version.buildVersion={release.version}"))
    for module_dir, package, output, ldflags in plan:
        started = time.monotonic()
        if _build(go, module_dir, package, output, ldflags):
            log.write(f"realcluster: {os.path.basename(output)} built in {time.monotonic() - started:.1f} s\n")
    return binaries


def charts_dir(version: str) -> str:
    """Istio's own Helm charts (``manifests/charts``) of the istio.io/istio module version this release pins."""
    # go mod download fetches the module when the cache lacks it and reports its folder either way
    done = subprocess.run([go_binary(), "mod", "download", "-json", "istio.io/istio"], cwd=os.path.join(HERE, RELEASES[version].module_dir),
                          env=_go_env(), capture_output=True, text=True, check=False)
    module_dir = json.loads(done.stdout or "{}").get("Dir") if done.returncode == 0 else None
    if not module_dir:
        raise RealClusterUnavailable(f"'go mod download istio.io/istio' for Istio {version} failed: {(done.stderr or done.stdout).strip()}")
    return os.path.join(module_dir, "manifests", "charts")
