"""The simulated cluster takes nothing from the product it tests, nor from the project's other test code.

Its ``istio/`` is a second, independent implementation of Istio's injection rules, kept so that the product's own
rules (``plugins/module_utils/istio/``) are checked against something they did not write: an import of the product
would make the two agree by construction. Every Python file of the component (its modules, its tests, its
``bin/`` scripts) is read, and what it takes from outside is listed; the list must stay empty.
"""
from __future__ import annotations

import ast
import os

import pytest

from tests import simcluster

COMPONENT = os.path.dirname(os.path.abspath(simcluster.__file__))
PACKAGE = simcluster.__name__.split(".")
# the names under which the product is importable, and what its files and modules are called in a string
PRODUCT_NAMES = ("ansible_collections", "plugins")
PRODUCT_STRINGS = ("ansible_collections", "plugins/", "plugins\\", "plugins.module_utils", "plugins.modules")


def module_name(path: str) -> list[str]:
    """The dotted name, as parts, of the component's file ``path`` (a package's ``__init__.py``: the package)."""
    parts = os.path.relpath(path, COMPONENT).split(os.sep)
    parts[-1] = os.path.splitext(parts[-1])[0]
    if parts[-1] == "__init__":
        parts.pop()
    return PACKAGE + parts


def _outside(name: str) -> str | None:
    """Why the absolute module ``name`` is outside the component, or None when it is not (standard or third-party)."""
    parts = name.split(".")
    if parts[0] in PRODUCT_NAMES:
        return "the product"
    if parts[0] == PACKAGE[0] and parts[:len(PACKAGE)] != PACKAGE:
        return "the project's other test code"
    return None


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes of the module, its classes and its functions (prose, not a dependency)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def outside_dependencies(source: str, module: list[str], is_package: bool = False) -> list[str]:
    """What the Python ``source`` of the component's ``module`` takes from outside the component, one line per finding.

    Imports of the product (``ansible_collections...``, ``plugins...``) or of ``tests.*`` other than the component,
    relative imports that climb out of it, and strings that name the product's modules or files (an
    ``importlib.import_module`` or a load by path).
    """
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    package = module if is_package else module[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                why = _outside(alias.name)
                if why:
                    found.append(f"line {node.lineno}: import {alias.name} ({why})")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level - 1 <= len(package) else []
                if node.level - 1 > len(package) or base[:len(PACKAGE)] != PACKAGE:
                    found.append(f"line {node.lineno}: from {'.' * node.level}{node.module or ''} import ... "
                                 "(a relative import that climbs out of the simulated cluster)")
                    continue
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            names = [name + "." + alias.name for alias in node.names] if name == PACKAGE[0] else [name]
            for full in names:
                why = _outside(full)
                if why:
                    found.append(f"line {node.lineno}: from {name} import ... ({why})")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in PRODUCT_NAMES or any(text in node.value for text in PRODUCT_STRINGS):
                found.append(f"line {node.lineno}: the string {node.value!r} names the product")
    return found


def python_files(root: str) -> list[str]:
    """Every Python file under ``root``: ``*.py`` and the scripts whose first line runs python (``bin/istioctl``)."""
    paths = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = os.path.join(folder, name)
            if name.endswith(".py"):
                paths.append(path)
            elif os.access(path, os.X_OK):
                with open(path, "rb") as handle:
                    first = handle.readline()
                if first.startswith(b"#!") and b"python" in first:
                    paths.append(path)
    return paths


INSIDE = ["tests", "simcluster", "istio", "injector"]

CASES = [
    # (source, module, what is found)
    ("import ansible_collections.meshops.istio.plugins.module_utils.istio.labels\n", INSIDE,
     ["line 1: import ansible_collections.meshops.istio.plugins.module_utils.istio.labels (the product)"]),
    ("from ansible_collections.meshops.istio.plugins.module_utils.istio import labels\n", INSIDE,
     ["line 1: from ansible_collections.meshops.istio.plugins.module_utils.istio import ... (the product)"]),
    ("from plugins.module_utils.istio.labels import REV\n", INSIDE,
     ["line 1: from plugins.module_utils.istio.labels import ... (the product)"]),
    ("import plugins\n", INSIDE, ["line 1: import plugins (the product)"]),
    ("from ....plugins.module_utils.istio import labels\n", INSIDE,
     ["line 1: from ....plugins.module_utils.istio import ... (a relative import that climbs out of the simulated cluster)"]),
    ("from ...realcluster import build\n", INSIDE,
     ["line 1: from ...realcluster import ... (a relative import that climbs out of the simulated cluster)"]),
    ("from tests.realcluster import build\n", INSIDE, ["line 1: from tests.realcluster import ... (the project's other test code)"]),
    ("import tests.ansible_runner\n", INSIDE, ["line 1: import tests.ansible_runner (the project's other test code)"]),
    ("from tests import ansible_runner\n", INSIDE, ["line 1: from tests import ... (the project's other test code)"]),
    ("import importlib\nimportlib.import_module('ansible_collections.meshops.istio.plugins.module_utils.istio')\n", INSIDE,
     ["line 2: the string 'ansible_collections.meshops.istio.plugins.module_utils.istio' names the product"]),
    ("import os\npath = os.path.join(ROOT, 'plugins/module_utils/istio/labels.py')\n", INSIDE,
     ["line 2: the string 'plugins/module_utils/istio/labels.py' names the product"]),
    ("import os\npath = os.path.join(ROOT, 'plugins', 'module_utils')\n", INSIDE, ["line 2: the string 'plugins' names the product"]),
    # what the component may take: itself, the standard library, third-party libraries; prose may name the product
    ("from ..store import Store\nfrom . import webhooks\n", INSIDE, []),
    ("from .cluster import Settings\n", ["tests", "simcluster"], []),
    ("from tests.simcluster.store import Store\nimport tests.simcluster as simcluster\nfrom tests import simcluster\n", INSIDE, []),
    ("import json\nimport yaml\nfrom kubernetes import client\n", INSIDE, []),
    ('"""Checked against plugins/module_utils/istio/ (ansible_collections.meshops.istio)."""\n'
     "def rule():\n    '''Unlike plugins/module_utils/istio/labels.py.'''\n", INSIDE, []),
]


@pytest.mark.parametrize("source, module, expected", CASES)
def test_outside_dependencies_finds_what_the_component_takes_from_outside(source, module, expected):
    is_package = module == ["tests", "simcluster"]
    assert outside_dependencies(source, module, is_package=is_package) == expected


def test_the_component_takes_nothing_from_the_product_or_the_other_tests():
    # this file is left out: its cases name the product on purpose
    files = [path for path in python_files(COMPONENT) if path != os.path.abspath(__file__)]
    assert os.path.join(COMPONENT, "bin", "istioctl") in files and os.path.join(COMPONENT, "istio", "injector.py") in files
    findings = []
    for path in files:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
        module = module_name(path)
        for finding in outside_dependencies(source, module, is_package=os.path.basename(path) == "__init__.py"):
            findings.append(f"{os.path.relpath(path, COMPONENT)} {finding}")
    assert findings == [], "the simulated cluster must not depend on the product or on other test code:\n" + "\n".join(findings)
