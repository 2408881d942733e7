"""Process-wide tuning of the interpreter, applied once when the app is built."""

import gc


def tune_garbage_collector(threshold: int) -> None:
    """Collect the young generation every `threshold` allocations instead of Python's 700.

    Under load a request allocates a few hundred objects that live only as long as the
    request, and dozens of requests are in flight at once: with the default, a collection
    runs every few requests and walks every object still alive in them. At 64 concurrent
    item reads that cost a quarter of the throughput (docs/performance.md in the template's
    repository). Reference counting still frees almost everything at once; only cycles
    wait longer, a few megabytes at most. The older generations keep Python's thresholds.
    """
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(threshold, older, oldest)
