"""Reading and writing .npz files safely, for models and datasets alike.

Reading never unpickles (``allow_pickle=False``) and looks at every member's header before it
reads any data, so a file that claims a huge shape or smuggles in Python objects is refused
before anything is allocated. Writing goes to a temporary file beside the target that is renamed
over it only once complete, so a crash never leaves half a file nor destroys the previous one.
"""
from __future__ import annotations

import math
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from core.errors import UserError

MAX_HEADER = 10_000  # bytes; np.load's own default limit


def check_readable_file(path: Path, what: str, error=UserError) -> None:
    if not path.exists():
        raise error(f"cannot read {what} '{path}': no such file")
    if path.is_dir():
        raise error(f"cannot read {what} '{path}': it is a folder, not a file")
    if not os.access(path, os.R_OK):
        raise error(f"cannot read {what} '{path}': permission denied")


def read_npz(path, what: str, max_bytes: int, error=UserError) -> dict[str, np.ndarray]:
    """Every array in the .npz at ``path``, after checking each member's header: no object
    arrays, a size that agrees with the bytes stored, and ``max_bytes`` in all at most.
    Any fault raises ``error`` with one sentence naming the file."""
    path = Path(path)
    check_readable_file(path, what, error)
    where = f"{what} '{path}'"
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if m.filename.endswith(".npy")]
            if not members:
                raise error(f"cannot read {where}: it holds no arrays")
            total = 0
            for member in members:
                with archive.open(member) as f:
                    shape, dtype, header_len = _read_header(f, member.filename, where, error)
                name = member.filename[:-4]
                nbytes = math.prod(shape) * dtype.itemsize
                total += nbytes
                if total > max_bytes:
                    raise error(f"cannot read {where}: array '{name}' claims shape {shape}, more "
                                f"than the {max_bytes // 2**20} MiB such a file may hold")
                if member.file_size != header_len + nbytes:
                    raise error(f"cannot read {where}: array '{name}' claims shape {shape} of "
                                f"{dtype} but the file holds {member.file_size - header_len} "
                                f"bytes for it; the file is damaged")
            with np.load(path, allow_pickle=False) as npz:
                return {m.filename[:-4]: npz[m.filename[:-4]] for m in members}
    except UserError:
        raise
    except zipfile.BadZipFile as exc:
        raise error(f"cannot read {where}: it is not a valid .npz file ({exc})") from None
    except (zlib.error, EOFError, ValueError, OSError, NotImplementedError) as exc:
        raise error(f"cannot read {where}: the file is damaged ({exc})") from None


def _read_header(f, member: str, where: str, error):
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=MAX_HEADER)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=MAX_HEADER)
        header_len = f.tell()
    except (ValueError, EOFError) as exc:
        raise error(f"cannot read {where}: member '{member}' is not a NumPy array ({exc})") from None
    if dtype.hasobject:
        raise error(f"cannot read {where}: array '{member[:-4]}' holds Python objects, which "
                    f"could run code when loaded; refused")
    return shape, dtype, header_len


def write_npz_atomically(path, arrays: dict[str, np.ndarray], what: str, error=UserError) -> None:
    """Write ``arrays`` to ``path`` as an uncompressed .npz, all or nothing."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise error(f"cannot save {what} to '{path}': it is a folder")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        os.chmod(tmp, _mode_for(path))  # mkstemp makes it private (0600); a saved file is not
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        _fsync_folder(folder)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise error(f"cannot save {what} to '{path}': {reason}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _mode_for(path: Path) -> int:
    """The permissions of the file being replaced, or those any new file gets (0666 - umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
