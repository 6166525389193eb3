"""The package's shape: stage packages, the few modules named at the top, and no import
cycle (a module that imports another which, directly or through others, imports it)."""

import ast
from pathlib import Path

import roofpv

PACKAGE = Path(roofpv.__file__).parent
#: Modules allowed beside the stage packages (docs/design.md, "The house").
TOP = {"__init__", "__main__", "api", "config", "errors", "findings", "results", "schema"}
STAGE_PACKAGES = {"inputs", "roofs", "energy", "surfaces", "appraise", "targets", "monitoring", "fieldwork",
                  "qgis", "run", "io", "report", "cli", "grid"}


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """roofpv modules ``path`` imports anywhere (module level, functions, TYPE_CHECKING)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("roofpv"):
            for alias in node.names:  # `from pkg import module` imports the module
                name = f"{node.module}.{alias.name}"
                found.add(name if name in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component with more than one module
    (Tarjan's algorithm)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    known = modules()
    graph = {m: imports(p, known) - {m} for m, p in known.items()}
    assert cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_top_level_holds_only_the_named_modules_and_the_stage_packages():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert top == TOP
    assert packages == STAGE_PACKAGES


def test_every_error_class_lives_in_errors():
    """One owner of every exception class: roofpv/errors.py (issue: "one errors.py")."""
    elsewhere = []
    for name, path in modules().items():
        if name == "roofpv.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(b, "id", getattr(b, "attr", "")).endswith(("Error", "Exception")) for b in node.bases):
                elsewhere.append(f"{name}.{node.name}")
    assert elsewhere == []


def test_help_loads_no_heavy_stack():
    """`roofpv --help` and every command's parser stay free of pandas, numpy and the
    geospatial and PV stacks (the commands load them in their run)."""
    import subprocess
    import sys

    code = ("import sys; from roofpv.cli import _parser; _parser(); "
            "print(' '.join(m for m in ('numpy', 'pandas', 'geopandas', 'pvlib', 'rasterio', 'openpyxl') "
            "if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""
