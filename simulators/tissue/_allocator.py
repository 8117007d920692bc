"""Process-wide memory-allocator settings for the adding-doubling solver.

Kept apart from the solver because it is not physics: it changes how the C library's
``malloc`` hands memory back to the system, for the whole process.
"""

from __future__ import annotations

import ctypes
import os
import sys
from functools import cache

__all__ = ["keep_freed_heap"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
"""glibc's ``mallopt`` parameters (``malloc.h``)."""


@cache
def keep_freed_heap() -> None:
    """Stop glibc returning the heap to the system after each chunk; once per process.

    A chunk allocates and frees some megabytes of temporaries. With glibc's default, dynamic
    thresholds the freed top of the heap is trimmed (``brk``) and grown again for the next
    chunk, page fault by page fault: a quarter of the run time went to the kernel, and
    :func:`~simulators.tissue.adding_doubling.slab_rt` ran 1.3-1.4x slower. Fixed
    thresholds (arrays up to 8 MiB from the heap, trimmed beyond 32 MiB of free memory)
    avoid that at the cost of keeping up to 32 MiB of freed memory.

    This changes the allocator for the whole process. It does nothing where the C library
    has no ``mallopt`` (not Linux; musl's is a stub), or when the environment variable
    ``SBINN_KEEP_MALLOC_SETTINGS`` is set, for programs that tune the allocator themselves.
    """
    if not sys.platform.startswith("linux") or os.environ.get("SBINN_KEEP_MALLOC_SETTINGS"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, 8 << 20)
    mallopt(_M_TRIM_THRESHOLD, 32 << 20)
