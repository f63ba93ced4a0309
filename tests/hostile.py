"""Helpers for the tests of hostile and broken files: crafted .npy members, a pickle that leaves
evidence when it runs, and checks that a refusal is one sentence and cheap."""
from __future__ import annotations

import io
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from core.errors import UserError


def npy_member(descr: str, shape: tuple, payload: bytes) -> bytes:
    """The bytes of a .npy file whose header claims ``shape`` of ``descr`` but holds ``payload``."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": descr, "fortran_order": False, "shape": shape})
    return out.getvalue() + payload


@contextmanager
def refused(path, *phrases: str, error=UserError):
    """The block must raise ``error``, a UserError whose message is one line that names ``path``
    and contains each of ``phrases``."""
    assert issubclass(error, UserError)
    with pytest.raises(error) as info:
        yield info
    message = str(info.value)
    assert "\n" not in message, f"not one sentence: {message!r}"
    assert str(path) in message, f"{message!r} does not name {path}"
    for phrase in phrases:
        assert phrase in message, f"{message!r} lacks {phrase!r}"


@contextmanager
def cheaply(max_bytes: int = 64 * 2**20, max_seconds: float = 1.0):
    """The block must stay under ``max_bytes`` of peak allocation (NumPy's included) and, loosely,
    under ``max_seconds``: a lying header is refused before its claim is allocated or read."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < max_bytes, f"allocated {peak / 2**20:.0f} MiB on the way to refusing"
    assert elapsed < max_seconds, f"took {elapsed:.2f} s to refuse"


class PickleTrap:
    """Unpickling this object creates the file ``marker``: evidence that loading ran code."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


# Changes to the arrays of a saved model, for tables of broken files: each returns a function
# that edits the dict of arrays in place.

def drop(key):
    """The array ``key`` is missing."""
    def change(arrays):
        del arrays[key]
    return change


def replace_array(key, value_of):
    """The array ``key`` becomes ``value_of(arrays)``."""
    def change(arrays):
        arrays[key] = value_of(arrays)
    return change


def poke(key, index, value):
    """One entry of the array ``key`` becomes ``value``."""
    def value_of(arrays):
        a = arrays[key].copy()
        a[index] = value
        return a
    return replace_array(key, value_of)
