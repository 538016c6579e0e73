"""A pause point for the crash-safety tests, inert unless ``TPA_TEST_PAUSE_AT`` is set.

``TPA_TEST_PAUSE_AT=extract|build|publish`` makes a run stop at that stage: it prints
``TPA_TEST_PAUSED <stage> <pid>`` on stderr and sleeps (up to ``TPA_TEST_PAUSE_S``
seconds, default 600), so that a test can SIGKILL it at that exact moment:

* ``extract``: inside ``pipeline.extracts.save``, with a half-written ``.tmp-*`` extract;
* ``build``: inside ``pipeline.build.build``, with the new DuckDB file half-written and open;
* ``publish``: the build is complete and closed, just before it is renamed over the warehouse.

Never set it in production: a paused run holds the run lock until it is killed.
"""

from __future__ import annotations

import os
import sys
import time

ENV = "TPA_TEST_PAUSE_AT"
MARKER = "TPA_TEST_PAUSED"


def pause(stage: str) -> None:
    """Pause here if ``TPA_TEST_PAUSE_AT`` names ``stage``; otherwise return at once."""
    if os.environ.get(ENV) != stage:
        return
    print(f"{MARKER} {stage} {os.getpid()}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("TPA_TEST_PAUSE_S", "600")))
