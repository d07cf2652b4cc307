"""Spreading independent, CPU-bound work (one lead's workbook, one returned file) over the machine's cores.

One rule for every stage that does it: a process pool only when there is enough work to repay starting
the workers (each costs ~0.1-0.3 s to start and to import its libraries), at most ``HWBS_WORKERS``
processes (default: the number of cores), and the same results, in the same order, as a plain loop. When
a pool cannot start (a sandbox without process support), the work runs in this process instead.

The shared, read-only inputs (the plan's context, the key) are handed to each worker once, through the
pool's initializer, not pickled again with every item.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from .errors import UsageProblem

T = TypeVar("T")
R = TypeVar("R")

WORKERS_ENV = "HWBS_WORKERS"
# Items per worker below which a second process costs more than it saves.
MIN_ITEMS_PER_WORKER = 12

_shared: tuple[Any, ...] = ()


def workers(items: int, *, min_per_worker: int = MIN_ITEMS_PER_WORKER) -> int:
    """How many processes to use for ``items`` pieces of work (1 means: in this process)."""
    explicit = os.environ.get(WORKERS_ENV, "").strip()
    if explicit:
        if not explicit.isdigit() or int(explicit) < 1:
            raise UsageProblem(f"{WORKERS_ENV}={explicit!r} is not a number of processes.",
                               hint=f"Set {WORKERS_ENV} to 1 or more, or unset it to use every core.")
        most = int(explicit)
    else:
        most = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(most, items // max(1, min_per_worker)))


def _set_shared(*shared: Any) -> None:
    global _shared
    _shared = shared


def _call(fn: Callable[..., R], item: Any) -> R:
    return fn(*_shared, item)


def map_shared(fn: Callable[..., R], shared: Sequence[Any], items: Sequence[T], *,
               min_per_worker: int = MIN_ITEMS_PER_WORKER) -> list[R]:
    """``[fn(*shared, item) for item in items]``, on several processes when there are enough items."""
    return list(imap_shared(fn, shared, items, min_per_worker=min_per_worker))


def imap_shared(fn: Callable[..., R], shared: Sequence[Any], items: Sequence[T], *,
                min_per_worker: int = MIN_ITEMS_PER_WORKER) -> Iterator[R]:
    """``fn(*shared, item)`` for each item, in the order of ``items``, yielded as soon as each is ready, so
    the caller can write one result while the workers make the next.

    ``fn`` must be a module-level function; an exception raised for any item is raised here, as the loop
    would raise it.
    """
    count = workers(len(items), min_per_worker=min_per_worker)
    if count > 1:
        chunk = max(1, min(32, len(items) // (count * 4)))
        pool = None
        try:
            pool = ProcessPoolExecutor(max_workers=count, initializer=_set_shared, initargs=tuple(shared))
            results = pool.map(_call, [fn] * len(items), items, chunksize=chunk)
            first = next(results)  # a pool that cannot start fails here, before anything was yielded
        except (OSError, BrokenProcessPool):  # no process pool here (a sandbox, out of processes): run below
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        else:
            try:
                yield first
                yield from results
            finally:  # also when the caller stops early: do not build what nobody will use
                pool.shutdown(wait=True, cancel_futures=True)
            return
    for item in items:
        yield fn(*shared, item)
