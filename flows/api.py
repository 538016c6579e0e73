"""Waiting for a Prefect API (``make server``) to answer, for whatever starts next to it:
``make serve`` after a reboot, the benchmark, the tests."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable


def wait_for_api(
    url: str, alive: Callable[[], bool] = lambda: True, timeout_s: float = 180
) -> bool:
    """True once ``<url>/health`` answers 200 (``url`` ends in ``/api``); False when
    ``alive()`` turns False (the server process died) or ``timeout_s`` seconds pass."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        if not alive() or time.monotonic() > deadline:
            return False
        time.sleep(0.5)
