"""The tests mirror the package (issue 14 item 7): every test module sits at the top of
tests/, in acceptance/ (whole-product tests), or in a folder named after a package folder
(pipeline/<x>/, or a top-level package such as flows/); builders live in tests/builders/;
no test module imports from another test module."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.builders.paths import ROOT

TESTS = ROOT / "tests"
PACKAGE_FOLDERS = ("pipeline", "flows", "schemas", "devkit")
EXTRA = {"acceptance", "builders"}  # whole-product tests; shared builders


def allowed_folders() -> set[str]:
    """Folder names a test module may sit in: pipeline's sub-packages and the top-level
    packages, plus EXTRA."""
    pipeline = {p.name for p in (ROOT / "pipeline").iterdir() if (p / "__init__.py").is_file()}
    return pipeline | set(PACKAGE_FOLDERS[1:]) | EXTRA


def find_test_modules() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_every_test_module_sits_in_a_mirrored_folder():
    allowed = allowed_folders()
    assert {"extract", "run", "warehouse", "outputs"} <= allowed, "wrong ROOT?"
    found = find_test_modules()
    assert len(found) > 50, "test modules not found: wrong ROOT?"
    misplaced = [
        p.relative_to(TESTS).as_posix()
        for p in found
        if p.parent != TESTS
        and (p.parent.parent != TESTS or p.parent.name not in allowed - {"builders"})
    ]
    assert not misplaced, f"move these under a folder named after a package folder: {misplaced}"


def test_every_test_folder_is_a_package():
    folders = {p.parent for p in TESTS.rglob("*.py")}
    assert not [f for f in folders if not (f / "__init__.py").is_file()]


def test_no_test_module_imports_another():
    def is_test_module(name: str) -> bool:
        parts = name.split(".")
        return parts[0] == "tests" and any(p.startswith("test_") for p in parts[1:])

    bad = {
        p.relative_to(TESTS).as_posix(): sorted(m for m in imported_modules(p) if is_test_module(m))
        for p in sorted(TESTS.rglob("*.py"))
    }
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"import builders from tests.builders, not from test modules: {bad}"


def test_the_checks_see_a_cross_import(tmp_path):
    """The import check is not vacuous: a nested import of a test module is seen."""
    src = tmp_path / "test_x.py"
    src.write_text("def f():\n    from tests.run.test_publish import x\n")
    assert imported_modules(src) == {"tests.run.test_publish"}
