"""Progress of a run on a terminal (issue 13): files parsed of files new.

The flow reports through plain module functions (``start``, ``done``, ``stage``) that do
nothing unless a display is attached (``terminal_progress``, used by ``tpa run`` only
when stderr is a terminal): nothing reaches logs, and worker processes (where no
display is attached) report nothing; the flow reports their files when a batch ends.
A file reported twice (by an extract task in this process, then by the flow) counts once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_seen: set[str] = set()
_hook: list[Callable[[str, int, int | None], None]] = []  # (stage, done, total)
_state = {"total": None, "stage": "reading workbooks"}


def _emit() -> None:
    for fn in _hook:
        fn(_state["stage"], len(_seen), _state["total"])


def start(total: int) -> None:
    """``total`` workbooks are about to be parsed."""
    with _lock:
        _seen.clear()
        _state["total"], _state["stage"] = total, "parsing new workbooks"
        _emit()


def done(keys: Iterable[str]) -> None:
    """The workbooks ``keys`` (SHA-256) are parsed (or given up)."""
    with _lock:
        _seen.update(keys)
        _emit()


def stage(text: str) -> None:
    """What the run does now (after parsing: building, publishing…)."""
    with _lock:
        _state["stage"] = text
        _emit()


@contextmanager
def attached(fn: Callable[[str, int, int | None], None]) -> Iterator[None]:
    """Call ``fn(stage, done, total)`` on every report while the block runs."""
    with _lock:
        _seen.clear()
        _state["total"], _state["stage"] = None, "reading workbooks"
        _hook.append(fn)
    try:
        yield
    finally:
        with _lock:
            _hook.remove(fn)


@contextmanager
def terminal_progress(console) -> Iterator[None]:
    """A rich progress bar on ``console`` (stderr) while the block runs, only when that
    console is a terminal; otherwise nothing at all."""
    if not console.is_terminal:
        yield
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]tpa run[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("reading workbooks", total=None)

        def show(text: str, n: int, total: int | None) -> None:
            bar.update(task, description=text, completed=n, total=total)

        with attached(show):
            yield
