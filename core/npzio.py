"""Reading and writing .npz files safely, for models and datasets alike.

Reading never unpickles (``allow_pickle=False``) and looks at every member's header before it
reads any data, so a file that claims a huge shape or smuggles in Python objects is refused
before anything is allocated. Only regular files are read (``open_regular``): a FIFO would block
and a device like /dev/zero never end. Writing goes to a temporary file beside the target that is renamed
over it only once complete, so a crash never leaves half a file nor destroys the previous one;
the temporary file a killed save leaves behind is removed by the next save of the same file.
Only a new name or a regular file is written over (``check_output_path``): never a device, a FIFO
or a symbolic link.
"""
from __future__ import annotations

import lzma
import math
import os
import re
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from core.errors import UserError

try:
    import fcntl  # POSIX: a saver holds an advisory lock on its temporary file
except ImportError:  # Windows: a file still open cannot be deleted, which serves the same end
    fcntl = None

MAX_HEADER = 10_000  # bytes; np.load's own default limit


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, for a message: 'a FIFO', 'a character device'..."""
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (a named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return kind
    return "not a regular file"


def check_readable_file(path: Path, what: str, error=UserError) -> None:
    """Raise ``error`` unless ``path`` is a regular file this process may read: a FIFO, a device
    or a socket is refused by name (reading one would block or never end), and so is a name the
    system rejects (too long, a loop of links) instead of the OSError it would raise."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise error(f"cannot read {what} '{path}': no such file") from None
    except OSError as exc:
        raise error(f"cannot read {what} '{path}': {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise error(f"cannot read {what} '{path}': it is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise error(f"cannot read {what} '{path}': it is {file_kind(mode)}, not a regular file")
    if not os.access(path, os.R_OK):
        raise error(f"cannot read {what} '{path}': permission denied")


def open_regular(path, what: str, error=UserError):
    """``path`` opened for reading in binary, if it is a regular file (``check_readable_file``'s
    sentences otherwise). Opening never blocks: the file is opened without waiting (a FIFO with
    no writer would hold ``open`` forever) and looked at through its descriptor, so a file
    swapped for a FIFO between a check and the open is caught too."""
    path = Path(path)
    check_readable_file(path, what, error)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
                     | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise error(f"cannot read {what} '{path}': {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"cannot read {what} '{path}': it is {file_kind(mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_output_path(path, what: str, error=UserError) -> None:
    """Raise ``error`` unless ``path`` may be replaced by a saved file: it does not exist yet, or
    it is a regular file. A folder, a device (``--out /dev/null`` would otherwise replace the
    node itself), a FIFO, a socket or a symbolic link is refused by name: saving replaces a
    file by renaming a new one over it, which would turn a link into a copy without a word."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise error(f"cannot save {what} to '{path}': {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise error(f"cannot save {what} to '{path}': it is a folder")
    if stat.S_ISLNK(mode):
        raise error(f"cannot save {what} to '{path}': it is a symbolic link; save to the file "
                    f"it points to, '{os.path.realpath(path)}'")
    if not stat.S_ISREG(mode):
        raise error(f"cannot save {what} to '{path}': it is {file_kind(mode)}, not a regular file")


def read_npz(path, what: str, max_bytes: int, error=UserError) -> dict[str, np.ndarray]:
    """Every array in the .npz at ``path``, after checking each member's header: no object
    arrays, a size that agrees with the bytes stored, and ``max_bytes`` in all at most.
    Any fault raises ``error`` with one sentence naming the file."""
    path = Path(path)
    where = f"{what} '{path}'"
    with open_regular(path, what, error) as f:
        return _read_npz(f, where, max_bytes, error)


def _read_npz(f, where: str, max_bytes: int, error) -> dict[str, np.ndarray]:
    try:
        with zipfile.ZipFile(f) as archive:
            members = [m for m in archive.infolist() if m.filename.endswith(".npy")]
            if not members:
                raise error(f"cannot read {where}: it holds no arrays")
            total = 0
            for member in members:
                name = _printable(member.filename[:-4])  # for messages: one line, whatever the name
                if member.flag_bits & 0x1:  # zipfile would raise RuntimeError asking for a password
                    raise error(f"cannot read {where}: array '{name}' is encrypted")
                with archive.open(member) as stored:
                    shape, dtype, header_len = _read_header(stored, name + ".npy", where, error)
                nbytes = math.prod(shape) * dtype.itemsize
                total += nbytes
                if total > max_bytes:
                    raise error(f"cannot read {where}: array '{name}' claims shape {shape}, more "
                                f"than the {max_bytes // 2**20} MiB such a file may hold")
                if member.file_size != header_len + nbytes:
                    raise error(f"cannot read {where}: array '{name}' claims shape {shape} of "
                                f"{dtype} but the file holds {member.file_size - header_len} "
                                f"bytes for it; the file is damaged")
            f.seek(0)
            with np.load(f, allow_pickle=False) as npz:
                # by the member's full name: npz['x'] would read a member named 'x', not the
                # checked 'x.npy', if the archive also holds one
                return {m.filename[:-4]: npz[m.filename] for m in members}
    except UserError:
        raise
    except zipfile.BadZipFile as exc:
        raise error(f"cannot read {where}: it is not a valid .npz file ({exc})") from None
    except (zlib.error, lzma.LZMAError, EOFError, ValueError, OSError, NotImplementedError) as exc:
        raise error(f"cannot read {where}: the file is damaged ({exc})") from None


def _printable(name: str) -> str:
    """A member's name as it may appear in a one-line message: control characters escaped."""
    return name if name.isprintable() else name.encode("unicode_escape").decode("ascii")


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
    """Write ``arrays`` to ``path`` as an uncompressed .npz, all or nothing (``write_atomically``)."""
    write_atomically(path, lambda f: np.savez(f, **arrays), what, error)


def write_atomically(path, write, what: str, error=UserError) -> None:
    """``write(f)`` into ``path``, all or nothing (any file: a model, a time-lapse GIF).

    The data goes to ``.{name}.XXXXXXXX.tmp`` beside ``path``, which is renamed over ``path``
    once complete. The saver holds an exclusive lock on its temporary file until the rename, and
    a process that dies loses its locks; so a temporary file of ``path`` that nobody holds is
    debris of a killed save, and is removed before writing (``remove_stale_temporaries``). Two
    processes saving the same file at once therefore never remove each other's work: the last
    rename wins, and the other save's file was complete too."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    check_output_path(path, what, error)
    tmp = lock = None
    try:
        remove_stale_temporaries(path)
        fd, tmp, lock = _locked_temporary(path, folder)
        os.chmod(tmp, _mode_for(path))  # mkstemp makes it private (0600); a saved file is not
        with os.fdopen(fd, "wb") as f:
            write(f)
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
        if lock is not None:
            os.close(lock)


def _locked_temporary(path: Path, folder: Path):
    """A new temporary file for ``path``: its descriptor, its name, and a second descriptor that
    holds the lock (None without fcntl) and outlives the first until after the rename."""
    while True:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{_stem(path.name)}.", suffix=".tmp")
        if fcntl is None:
            return fd, tmp, None
        lock = os.dup(fd)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
        except OSError:  # a file system without locks: save unguarded rather than not at all
            os.close(lock)
            return fd, tmp, None
        if os.fstat(lock).st_nlink > 0:
            return fd, tmp, lock
        # another save took it for debris between mkstemp and flock, and unlinked it: again
        os.close(lock)
        os.close(fd)


def remove_stale_temporaries(path) -> list[Path]:
    """Remove the temporary files that killed saves of ``path`` left beside it, and list them.

    Only names exactly of the form ``tempfile.mkstemp`` gives ours (``.{name}.`` eight characters
    of [a-z0-9_] ``.tmp``), only regular files, never through a symbolic link, and only those no
    live saver holds: with fcntl, a file whose lock we can take; without, a file the system lets
    us delete (Windows refuses while it is open). Errors are ignored: this is tidying up."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    pattern = re.compile(rf"\.{re.escape(_stem(path.name))}\.[a-z0-9_]{{8}}\.tmp")
    removed = []
    try:
        names = [n for n in os.listdir(folder) if pattern.fullmatch(n)]
    except OSError:
        return removed
    for name in names:
        candidate = folder / name
        try:
            if fcntl is None:
                if stat.S_ISREG(os.lstat(candidate).st_mode):
                    os.unlink(candidate)
                    removed.append(candidate)
                continue
            fd = os.open(candidate, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # OSError while a saver holds it
                os.unlink(candidate)
                removed.append(candidate)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


NAME_MAX = 255  # bytes in one file name, on every file system this program meets
TEMPORARY_EXTRA = len(".") + len(".") + 8 + len(".tmp")  # what the temporary name adds


def _stem(name: str) -> str:
    """The part of ``name`` a temporary file's name starts with: all of it, or as many bytes as
    leave room for the 14 the temporary name adds, so that a valid name of 242-255 bytes can
    still be saved (cut inside a character, the bytes still make a name: fsdecode keeps them)."""
    encoded = os.fsencode(name)
    room = NAME_MAX - TEMPORARY_EXTRA
    return name if len(encoded) <= room else os.fsdecode(encoded[:room])


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
