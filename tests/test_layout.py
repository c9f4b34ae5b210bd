"""The layout is the architecture: imports only run down the stages, so a newcomer can trust the folders.

    yos (the CLI, serve)                 may import anything
      flows (Prefect: flows, tasks, the one run_loads path)
        partners, reports, notify        the stages: pull, render, send
          warehouse                      storage: landing, staging, loading, publishing, audit tables
            partnership                  the partnership's configuration, data directory and logging
              expectations               the feed contracts: import nothing of ours

``sandbox`` (the generator, stand-in partner server, mail catcher and demo) sits beside the stages and is imported
only by the CLI. The test reads every module's imports with ``ast``, so a forbidden import fails here, named.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What each top-level package may import of ours (besides itself).
ALLOWED: dict[str, set[str]] = {
    "yos": {"hub", "flows", "partners", "reports", "notify", "warehouse", "partnership", "expectations", "sandbox"},
    "hub": {"partnership", "expectations"},
    "flows": {"partners", "reports", "notify", "warehouse", "partnership", "expectations"},
    "notify": {"reports", "warehouse", "partnership", "expectations"},
    "partners": {"warehouse", "partnership", "expectations"},
    "reports": {"warehouse", "partnership", "expectations"},
    "sandbox": {"partnership", "expectations", "warehouse"},
    "warehouse": {"partnership", "expectations"},
    "partnership": {"expectations"},
    "expectations": set(),
}
OURS = set(ALLOWED)


def imports_of(path: Path) -> set[tuple[str, int]]:
    """The top-level packages of ours that ``path`` imports, with the line, at any depth (lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {(n.split(".")[0], node.lineno) for n in names if n.split(".")[0] in OURS}
    return found


def test_every_package_is_known() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages == OURS, "a new top-level package needs its place in ALLOWED and the README's architecture"


def test_imports_only_run_down_the_stages() -> None:
    wrong = []
    for package, allowed in ALLOWED.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            for imported, line in sorted(imports_of(path)):
                if imported != package and imported not in allowed:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_the_allowed_imports_have_no_cycle() -> None:
    seen: dict[str, int] = {}

    def visit(package: str, stack: tuple[str, ...]) -> None:
        assert package not in stack, " -> ".join((*stack, package))
        if seen.get(package):
            return
        for below in ALLOWED[package]:
            visit(below, (*stack, package))
        seen[package] = 1

    for package in ALLOWED:
        visit(package, ())


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from flows.run_loads import run_loads\n")
    assert ("flows", 2) in imports_of(module)
