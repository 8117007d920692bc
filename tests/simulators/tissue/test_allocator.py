import ctypes
import sys

import pytest

from simulators.tissue._allocator import keep_freed_heap


class RecordingFunction:
    """Stands in for a ctypes function: takes argtypes/restype and records its calls."""

    def __init__(self):
        self.calls = []

    def __call__(self, parameter, value):
        self.calls.append((parameter, value))
        return 1


class RecordingLibrary:
    def __init__(self):
        self.mallopt = RecordingFunction()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_fixed_heap_thresholds_are_set(monkeypatch):
    library = RecordingLibrary()
    monkeypatch.delenv("SBINN_KEEP_MALLOC_SETTINGS", raising=False)
    monkeypatch.setattr(ctypes, "CDLL", lambda name: library)
    keep_freed_heap.__wrapped__()
    # M_MMAP_THRESHOLD (-3) to 8 MiB, M_TRIM_THRESHOLD (-1) to 32 MiB
    assert library.mallopt.calls == [(-3, 8 << 20), (-1, 32 << 20)]


def test_the_allocator_is_left_alone_when_asked(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("mallopt must not be looked up")

    monkeypatch.setenv("SBINN_KEEP_MALLOC_SETTINGS", "1")
    monkeypatch.setattr(ctypes, "CDLL", refuse)
    assert keep_freed_heap.__wrapped__() is None


def test_a_c_library_without_mallopt_is_no_error(monkeypatch):
    monkeypatch.delenv("SBINN_KEEP_MALLOC_SETTINGS", raising=False)
    monkeypatch.setattr(ctypes, "CDLL", lambda name: object())
    assert keep_freed_heap.__wrapped__() is None
