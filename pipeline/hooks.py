"""Points where a run lets tests step in, inert unless ``TPA_HOOKS`` names a module.

The crash-safety tests need a run to stop at an exact stage (to SIGKILL it there) and
a contained child to fail in a chosen way; the run itself never imports that code
(issue 14, item 1). ``TPA_HOOKS=<module>`` (``devkit.testhooks`` in the test suite)
injects it: at each point the module's ``at(point, **context)`` is called.

Points: ``extract`` (an extract half-written, ``pipeline.run.cache.save``), ``build`` (the
new DuckDB file half-written and open), ``publish`` (the build closed, not yet renamed)
and ``parse`` (a contained child about to parse ``path``). Every call also gets
``run_stderr``: in a contained child, a file descriptor of the run's own stderr (the
child's own output goes to a file), else None.

Never set in production: a hook may pause a run that holds the run lock.
"""

from __future__ import annotations

import importlib
import os

ENV = "TPA_HOOKS"
run_stderr: int | None = None  # set in a contained child (pipeline.run.contain)


def at(point: str, **context) -> None:
    """Call the injected hook module's ``at(point, run_stderr=…, **context)``, if any.

    Raises whatever the hook raises (a test hook fails a parse on purpose);
    ``ModuleNotFoundError`` when ``TPA_HOOKS`` names a module that is not installed."""
    name = os.environ.get(ENV)
    if not name:
        return
    importlib.import_module(name).at(point, run_stderr=run_stderr, **context)
