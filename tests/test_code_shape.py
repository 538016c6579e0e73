"""Code shape (issue 14): no function in the package is longer than 80 lines.

A function is counted from its `def` line to the last line of its body (decorators
excluded), as `ast` reports them. Long functions are split by responsibility.
"""

import ast

from tests.builders.paths import ROOT

PACKAGES = ("pipeline", "schemas", "flows", "devkit")
MAX_LINES = 80


def function_lengths(source: str) -> dict[str, int]:
    """{qualified name: lines from `def` to the end of the body} for every function."""
    out: dict[str, int] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                out[name] = child.end_lineno - child.lineno + 1
                walk(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")
            else:
                walk(child, prefix)

    walk(ast.parse(source), "")
    return out


def package_functions() -> dict[str, int]:
    found: dict[str, int] = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for name, n in function_lengths(path.read_text(encoding="utf-8")).items():
                found[f"{rel}:{name}"] = n
    return found


def test_counts_def_line_to_end_of_body():
    src = "@deco\ndef f(\n    a,\n):\n    x = 1\n\n    return x\n\nclass C:\n    def m(self):\n        pass\n"
    assert function_lengths(src) == {"f": 6, "C.m": 2}


def test_nested_functions_are_counted_on_their_own():
    src = "def outer():\n    def inner():\n        return 1\n    return inner\n"
    assert function_lengths(src) == {"outer": 4, "outer.inner": 2}


def test_no_function_longer_than_80_lines():
    found = package_functions()
    assert found, "no function found: wrong root?"
    too_long = {k: n for k, n in found.items() if n > MAX_LINES}
    assert not too_long, f"split these (> {MAX_LINES} lines): {too_long}"
