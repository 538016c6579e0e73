"""Fixtures shared by several test folders: an isolated Prefect home, a throwaway ID key,
the shared cases folder, a temporary Prefect API (``harness``), the BOOKS sample
workbooks (``books``) and DuckDB sessions in child processes (``sessions``).

Builders (plain functions) live in tests/builders/; this file holds only fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.builders.paths import CASES

# Prefect never touches the user's home or a server in tests; quiet and offline.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ["TPA_ID_KEY"] = "test-key-not-secret"
# the test hooks are injected (pipeline.hooks): inert unless a test sets TPA_TEST_*
os.environ["TPA_HOOKS"] = "devkit.testhooks"
# every .xlsx the tests read is scanned both ways: the fast XML scan must equal the parser
os.environ["TPA_XLSX_META_CHECK"] = "1"


@pytest.fixture(scope="session", autouse=True)
def _prefect_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect_home")
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.pop("PREFECT_API_URL", None)
    yield home


@pytest.fixture(scope="session")
def cases_dir() -> Path:
    if not CASES.is_dir():
        pytest.skip("../shared/cases not present (acceptance cases are optional for the product)")
    return CASES


@pytest.fixture(scope="module")
def harness():
    """A temporary Prefect API for the flows run in this process (one per module)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=300):
        yield


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    """The BOOKS workbooks of tests.builders.runs, written once per module."""
    from tests.builders.runs import write_books

    return write_books(tmp_path_factory.mktemp("books"))


@pytest.fixture
def sessions():
    """Start sessions through this; every child is killed at the end whatever happens."""
    from tests.builders.sessions import Session

    started: list[Session] = []

    def start(path: Path, mode: str = "ro") -> Session:
        s = Session(path, mode)
        started.append(s)
        return s

    yield start
    for s in started:
        s.kill()
