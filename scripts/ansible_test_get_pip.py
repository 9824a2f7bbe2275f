"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test creates each sanity virtual environment without pip, then runs a cached copy of
get-pip (``~/.ansible/test/cache/get_pip_<version>.py``) as
``python get_pip.py --disable-pip-version-check pip==<version> --no-setuptools --no-wheel``.
The host it downloads get-pip from is not reachable here, so ``scripts/sanity.py`` puts this file
in the cache instead. It installs the pip that ships with Python (``ensurepip``), then uses it to
install the requested packages from the package index that pip is configured for.
"""

from __future__ import annotations

import subprocess
import sys

# get-pip options that pip does not know, and the package each one says not to leave installed
GET_PIP_ONLY_OPTIONS = {"--no-setuptools": "setuptools", "--no-wheel": "wheel"}


def installed(name: str) -> bool:
    """Return True if ``name`` is importable by the Python running this script."""
    probe = subprocess.run([sys.executable, "-c", f"import {name}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return probe.returncode == 0


def main(argv: list[str]) -> int:
    """Bootstrap pip into the running interpreter's environment; return the exit code."""
    pip_args = [arg for arg in argv if arg not in GET_PIP_ONLY_OPTIONS]
    unwanted = [GET_PIP_ONLY_OPTIONS[arg] for arg in argv if arg in GET_PIP_ONLY_OPTIONS]
    had_before = {name: installed(name) for name in unwanted}

    commands = [[sys.executable, "-m", "ensurepip", "--default-pip"]]
    if pip_args:
        commands.append([sys.executable, "-m", "pip", "install", *pip_args])
    for command in commands:
        result = subprocess.run(command, check=False)
        if result.returncode != 0:
            sys.stderr.write(f"ansible_test_get_pip: '{' '.join(command)}' failed with exit code {result.returncode}\n")
            return result.returncode

    dropped = [name for name in unwanted if not had_before[name] and installed(name)]
    if dropped:
        uninstall = [sys.executable, "-m", "pip", "uninstall", "--yes", "--disable-pip-version-check", *dropped]
        return subprocess.run(uninstall, check=False).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
