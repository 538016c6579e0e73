"""Shared fixtures: an isolated Prefect home, a throwaway ID key, the shared cases folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT.parent / "shared" / "cases"

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
