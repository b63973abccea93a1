"""Independent blocks of array work on the machine's cores (threads).

The work after sampling (R-hat and ESS of every quantity, PSIS of every observation) is done in blocks of
quantities or observations that do not depend on each other, in NumPy, SciPy and ArviZ calls that release the
GIL for most of their time (sorting, FFTs, ufuncs). Between two fits nothing else runs, so the blocks run in
threads, one per core: threads share the draws without copies, which processes would not.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def workers() -> int:
    """Threads for block work: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def map_blocks(fn: Callable[[T], R], blocks: Sequence[T]) -> list[R]:
    """``[fn(b) for b in blocks]``, in order, with blocks on as many threads as there are cores (in the calling
    thread when there is one block or one core). The first exception raised by ``fn`` is raised here."""
    n = min(len(blocks), workers())
    if n <= 1:
        return [fn(b) for b in blocks]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="tipcausal-blocks") as pool:
        return list(pool.map(fn, blocks))
