"""The shape of the package, read from its imports: the pipeline runs one way
(spec -> families -> graph -> backends -> run -> compare), and only the backends know simulators."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "neuromorph"


def imports(path: Path) -> set:
    """Absolute module names imported by ``path`` (relative imports resolved)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            found.add(stem)
            found |= {f"{stem}.{a.name}" for a in node.names}
    return found


def modules(folder: str) -> list:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("folder", ["spec", "families", "graph", "interop", "tasks"])
def test_models_and_graphs_import_no_backend(folder):
    bad = {str(p.relative_to(PACKAGE)): sorted(i for i in imports(p) if i.startswith("neuromorph.backends"))
           for p in modules(folder)}
    assert not {k: v for k, v in bad.items() if v}


@pytest.mark.parametrize("folder", ["hardware", "compare", "run", "sweep"])
def test_hardware_compare_and_run_import_no_backend_module_by_name(folder):
    """They may ask the registry (``neuromorph.backends``) for a backend, never import one."""
    allowed = {"neuromorph.backends", "neuromorph.backends.names", "neuromorph.backends.get",
               "neuromorph.backends.reference"}
    bad = {str(p.relative_to(PACKAGE)): sorted(i for i in imports(p) if i.startswith("neuromorph.backends")
                                              and i not in allowed) for p in modules(folder)}
    assert not {k: v for k, v in bad.items() if v}


def test_no_module_outside_the_backends_imports_a_simulator():
    simulators = ("brian2", "nengo", "nengo_loihi")
    bad = {}
    for p in PACKAGE.rglob("*.py"):
        if "backends" in p.relative_to(PACKAGE).parts:
            continue
        found = sorted(i for i in imports(p) if i.split(".")[0] in simulators)
        if found:
            bad[str(p.relative_to(PACKAGE))] = found
    assert not bad


def test_no_family_branches_outside_families():
    import re

    pattern = re.compile(r"\bfamily\s*(==|!=|in\b|not in\b)")
    bad = [f"{p.relative_to(PACKAGE)}:{n}" for folder in ("backends", "hardware", "compare", "run")
           for p in modules(folder) for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not bad


def test_no_backend_names_a_family():
    """Backends reach families only through the interface: no file under backends/ names the
    pc or nla family or imports a family's package (the predictive coding issue's bar)."""
    import re

    pattern = re.compile(r"""["']pc["']|\bfamilies\.(pc|nla|bm)\b|\bfamily\s*==|\bpc_""")
    bad = [f"{p.relative_to(PACKAGE)}:{n}" for p in modules("backends")
           for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not bad
