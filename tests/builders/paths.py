"""Where things are: the checkout (ROOT) and the optional shared folders beside it (the
acceptance CASES and the CORPUS of real-world workbooks)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT.parent / "shared" / "cases"
CORPUS = ROOT.parent / "shared" / "corpus"
