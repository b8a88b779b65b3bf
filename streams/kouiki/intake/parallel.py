"""Check many serialised documents at once, on every core.

Checking is pure and CPU-bound, so a pool of worker processes checks chunks while the caller
(``kouiki submit``) keeps sending; each worker holds its own copy of the registry, which is
read-only while reports are checked (registrations are checked in the caller, in order).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, NamedTuple, TypeVar

from kouiki.contract.check import Checked, Signer, check_bytes
from kouiki.contract.messages import Violation
from kouiki.contract.rules import Registry
from kouiki.messaging.topics import key_for


class DocumentVerdict(NamedTuple):
    """What the caller needs of one checked document; a tuple, so it crosses processes cheaply."""

    kind: str
    key: str | None
    event_id: str | None
    error_class: str | None
    violations: tuple[Violation, ...]


def verdict_of(checked: Checked) -> DocumentVerdict:
    doc = checked.doc
    return DocumentVerdict(
        checked.kind,
        key_for(doc) if doc is not None else None,
        doc.event_id if doc is not None else None,
        checked.error_class,
        tuple(checked.violations),
    )


def check_all(raws: Sequence[bytes], registry: Registry | None, signer: Signer | None = None) -> list[DocumentVerdict]:
    return [verdict_of(check_bytes(raw, registry, signer)) for raw in raws]


T = TypeVar("T")
_WORKER_REGISTRY: Registry | None = None
_WORKER_SIGNER: Signer | None = None
_SHARED_INPUT: Sequence[bytes] = ()  # set before the workers fork, so they read it copy-on-write


def _init_worker(registry: Registry | None, signer: Signer | None) -> None:
    global _WORKER_REGISTRY, _WORKER_SIGNER
    _WORKER_REGISTRY = registry
    _WORKER_SIGNER = signer
    # The fork inherits the parent's heap, which a collection would walk (and copy page by page).
    # Checking creates no reference cycles, so reference counting frees everything it allocates.
    gc.disable()


def _call_with_registry(fn: Callable[..., T], *args: Any) -> T:
    return fn(_WORKER_REGISTRY, *args)


def _check_shared(registry: Registry | None, start: int, stop: int) -> list[DocumentVerdict]:
    return check_all(_SHARED_INPUT[start:stop], registry, _WORKER_SIGNER)


def iter_checked(
    raws: Sequence[bytes],
    registry: Registry | None,
    chunk: int = 5000,
    workers: int | None = None,
    signer: Signer | None = None,
) -> Iterator[list[DocumentVerdict]]:
    """The verdicts on ``raws``, a chunk at a time and in order, checked by ``workers`` processes
    (one per core by default), with ``signer``'s authority when given: the caller can use each chunk
    while the next ones are checked. The
    workers fork after ``raws`` is in place and read it from shared memory, so only index ranges and
    verdicts cross between processes."""
    global _SHARED_INPUT
    _SHARED_INPUT = raws
    try:
        with ParallelChecker(registry, workers, signer) as checker:
            futures = [checker.run(_check_shared, i, min(i + chunk, len(raws))) for i in range(0, len(raws), chunk)]
            for future in futures:
                yield future.result()
    finally:
        _SHARED_INPUT = ()


class ParallelChecker:
    """A process pool whose workers hold the registry (and the signer). ``run(fn, *args)`` calls
    ``fn(registry, *args)`` in a worker and returns its Future."""

    def __init__(self, registry: Registry | None, workers: int | None = None, signer: Signer | None = None) -> None:
        count = workers or max(1, (os.cpu_count() or 2))
        self.pool = ProcessPoolExecutor(
            count,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_init_worker,
            initargs=(registry, signer),
        )

    def run(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self.pool.submit(_call_with_registry, fn, *args)

    def __enter__(self) -> ParallelChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
