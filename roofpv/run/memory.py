"""Giving the memory a large run has freed back to the system between its steps."""

from __future__ import annotations


def give_back_freed_memory() -> None:
    """Return the memory this process has freed to the system: glibc's heap
    (``malloc_trim``; elsewhere nothing) and Arrow's allocator (what it keeps of the
    Parquet columns read). Both keep freed blocks mapped for reuse, so the resident memory
    of a run's jurisdiction-wide steps would otherwise start from the high-water mark of
    the step before (the read phase, the partitions, grid admission), not from what the
    process still holds."""
    import ctypes

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
