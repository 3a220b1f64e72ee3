"""Shared by the security tests: a bound on the CPU time one case may take.

`cpu_bound(seconds)` measures this process's CPU time (the test client runs the view in the
same process), so a case that returns the right status after a minute of work still fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def _cpu_bound(seconds: float) -> Iterator[None]:
    started = time.process_time()
    yield
    spent = time.process_time() - started
    assert spent < seconds, f"took {spent:.2f} s of CPU, the bound is {seconds} s"


@pytest.fixture
def cpu_bound() -> Callable[[float], object]:
    return _cpu_bound
