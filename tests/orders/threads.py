"""Run one function in many threads at once, each with its own database connection."""

import threading

from django.db import connection


def run_concurrently(count, target):
    """Call `target(n)` for n in range(count), all released together; returns (results by n, errors)."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(n):
        try:
            barrier.wait()
            results[n] = target(n)
        except Exception as exc:  # pragma: no cover - asserted by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors
