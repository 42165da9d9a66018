"""The layers docs/architecture.md draws hold in the code (import-linter's contracts in pyproject.toml)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_in_pyproject_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def _imported_top_level_names(folders: list[str]) -> dict[str, str]:
    """Top-level module names imported anywhere under these folders -> one file importing it."""
    import ast

    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def _declared(groups: list[str]) -> set[str]:
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for group in groups:
        requirements += project["optional-dependencies"][group]
    assert all("==" in r for r in requirements), "every dependency is pinned exactly"
    return {re.split(r"[=<>\[ ]", r)[0].lower().replace("_", "-") for r in requirements}


def _undeclared(folders: list[str], groups: list[str]) -> dict[str, str]:
    from importlib.metadata import packages_distributions

    ours = {"wirecopy", "tasks", "flows", "sql", "benchmarks", "tests"}
    local = {p.stem for folder in ("tests", "tests/hostile") for p in (ROOT / folder).glob("*.py")}
    distributions = packages_distributions()
    declared = _declared(groups)
    missing = {}
    for name, where in _imported_top_level_names(folders).items():
        if name in sys.stdlib_module_names or name in ours or name in local:
            continue
        dists = {d.lower().replace("_", "-") for d in distributions.get(name, [name])}
        if not dists & declared:
            missing[name] = where
    return missing


def test_every_module_the_pipeline_imports_is_a_pinned_runtime_dependency():
    assert _undeclared(["wirecopy", "tasks", "flows"], []) == {}


def test_every_module_the_tests_and_benchmarks_import_is_pinned_in_test_or_bench():
    assert _undeclared(["tests", "benchmarks"], ["test", "bench"]) == {}
