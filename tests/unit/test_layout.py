"""The layers of plugins/module_utils: docs/layout.md names every file, and imports only go downward."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULE_UTILS = ROOT / "plugins" / "module_utils"
LAYOUT = ROOT / "docs" / "layout.md"
PREFIX = "ansible_collections.meshops.istio.plugins."
# what each layer may import from the collection (its own folder always)
ALLOWED = {
    "istio": set(),
    "k8s": set(),
    "mesh_reads": {"istio", "k8s"},
    "installers": {"istio", "k8s", "yaml_support"},
}


def files_of(layer: str) -> list[str]:
    return sorted(p.name for p in (MODULE_UTILS / layer).glob("*.py") if p.name != "__init__.py")


def documented(layer: str) -> list[str]:
    """The files the section of ``layer`` in docs/layout.md lists."""
    text = LAYOUT.read_text(encoding="utf-8")
    section = text.split("## `%s/`" % layer, 1)[1].split("\n## ", 1)[0]
    return sorted(re.findall(r"^\| `([^`]+\.py)` \|", section, flags=re.M))


def collection_imports(path: Path) -> list[str]:
    """The collection's modules ``path`` imports, as paths below plugins/ (``module_utils.istio.labels``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [name[len(PREFIX):] for name in names if name.startswith(PREFIX)]
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layout_page_names_every_file_of_the_layer(layer):
    assert documented(layer) == files_of(layer)


def test_every_folder_of_module_utils_is_a_known_layer():
    folders = sorted(p.name for p in MODULE_UTILS.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(ALLOWED)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_imports_only_go_downward(layer):
    wrong = []
    for path in sorted((MODULE_UTILS / layer).glob("*.py")):
        for name in collection_imports(path):
            parts = name.split(".")
            target = parts[1] if parts[0] == "module_utils" and len(parts) > 1 else parts[0]
            if target != layer and target not in ALLOWED[layer]:
                wrong.append("%s imports %s" % (path.name, name))
    assert wrong == []


def test_the_import_check_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from ansible_collections.meshops.istio.plugins.module_utils.k8s import api\n", encoding="utf-8")
    assert collection_imports(bad) == ["module_utils.k8s"]
