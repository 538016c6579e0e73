"""``make clean`` / ``tpa clean``: remove what tpa generated, never a county's submission.

Generated: the published warehouse (and a WAL beside it), its state folder
(``<warehouse>.d/``: extracts, builds, run history, lock), the reports and exports beside
it, and the sample workbooks ``tpa sample`` wrote (recorded in the raw folder's
``.tpa-sample.json`` with their SHA-256: only those still unchanged are deleted). Every
other file under the raw folder stays (issue 13, item 9: on the office's machine those are
the counties' submissions)."""

from __future__ import annotations

import shutil
from pathlib import Path

from devkit.sample import remove_sample
from pipeline.run.state import STATE_SUFFIX


def clean(raw_dir: Path, warehouse: Path) -> list[str]:
    """Remove the generated files of one installation; return one line per thing done
    (or kept). Raises ``OSError`` when a file cannot be removed."""
    warehouse = Path(warehouse)
    done = []
    for p in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        if p.exists():
            p.unlink()
            done.append(f"removed {p}")
    state = warehouse.with_name(warehouse.name + STATE_SUFFIX)  # state_dir() would create it
    for d in (state, warehouse.parent / "reports", warehouse.parent / "exports"):
        if d.is_dir():
            shutil.rmtree(d)
            done.append(f"removed {d}/")
    if Path(raw_dir).is_dir():
        removed, kept = remove_sample(Path(raw_dir))
        if removed:
            done.append(f"removed {len(removed)} sample workbooks tpa wrote under {raw_dir}")
        done += [f"kept {p}: changed since tpa wrote it" for p in kept]
    return done
