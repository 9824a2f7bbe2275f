"""Run ``ansible-test sanity`` on a copy of the collection, without reaching any host but the package index.

ansible-test needs the collection at ``.../ansible_collections/<namespace>/<name>/``, so the files git
knows about (tracked, plus untracked ones that are not ignored) are mirrored into
``.build/sanity/ansible_collections/meshops/istio/``. Only changed files are copied again, and files
that went away are removed, so ansible-test's own caches stay valid between runs. The copy is its
own (empty) git repository: ansible-test lists a collection's files with git, and would otherwise ask
the outer repository, which ignores ``.build/``.

ansible-test bootstraps pip into every sanity virtual environment with a get-pip script it downloads
from a host that is not reachable here. ``scripts/ansible_test_get_pip.py`` does the same job with
``ensurepip``; it is copied to the cache path ansible-test reads before it would download anything.

Usage: python scripts/sanity.py [ansible-test sanity options...]   (run with the project's venv Python)
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTION = os.path.join(ROOT, ".build", "sanity", "ansible_collections", "meshops", "istio")
GET_PIP_SOURCE = os.path.join(ROOT, "scripts", "ansible_test_get_pip.py")
# never mirrored: local environments, build output and ansible-test's own output
SKIP_PREFIXES = (".venv", ".tools", ".build", ".cache", "tests/output/")
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


class SanityError(Exception):
    """The sanity run could not be prepared; the message says what to do."""


def source_files() -> list[str]:
    """Return the repository's files that git tracks or would track, relative to the root."""
    result = subprocess.run(
        ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
    )
    if result.returncode != 0:
        raise SanityError(f"'git ls-files' failed in {ROOT}: {result.stderr.decode().strip()}")
    names = sorted(set(result.stdout.decode().split("\0")) - {""})
    return [name for name in names
            if not name.startswith(SKIP_PREFIXES) and os.path.isfile(os.path.join(ROOT, name))
            and not os.path.islink(os.path.join(ROOT, name))]


def mirror(names: list[str]) -> None:
    """Make COLLECTION hold exactly ``names`` (plus ansible-test's tests/output), copying only what changed."""
    wanted = set(names)
    for name in names:
        source, target = os.path.join(ROOT, name), os.path.join(COLLECTION, name)
        if os.path.isfile(target) and filecmp.cmp(source, target, shallow=False):
            if os.stat(source).st_mode != os.stat(target).st_mode:
                shutil.copymode(source, target)
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target)
    kept = (os.path.join(COLLECTION, ".git"), os.path.join(COLLECTION, "tests", "output"))
    for directory, _subdirs, files in os.walk(COLLECTION, topdown=False):
        if directory.startswith(kept):
            continue
        relative_dir = os.path.relpath(directory, COLLECTION)
        for file_name in files:
            if os.path.normpath(os.path.join(relative_dir, file_name)) not in wanted:
                os.remove(os.path.join(directory, file_name))
        if directory != COLLECTION and not os.listdir(directory):
            os.rmdir(directory)


def git_init() -> None:
    """Give the copy its own git repository, so ansible-test lists its files rather than the outer repository's."""
    if os.path.isdir(os.path.join(COLLECTION, ".git")):
        return
    result = subprocess.run(["git", "init", "--quiet", COLLECTION], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise SanityError(f"'git init {COLLECTION}' failed: {result.stdout.decode().strip()}")


def ansible_test_pip_version() -> str:
    """Return the pip version ansible-test bootstraps into its virtual environments."""
    import ansible_test  # pylint: disable=import-outside-toplevel  # only present in the project's venv

    path = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(path, encoding="utf-8") as handle:
        match = re.search(r"default_packages = dict\(\s*pip='([0-9.]+)'", handle.read())
    if not match:
        raise SanityError(f"cannot find the pip version ansible-test uses in {path}; "
                          "ansible-core changed its layout: update scripts/sanity.py.")
    return match.group(1)


def install_get_pip() -> str:
    """Put our offline get-pip into ansible-test's cache (where it looks before downloading); return its path."""
    version = ansible_test_pip_version()
    cache_path = os.path.expanduser(f"~/.ansible/test/cache/get_pip_{version.replace('.', '_')}.py")
    if not (os.path.isfile(cache_path) and filecmp.cmp(GET_PIP_SOURCE, cache_path, shallow=False)):
        os.makedirs(os.path.dirname(cache_path), exist_ok=True)
        shutil.copyfile(GET_PIP_SOURCE, cache_path)
    return cache_path


def main(argv: list[str]) -> int:
    """Prepare the copy and the bootstrap script, then run ansible-test sanity; return its exit code."""
    try:
        mirror(source_files())
        git_init()
        get_pip = install_get_pip()
    except SanityError as error:
        sys.stderr.write(f"sanity: ERROR: {error}\n")
        return 2
    ansible_test = os.path.join(os.path.dirname(sys.executable), "ansible-test")
    command = [ansible_test, "sanity", "--python", PYTHON_VERSION, "--color", "no", *argv]
    sys.stderr.write(f"sanity: collection copy {COLLECTION}\nsanity: pip bootstrap {get_pip}\nsanity: {' '.join(command)}\n")
    sys.stderr.flush()
    return subprocess.run(command, cwd=COLLECTION, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
