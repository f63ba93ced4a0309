"""Reading and writing .npz files safely, for models and datasets alike.

Reading never unpickles (it parses each .npy header itself and reads raw bytes) and looks at
every member's header before it reads any data, so a file that claims a huge shape or smuggles
in Python objects is refused before anything is allocated. Each array is then allocated once at
its claimed size and filled a chunk at a time (``read_exactly_into``); given ``max_expansion``
(datasets and models ask for it), a compressed member may not claim to expand beyond
``check_expansion``'s bound; and a caller may read only the first rows of members
(``read_npz_rows``). Only regular files are read (``open_regular``): a FIFO would block and a
device like /dev/zero never end.

Writing goes to a temporary file beside the target that is renamed over it only once complete,
so a crash never leaves half a file nor destroys the previous one; the temporary file a killed
save leaves behind is removed by the next save of the same file. Only a new name or a regular
file is written over (``check_output_path``): never a device, a FIFO or a symbolic link.
"""
from __future__ import annotations

import contextlib
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


def read_npz(path, what: str, max_bytes: int, error=UserError, *, max_expansion=None
             ) -> dict[str, np.ndarray]:
    """Every array in the .npz at ``path``, after checking each member's header: no object
    arrays, a size that agrees with the bytes stored, ``max_bytes`` in all at most, and (given
    ``max_expansion``) no compressed member that expands implausibly (``check_expansion``).
    Any fault raises ``error`` with one sentence naming the file."""
    return read_npz_rows(path, what, max_bytes, error=error, max_expansion=max_expansion)[0]


def read_npz_rows(path, what: str, max_bytes: int, rows: dict[str, int | None] | None = None,
                  error=UserError, *, max_expansion=None
                  ) -> tuple[dict[str, np.ndarray], dict[str, tuple]]:
    """``read_npz``, reading of the member ``key`` only its first ``rows[key]`` rows (entries
    along the first axis) where rows names it: the bytes after them are not read (nor is the
    member's checksum, which covers all of it). A member stored in Fortran order, or 0-d, is read
    whole. Also returns every member's shape as its header claims it, so a caller can check
    counts that the rows cut off. Every member's header is checked first, whatever is read."""
    path = Path(path)
    where = f"{what} '{path}'"
    with open_regular(path, what, error) as f:
        return _read_npz(f, where, max_bytes, rows or {}, max_expansion, error)


# A compressed member or file may expand at most this many times, or to at most EXPANSION_FLOOR
# bytes, whichever is more. Measured: MNIST's images compress 4.8 times (assets/mnist.npz, and
# LeCun's .gz files), its labels 2.1 times, Fashion-MNIST's images 1.9 times; a file of a
# million blank images compresses 1,029 times (784 MB in 762 KB); a network's weights 1.08
# times (np.savez_compressed of fast's). Fifty times is ten times MNIST's, which no images
# worth training on reach; the floor lets small files and members (a few blank test images,
# biases of zeros, whose gzip header outweighs them) through, at no real cost.
MAX_EXPANSION = 50
EXPANSION_FLOOR = 1 << 20  # bytes


def check_expansion(claimed: int, stored: int, where: str, error, ratio=MAX_EXPANSION) -> None:
    """Raise ``error`` if ``claimed`` bytes cannot plausibly come out of ``stored`` compressed
    bytes: a decompression bomb (a small file of zeros that claims gigabytes) is refused before
    anything is decompressed, however honest its header."""
    if claimed > max(EXPANSION_FLOOR, ratio * stored):
        raise error(f"cannot read {where}: {stored:,} compressed bytes would expand to "
                    f"{claimed:,}, {claimed / max(stored, 1):,.0f} times, more than the "
                    f"{ratio} times real data reach; refused as a decompression bomb")


