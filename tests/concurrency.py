"""Run the same work on several threads at once, as several workers would, each with its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def at_once(work: Callable[[], T], workers: int = 2) -> tuple[list[T], list[BaseException]]:
    """Start ``work`` on ``workers`` threads at the same moment; what each returned, and what each raised."""
    start = threading.Barrier(workers)
    results: list[T] = []
    failures: list[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            results.append(work())
        except BaseException as exc:  # the test reports whatever went wrong
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures
