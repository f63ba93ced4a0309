"""Messages between two processes: a kind, a few JSON fields, and arrays as raw bytes with their
dtype and shape, never pickled objects (unpickling runs whatever the sender wrote).

One message is one ``Connection.send_bytes``:

    4 bytes    h, the length of the header, unsigned little-endian
    h bytes    the header, UTF-8 JSON: {"kind": str, "fields": {...},
                                        "arrays": [[name, dtype, [d0, d1, ...]], ...]}
    the rest   each array's bytes in the header's order, C order, native byte order

The reader trusts none of it: ``decode`` checks that the header fits and is the JSON object it
should be, that every dtype is one of a few plain numeric types, that every shape is a short
list of non-negative whole numbers, and that the bytes are exactly as many as the shapes say.
The arrays it returns are read-only views of the message (no copy). Whether the fields and the
shapes are the right ones for the kind is for the receiver to check (``Message.array``).
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass

import numpy as np

DTYPES = frozenset({"uint8", "int64", "float16", "float32", "float64"})
MAX_HEADER = 1 << 20  # bytes: a header is a few hundred bytes, the rest is arrays
MAX_DIMS = 4
_LENGTH = struct.Struct("<I")


class MessageError(ValueError):
    """A message that is not what it should be; the sentence says how."""


@dataclass(frozen=True)
class Message:
    kind: str
    fields: dict
    arrays: dict[str, np.ndarray]

    def array(self, name: str, dtype: str, shape: tuple[int, ...] | None = None,
              ndim: int | None = None) -> np.ndarray:
        """The array ``name``, which must be of ``dtype`` and of ``shape`` (or at least have
        ``ndim`` dimensions); else a MessageError."""
        a = self.arrays.get(name)
        if a is None:
            raise MessageError(f"a {self.kind} message lacks the array {name}")
        if a.dtype != np.dtype(dtype):
            raise MessageError(f"{self.kind}'s {name} is {a.dtype}, expected {dtype}")
        if shape is not None and a.shape != tuple(shape):
            raise MessageError(f"{self.kind}'s {name} has shape {a.shape}, expected {tuple(shape)}")
        if ndim is not None and a.ndim != ndim:
            raise MessageError(f"{self.kind}'s {name} has {a.ndim} dimensions, expected {ndim}")
        return a


def encode(kind: str, fields: dict | None = None, arrays: dict[str, np.ndarray] | None = None) -> bytes:
    """The message as bytes (the arrays are copied once, into them)."""
    arrays = {name: np.ascontiguousarray(a) for name, a in (arrays or {}).items()}
    for name, a in arrays.items():
        if a.dtype.name not in DTYPES:
            raise TypeError(f"array {name} is {a.dtype}: not sent (one of {', '.join(sorted(DTYPES))})")
    header = json.dumps({"kind": kind, "fields": fields or {},
                         "arrays": [[name, a.dtype.name, list(a.shape)] for name, a in arrays.items()]},
                        separators=(",", ":")).encode()
    return b"".join([_LENGTH.pack(len(header)), header,
                     *(memoryview(a).cast("B") for a in arrays.values() if a.size)])


def decode(data: bytes) -> Message:
    """The message these bytes hold, checked (see the module's docstring)."""
    view = memoryview(data)
    if len(view) < _LENGTH.size:
        raise MessageError(f"a message of {len(view)} bytes is too short for its header")
    (h,) = _LENGTH.unpack_from(view)
    if h > MAX_HEADER or _LENGTH.size + h > len(view):
        raise MessageError(f"a message claims a header of {h} bytes in {len(view)}")
    try:
        header = json.loads(bytes(view[_LENGTH.size:_LENGTH.size + h]))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise MessageError(f"a message's header is not JSON: {exc}") from None
    if not (isinstance(header, dict) and set(header) == {"kind", "fields", "arrays"}
            and isinstance(header["kind"], str) and isinstance(header["fields"], dict)
            and isinstance(header["arrays"], list)):
        raise MessageError("a message's header is not {kind, fields, arrays}")
    kind = header["kind"]
    offset = _LENGTH.size + h
    arrays: dict[str, np.ndarray] = {}
    for entry in header["arrays"]:
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
                and entry[1] in DTYPES and isinstance(entry[2], list) and len(entry[2]) <= MAX_DIMS
                and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in entry[2])):
            raise MessageError(f"a {kind} message describes an array as {str(entry)[:80]}")
        name, dtype, shape = entry[0], np.dtype(entry[1]), tuple(entry[2])
        if name in arrays:
            raise MessageError(f"a {kind} message holds two arrays named {name}")
        nbytes = math.prod(shape) * dtype.itemsize  # Python integers: no overflow
        if offset + nbytes > len(view):
            raise MessageError(f"a {kind} message's array {name} {shape} runs past its end")
        arrays[name] = np.frombuffer(view, dtype, math.prod(shape), offset).reshape(shape)
        offset += nbytes
    if offset != len(view):
        raise MessageError(f"a {kind} message has {len(view) - offset} bytes more than its arrays")
    return Message(kind, header["fields"], arrays)


def send(connection, kind: str, fields: dict | None = None,
         arrays: dict[str, np.ndarray] | None = None) -> None:
    connection.send_bytes(encode(kind, fields, arrays))


def receive(connection, max_bytes: int) -> Message:
    """The next message on ``connection`` (blocking), at most ``max_bytes`` long: a longer one
    raises OSError before anything is read into memory; EOFError if the other end closed."""
    return decode(connection.recv_bytes(max_bytes))