def _read_npz(f, where: str, max_bytes: int, rows: dict, max_expansion, error):
    try:
        with zipfile.ZipFile(f) as archive:
            members = [m for m in archive.infolist() if m.filename.endswith(".npy")]
            if not members:
                raise error(f"cannot read {where}: it holds no arrays")
            total = 0
            headers = []
            for member in members:
                name = _printable(member.filename[:-4])  # for messages: one line, whatever the name
                if member.flag_bits & 0x1:  # zipfile would raise RuntimeError asking for a password
                    raise error(f"cannot read {where}: array '{name}' is encrypted")
                with archive.open(member) as stored:
                    shape, fortran, dtype, header_len = _read_header(stored, name + ".npy", where, error)
                nbytes = math.prod(shape) * dtype.itemsize
                total += nbytes
                if total > max_bytes:
                    raise error(f"cannot read {where}: array '{name}' claims shape "
                                f"{_shape(shape)}, more than the {max_bytes // 2**20} MiB such "
                                f"a file may hold")
                if member.file_size != header_len + nbytes:
                    raise error(f"cannot read {where}: array '{name}' claims shape "
                                f"{_shape(shape)} of {dtype} but the file holds "
                                f"{member.file_size - header_len} bytes for it; the file is damaged")
                if max_expansion is not None and member.compress_type != zipfile.ZIP_STORED:
                    check_expansion(member.file_size, member.compress_size,
                                    f"{where}: array '{name}'", error, max_expansion)
                headers.append((member, shape, fortran, dtype, header_len))
            # each member opened by its ZipInfo, so by its full name: a member named 'x' beside
            # the checked 'x.npy' cannot stand in for it (np.load's npz['x'] would read 'x')
            arrays = {m.filename[:-4]: _read_member(archive, m, shape, fortran, dtype, header_len,
                                                    rows.get(m.filename[:-4]))
                      for m, shape, fortran, dtype, header_len in headers}
            shapes = {m.filename[:-4]: shape for m, shape, *_ in headers}
            return arrays, shapes
    except UserError:
        raise
    except zipfile.BadZipFile as exc:
        raise error(f"cannot read {where}: it is not a valid .npz file ({exc})") from None
    except (zlib.error, lzma.LZMAError, EOFError, ValueError, OSError, NotImplementedError) as exc:
        raise error(f"cannot read {where}: the file is damaged ({exc})") from None


def _read_member(archive, member, shape, fortran, dtype, header_len, rows):
    """The member's array, or its first ``rows`` rows, read into an array allocated once."""
    whole = rows is None or fortran or len(shape) == 0 or rows >= shape[0]
    out_shape = shape if whole else (rows, *shape[1:])
    out = np.empty(out_shape, dtype=dtype, order="F" if fortran else "C")
    with archive.open(member) as stored:
        skip(stored, header_len)  # the header, checked already
        if out.nbytes:
            flat = out.reshape(-1, order="A").view(np.uint8)  # the array's own bytes
            got = read_exactly_into(stored, memoryview(flat))
            if got < out.nbytes:
                raise EOFError(f"member {member.filename!r} ends after {got} of {out.nbytes} bytes")
        if whole:
            stored.read(1)  # reaching the end makes zipfile verify the member's checksum
    return out


CHUNK = 1 << 20  # bytes read at a time from a stream whose length is not yet proven


def skip(f, n: int) -> int:
    """Read and drop ``n`` bytes of ``f`` a chunk at a time; how many there were."""
    done = 0
    while done < n:
        part = f.read(min(CHUNK, n - done))
        if not part:
            break
        done += len(part)
    return done


def read_exactly_into(f, buffer: memoryview, chunk: int = CHUNK) -> int:
    """Fill ``buffer`` from ``f`` a chunk at a time, and return how many bytes came: fewer than
    asked only if ``f`` ended. Nothing is allocated beyond the buffer and one chunk, so a stream
    that lies about its length costs what it holds, not what it claims."""
    have = 0
    while have < len(buffer):
        part = f.read(min(chunk, len(buffer) - have))
        if not part:
            break
        buffer[have:have + len(part)] = part
        have += len(part)
    return have


def _shape(shape: tuple) -> str:
    """A shape for a message: as it is, or its first dimensions and how many more."""
    return str(shape) if len(shape) <= 8 else f"({', '.join(map(str, shape[:8]))}, … {len(shape)} dimensions)"


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
    return shape, fortran, dtype, header_len


def check_can_save(path, what: str, error=UserError) -> None:
    """Raise ``error`` with one sentence unless a file could be saved to ``path`` now: before
    the work that makes it (training), so that the work is not lost to a bad name. ``path`` must
    be a new name or a regular file (``check_output_path``: never a device such as
    /dev/null, a FIFO, a folder or a symbolic link), and its folder must take the temporary file
    the save will write first: one of that very name is made and removed at once, which checks
    that the folder exists and is writable and that the names fit the system's limits (a name
    of more than 255 bytes, a path of more than 4,096). A temporary that a kill leaves here is
    removed by the next save, as a killed save's is."""
    path = Path(path)
    check_output_path(path, what, error)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{_stem(path.name)}.",
                                         suffix=".tmp")
    except FileNotFoundError:
        raise error(f"cannot save {what} to '{path}': there is no folder '{folder}'") from None
    except NotADirectoryError:
        raise error(f"cannot save {what} to '{path}': '{folder}' is not a folder") from None
    except OSError as exc:
        raise error(f"cannot save {what} to '{path}': {exc.strerror or exc}") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(temporary)


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
            # never waiting: a FIFO of that name would hold open() until a writer came
            fd = os.open(candidate, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_NONBLOCK", 0))
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
