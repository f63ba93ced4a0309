"""Training in a process of its own, so that whatever the window does costs training nothing.

A thread of the window's process holds the GIL whenever it runs Python, and the trainer needs it
between its BLAS calls; a child process has an interpreter of its own and, on a second core,
trains at headless speed. A crash, a runaway allocation or a kill in the child cannot take the
window down.

The pieces, each used from one side:

- ``TrainerProcess`` (the window's side) starts the child with multiprocessing's spawn method
  (the same on Linux, macOS and Windows) and keeps it idle between runs. The data is shared
  once: the four arrays are copied into one block of shared memory that the child maps
  read-only (or, where shared memory is unavailable, sent once through the pipe).
- ``train_in_child`` (the window's worker thread) hands the trainer's whole state to the child
  (``core.train.Trainer.state``), posts what comes back into an outbox as ``core.stream.stream``
  would in a thread, and when the run ends takes the child's state back, so the trainer is left
  exactly as if it had trained in this process. If the child dies, the weights of its last
  snapshot are kept and one sentence says what happened.
- ``RemoteControl`` is a ``core.train.Control`` for a trainer in the child: pause, resume, step,
  stop, the learning rate and the inspected neuron go to the child in order, as messages.
- ``_serve`` is the child: it runs ``core.stream.stream`` on ``core.train.Trainer.run``, the
  training loop used everywhere else, unchanged.

Everything that crosses is a ``core.wire`` message (JSON fields, raw arrays), never a pickle,
and the window checks every field and shape the child sends before using it.

Ctrl+C in the terminal reaches every process of its group, the child too: the child ignores
SIGINT from its first instruction (it is started with SIGINT blocked, and ``_serve`` ignores
it), and the window, which handles it, ends the child. An unexpected error in the child (a bug,
not a user's error) is one sentence for the window and its traceback is kept, in a file of
``log_folder()`` (``save_traceback``) named in the sentence and sent along as the run's
``details``, so that it can be reported.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import queue
import signal
import sys
import tempfile
import threading
import time
import traceback
import types
from contextlib import contextmanager
from multiprocessing import connection, shared_memory
from pathlib import Path

import numpy as np

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from core import wire
from core.config import check_learning_rate
from core.data import Dataset
from core.errors import ConfigError, TrainingDiverged, UserError, one_sentence
from core.evaluation import Evaluation
from core.history import Moment
from core.optim import make_optimizer
from core.stream import stream
from core.train import (
    FLOW_FIELDS,
    BatchReport,
    Control,
    EpochReport,
    Snapshot,
    Trainer,
    stacked_flow,
)

DATA_KEYS = ("x_train", "y_train", "x_test", "y_test")
STOP_GRACE = 2.0  # seconds a stopped child may take to answer before it is killed
MAX_COMMAND = 1 << 31  # bytes of one message to the child: the data, when it is not shared
# The child's scheduling priority below the window's: with one child the two have a core each
# and it changes nothing; with two runs compared, two children and the window's GUI thread share
# two cores, and the window, which wakes for a few milliseconds at a time, comes first. How far
# below, measured with app.bench's two runs live ('fast' and 'classic', 3 epochs, two runs of
# each): 5 left the GUI p99 19-27 ms late, 10 14-19 ms, 15 11-13 ms, the training no slower.
CHILD_NICE = 15
PIPE_BYTES = 1 << 20  # the reports pipe's buffer, where it can be set (see _widen)
BATCH_FIELDS = ("epoch", "epochs", "batch", "batches", "step", "cost", "lr", "samples_per_sec")
COUNTS = ("epoch", "epochs", "batch", "batches", "step")
EPOCH_FIELDS = ("epoch", "epochs", "step", "cost", "train_accuracy", "test_accuracy",
                "test_cost", "seconds", "samples_per_sec")
LOG_NAME = "watch-it-learn"  # the folder of log_folder(): the program's name (app.launch.APP_NAME)
KEPT_LOGS = 20  # tracebacks kept in log_folder(): the oldest go when there are more
MAX_DETAILS = 64 * 1024  # characters of a traceback sent to the window with a failure


# --- tracebacks of unexpected errors --------------------------------------------------------------

def log_folder() -> Path:
    """Where tracebacks of unexpected errors are kept: the user's state folder
    ($XDG_STATE_HOME, else ~/.local/state, on Linux and the BSDs; ~/Library/Logs on macOS;
    %LOCALAPPDATA% on Windows), in a folder of the program's own."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or tempfile.gettempdir()
    elif sys.platform == "darwin":
        base = os.path.join(os.path.expanduser("~"), "Library", "Logs")
    else:
        base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / LOG_NAME


def describe_failure(what: str, exc: BaseException) -> tuple[str, str]:
    """(one sentence, the traceback) for an unexpected error ``exc`` while doing ``what``
    ("training", "reading MNIST"): the sentence names the error and the file its traceback
    was saved to (``save_traceback``), so a bug can be reported; called in an ``except``."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    path = save_traceback(details, what)
    kept = f"; the details are in {path}" if path else ""
    return one_sentence(f"{what} failed unexpectedly ({type(exc).__name__}: {exc}){kept}"), details


def save_traceback(details: str, what: str = "") -> str:
    """Write ``details`` (a traceback) to a new file of ``log_folder()`` (else of the temporary
    folder) and return its path, or "" if neither can be written. Only the KEPT_LOGS newest
    such files are kept. Never raises: it is called while something else has gone wrong."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = (f"{LOG_NAME}: {what or 'an error'} failed unexpectedly, {time.strftime('%Y-%m-%d %H:%M:%S %z')}, "
            f"process {os.getpid()}, Python {sys.version.split()[0]} on {sys.platform}\n\n{details}")
    for folder in (log_folder(), Path(tempfile.gettempdir()) / LOG_NAME):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f"error-{stamp}-", suffix=".log", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
                f.write(text)
        except (OSError, ValueError):
            continue
        _prune(folder)
        return name
    return ""


def _prune(folder: Path) -> None:
    try:
        logs = sorted(folder.glob("error-*.log"), key=lambda p: p.stat().st_mtime)
        for old in logs[:-KEPT_LOGS]:
            old.unlink()
    except OSError:
        pass  # tidying up only


class ChildDied(Exception):
    """The training process ended without being asked to; the message says how."""


# --- the window's side ---------------------------------------------------------------------------

class TrainerProcess:
    """The child process that trains, started once and kept idle between runs.

    ``send`` may be called from any thread; ``receive`` from one thread only (the worker's)."""

    def __init__(self, data: Dataset, share: bool = True):
        self.data = data
        self.share = share  # False: send the data through the pipe (tests of the fallback)
        self._process = None
        self._commands = self._reports = None
        self._memory: shared_memory.SharedMemory | None = None
        self._lock = threading.Lock()  # one message at a time
        self._starting = threading.Lock()  # one start at a time: the window's, or a run's
        self.started_at = 0.0
        self.ready_seconds: float | None = None  # from start to the child's "ready"
        self.pid: int | None = None
        self.modules: tuple[str, ...] = ()  # the top-level packages the child has imported
        self.details = ""  # the traceback of the last run's unexpected failure in the child, or ""

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def prestart(self) -> None:
        """Start the child on a thread of its own, so the caller (the window, just shown) does
        not wait the ~0.2 s of copying the data and spawning; a run that comes meanwhile waits
        for it in ``start``, and a child that cannot start is said by that run."""
        threading.Thread(target=self._start_quietly, name="start-training", daemon=True).start()

    def _start_quietly(self) -> None:
        try:
            self.start()
        except OSError:
            pass  # said by the run that needs the child

    def start(self) -> None:
        """Start the child unless it runs already (after a death, a new one); OSError if the
        system cannot."""
        with self._starting:
            if not self.alive:
                self._start()

    def _start(self) -> None:
        self._release()
        self.started_at, self.ready_seconds = time.monotonic(), None
        spec = self._shared_spec() if self.share else None
        context = multiprocessing.get_context("spawn")
        commands_in, self._commands = context.Pipe(duplex=False)
        self._reports, reports_out = context.Pipe(duplex=False)
        _widen(self._reports)
        self._process = context.Process(target=_serve, args=(commands_in, reports_out, spec),
                                        name="training", daemon=True)
        with _main_module_hidden(), _sigint_blocked():
            self._process.start()  # born with SIGINT blocked: Ctrl+C never interrupts its start-up
        commands_in.close()  # the child's ends: when the child goes, reading says so at once
        reports_out.close()
        self.pid = self._process.pid
        if spec is None:
            self.send("data", {"source": self.data.source},
                      {k: getattr(self.data, k) for k in DATA_KEYS})

    def _shared_spec(self) -> dict | None:
        """The data copied into shared memory, and where each array lies in it; None if there
        is no shared memory here (or too little: writing past it would crash this process)."""
        arrays = [np.ascontiguousarray(getattr(self.data, k)) for k in DATA_KEYS]
        offsets = np.cumsum([0] + [_aligned(a.nbytes) for a in arrays])
        size = max(int(offsets[-1]), 1)
        if os.path.isdir("/dev/shm"):
            fs = os.statvfs("/dev/shm")
            if fs.f_bavail * fs.f_frsize < 2 * size:
                return None
        try:
            memory = shared_memory.SharedMemory(create=True, size=size)
        except OSError:
            return None
        for a, offset in zip(arrays, offsets):
            view = np.ndarray(a.shape, a.dtype, buffer=memory.buf, offset=int(offset))
            view[...] = a
            del view  # no view may outlive the block: close() refuses while one does
        self._memory = memory
        return {"name": memory.name, "source": self.data.source,
                "arrays": [(k, a.dtype.str, a.shape, int(o)) for k, a, o in zip(DATA_KEYS, arrays, offsets)]}

    def send(self, kind: str, fields: dict | None = None, arrays: dict | None = None) -> None:
        """A message to the child; ChildDied if it is gone."""
        with self._lock:
            try:
                wire.send(self._commands, kind, fields, arrays)
            except (OSError, AttributeError):
                raise ChildDied(self._death()) from None

    def receive(self, timeout: float, max_bytes: int) -> wire.Message | None:
        """The child's next message, or None if none came within ``timeout`` seconds. ChildDied
        if the child is gone; wire.MessageError (or OSError) for a message that is malformed
        or longer than ``max_bytes``."""
        ready = connection.wait([self._reports, self._process.sentinel], timeout)
        if not ready:
            return None
        try:
            message = wire.receive(self._reports, max_bytes)  # what it sent before it died comes first
        except EOFError:
            raise ChildDied(self._death()) from None
        if message.kind == "ready":
            self.ready_seconds = time.monotonic() - self.started_at
            modules = message.fields.get("modules")
            self.modules = tuple(m for m in modules if isinstance(m, str)) if isinstance(modules, list) else ()
            return None
        if message.kind == "failed":
            details = message.fields.get("details")
            self.details = details[-MAX_DETAILS:] if isinstance(details, str) else ""
            raise ChildDied(f"the training process could not start: {message.fields.get('why')}")
        return message

    def _death(self) -> str:
        process = self._process
        if process is None:
            return "the training process was not started"
        process.join(1.0)
        code = process.exitcode
        if code is None:
            return "the training process stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the training process was killed ({name})"
        return f"the training process ended with exit code {code}"

    def kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5.0)

    def close(self, timeout: float = 1.0) -> None:
        """End the child (asked first, then killed) and free the shared memory."""
        with self._starting:  # a start under way finishes first
            self._close(timeout)

    def _close(self, timeout: float) -> None:
        if self.alive:
            try:
                self.send("quit")
            except ChildDied:
                pass
            self._process.join(timeout)
            self.kill()
        self._release()

    def _release(self) -> None:
        for end in (self._commands, self._reports):
            if end is not None:
                end.close()
        self._commands = self._reports = None
        if self._process is not None:
            self._process.join(0)  # reaped, if it has ended
            self._process = None
        if self._memory is not None:
            self._memory.close()
            self._memory.unlink()
            self._memory = None


def _widen(end: connection.Connection) -> None:
    """Where the system allows (Linux), make the pipe's buffer 1 MiB instead of 64 KiB: a
    snapshot of 'fast' (0.94 MB of weights) then goes in one write, and the worker reads it in
    one or two pieces rather than fifteen, each of which has to wait for the GIL the window's
    painting holds."""
    size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if size is not None:
        try:
            fcntl.fcntl(end.fileno(), size, PIPE_BYTES)
        except OSError:
            pass  # more than this user may have: the default buffer works, a little slower


def _aligned(n: int) -> int:
    return -(-n // 64) * 64  # each array starts on a cache line


@contextmanager
def _sigint_blocked():
    """SIGINT blocked in this thread while it starts a process, which inherits the mask (as
    multiprocessing's own resource tracker is started): the child's Python then never installs
    its KeyboardInterrupt handler, and a Ctrl+C during its start-up cannot print a traceback.
    The process's other threads still take the signal for the window. A no-op without
    ``pthread_sigmask`` (Windows, where Ctrl+C is not sent to a spawned child this way)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:
        yield
        return
    old = mask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


@contextmanager
def _main_module_hidden():
    """Spawn runs the parent's main module again in the child (so functions defined there can
    be found). Training needs nothing from it, and the window's modules would cost the child Qt
    and a second of imports, so for the start it sees a bare one."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class RemoteControl:
    """A ``core.train.Control`` for a trainer in the child, plus the inspected neuron. Until
    ``opening`` has sent the run, what is asked is only kept, and goes with the run; after it,
    each request is a message, in order."""

    def __init__(self, process: TrainerProcess):
        self._process = process
        self._lock = threading.Lock()
        self._paused = self._stopped = False
        self._steps = 0
        self._lr: float | None = None
        self._inspected: tuple[int, int] | None = None
        self._open = False

    def _post(self, kind: str, **fields) -> None:
        if self._open:
            try:
                self._process.send(kind, fields)
            except ChildDied:
                pass  # the worker hears of it from the child's pipe and says so

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            self._post("pause")

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            self._post("resume")

    def step(self, batches: int = 1) -> None:
        with self._lock:
            self._steps += 0 if self._open else batches
            self._post("step", batches=int(batches))

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._post("stop")

    def set_lr(self, lr: float) -> None:
        check_learning_rate(lr)
        with self._lock:
            self._lr = float(lr)
            self._post("lr", lr=float(lr))

    def inspect(self, neuron: tuple[int, int] | None) -> None:
        with self._lock:
            self._inspected = None if neuron is None else (int(neuron[0]), int(neuron[1]))
            self._post("inspect", neuron=None if neuron is None else list(self._inspected))

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopped(self) -> bool:
        return self._stopped

    @contextmanager
    def opening(self):
        """Holds requests back while the run is sent; yields what they asked for so far."""
        with self._lock:
            yield {"paused": self._paused, "stopped": self._stopped, "steps": self._steps,
                   "lr": self._lr, "inspect": None if self._inspected is None else list(self._inspected)}
            self._open = True


def train_in_child(process: TrainerProcess, trainer: Trainer, control: RemoteControl, outbox) -> str:
    """Run ``trainer`` in the child until the run ends, is stopped or fails, posting what comes
    back into ``outbox`` (``post_batches``, ``post_flow``, ``post_epoch``, ``post_evaluation``,
    ``post_moment``, ``post_snapshot``, ``post_top``). Returns "" or the sentence that says why
    the run failed; raises ``TrainingDiverged`` as ``Trainer.run`` does. ``trainer`` is left as
    the child left it; if the child died, with the weights of its last snapshot."""
    reader = _Reader(trainer)
    process.details = ""
    fields, arrays = trainer.state()
    recovery = _Recovery(trainer, fields, arrays)
    try:
        process.start()
    except OSError as exc:
        return (f"the training process cannot start ({exc}); start the program with --thread "
                f"to train in the window's own process")
    try:
        with control.opening() as asked:
            process.send("run", {"state": fields, **asked}, arrays)
    except ChildDied as exc:
        return recovery.apply(str(exc))
    stopped_at = None
    while True:
        try:
            message = process.receive(0.25, reader.max_bytes)
            if message is None:
                if control.stopped:
                    stopped_at = stopped_at or time.monotonic()
                    if time.monotonic() - stopped_at > STOP_GRACE:
                        process.kill()
                        return recovery.apply(f"the training process did not stop within "
                                              f"{STOP_GRACE:g} s and was ended")
                continue
            if message.kind == "ended":
                failure = message.fields.get("failure")
                state = message.fields.get("state")
                if not isinstance(failure, str):
                    raise wire.MessageError("an ended message without its sentence")
                details = message.fields.get("details")
                process.details = details[-MAX_DETAILS:] if isinstance(details, str) else ""
                if state is not None:
                    if not isinstance(state, dict):
                        raise wire.MessageError("an ended message whose state is not an object")
                    _restore(trainer, state, message.arrays)
                if message.fields.get("diverged") is True:
                    raise TrainingDiverged(failure)
                return failure
            if message.kind == "progress":
                reader.progress(message, outbox, recovery)
            elif message.kind == "top":
                outbox.post_top(*reader.top(message))
            else:
                raise wire.MessageError(f"a message of unknown kind {message.kind!r}")
        except ChildDied as exc:
            return recovery.apply(str(exc))
        except (wire.MessageError, OSError, ValueError, TypeError, KeyError, ConfigError) as exc:
            process.kill()
            return recovery.apply(f"the training process sent a malformed message ({exc}) and "
                                  f"was ended")


def _restore(trainer: Trainer, fields: dict, arrays: dict) -> None:
    try:
        trainer.restore(fields, arrays)
    except (KeyError, TypeError, AttributeError) as exc:
        raise wire.MessageError(f"a state that cannot be restored: {exc!r}") from None


class _Reader:
    """Turns the child's messages back into reports, snapshots and moments, checking every
    field and shape against the trainer's network and data first."""

    def __init__(self, trainer: Trainer):
        self.sizes = trainer.net.sizes
        self.n_test = len(trainer.data.x_test)
        self.y_test = trainer.data.y_test
        self.net = (trainer.net.sizes, trainer.net.hidden.name, trainer.net.output.name, trainer.net.loss.name)
        n_params = sum(w.size + v.size for w, v in zip(trainer.net.W, trainer.net.b))
        n_train = len(trainer.data.x_train)
        # the largest message: the state (weights, two optimiser buffers, a moment) and the
        # epoch's order and test outputs, with room for the headers
        self.max_bytes = 20 * n_params + 8 * n_train + 48 * self.n_test + wire.MAX_HEADER + 65536

    def weights(self, message: wire.Message, prefix: str, dtype: str) -> tuple[tuple, tuple]:
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        W = tuple(message.array(f"{prefix}W{l}", dtype, (m, n)) for l, (m, n) in enumerate(pairs))
        b = tuple(message.array(f"{prefix}b{l}", "float32" if prefix else dtype, (n,))
                  for l, (_, n) in enumerate(pairs))
        return W, b

    def progress(self, message: wire.Message, outbox, recovery: _Recovery) -> None:
        """Everything checked first, then posted: a malformed message posts nothing."""
        f = message.fields
        steps = message.array("steps", "int64", ndim=1)
        k = len(steps)
        positions = message.array("positions", "float64", (k,))
        costs = message.array("costs", "float32", (k,))
        lrs = message.array("lrs", "float32", (k,))
        flow_steps = message.array("flow_steps", "int64", ndim=1)
        flow = message.array("flow", "float32", (len(flow_steps), len(FLOW_FIELDS), len(self.sizes) - 1))
        if not np.isin(flow_steps, steps).all():
            raise wire.MessageError("a gradient flow of batches the message does not hold")
        batch = _report(BatchReport, BATCH_FIELDS, f.get("batch")) if k else None
        epoch = _report(EpochReport, EPOCH_FIELDS, f.get("epoch_report"))
        evaluation = probabilities = None
        if epoch is not None:
            probabilities = message.array("test_probabilities", "float32", (self.n_test, self.sizes[-1]))
            evaluation = Evaluation.of(probabilities, self.y_test, epoch.epoch)
        moment = None if f.get("moment") is None else self.moment(message, f["moment"])
        when = f.get("snapshot")
        if not (isinstance(when, dict) and _numbers(when, ("time", "epoch", "step"))):
            raise wire.MessageError("a progress message without its snapshot's time, epoch and step")
        W, b = self.weights(message, "", "float32")
        sizes, hidden, output, loss = self.net
        snapshot = Snapshot(float(when["time"]), _count(when["epoch"]), _count(when["step"]),
                            sizes, hidden, output, loss, W, b)
        order = None if "order" not in message.arrays else message.array("order", "int64", ndim=1)
        recovery.note(snapshot, f.get("resume"), f.get("rng"), order, probabilities)
        if k:
            outbox.post_batches(steps, positions, costs, lrs, batch)
            outbox.post_flow(flow_steps, flow)
        if epoch is not None:
            outbox.post_epoch(epoch)
            outbox.post_evaluation(evaluation)
        if moment is not None:
            outbox.post_moment(moment)
        outbox.post_snapshot(snapshot)

    def moment(self, message: wire.Message, fields) -> Moment:
        if not (isinstance(fields, dict) and _numbers(fields, ("step", "position", "epoch"))):
            raise wire.MessageError("a moment without its step, position and epoch")
        W, b = self.weights(message, "m", "float16")
        predicted = message.array("predicted", "uint8", (self.n_test,))
        if self.n_test and predicted.max() >= self.sizes[-1]:
            raise wire.MessageError(f"a moment predicts class {predicted.max()}")
        confidence = message.array("confidence", "float16", (self.n_test,))
        return Moment(_count(fields["step"]), float(fields["position"]), _count(fields["epoch"]),
                      W, b, predicted, confidence)

    def top(self, message: wire.Message):
        neuron = message.fields.get("neuron")
        if not (isinstance(neuron, list) and len(neuron) == 2):
            raise wire.MessageError("a top message without its neuron")
        layer, index = (_count(x) for x in neuron)
        indices = message.array("indices", "int64", ndim=1)
        values = message.array("values", "float32", indices.shape)
        if len(indices) and (indices.min() < 0 or indices.max() >= self.n_test):
            raise wire.MessageError("a top message names images outside the test set")
        return (layer, index), indices, values


def _count(value) -> int:
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        raise wire.MessageError(f"{value!r} where a count was expected")
    return value


def _numbers(fields: dict, names) -> bool:
    return all(isinstance(fields.get(n), (int, float)) and not isinstance(fields.get(n), bool)
               and math.isfinite(fields[n]) for n in names)


def _report(cls, names, fields):
    """A BatchReport or EpochReport from its fields: counts, and numbers (a cost may be
    infinite near divergence); None stays None."""
    if fields is None:
        return None
    if not (isinstance(fields, dict) and set(fields) == set(names)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in fields.values())):
        raise wire.MessageError(f"a {cls.__name__} that is not {', '.join(names)}")
    return cls(**{n: _count(fields[n]) if n in COUNTS else float(fields[n]) for n in names})


class _Recovery:
    """What the trainer should become if the child dies: the state it was handed, brought up to
    the child's last snapshot (its weights, step and epoch in progress). The optimiser's memory
    of past gradients lives only in the child and starts afresh."""

    def __init__(self, trainer: Trainer, fields: dict, arrays: dict):
        self.trainer = trainer
        self.fields, self.arrays = dict(fields), dict(arrays)
        self.step = trainer.step
        self.moved = False

    def note(self, snapshot: Snapshot, resume, rng, order, probabilities) -> None:
        if not isinstance(resume, dict):
            raise wire.MessageError("a progress message without where the run could resume")
        if not self.moved:  # the first progress: the handed-over optimiser state is out of date
            fresh = make_optimizer(self.trainer.config.optimizer)
            self.fields["optimizer"] = fresh.state()[0]
            self.arrays = {k: a for k, a in self.arrays.items() if not k.startswith("optimizer.")}
            self.moved = True
        self.fields.update(resume)
        if rng is not None:
            self.fields["rng"] = rng
        for l, (w, v) in enumerate(zip(snapshot.W, snapshot.b)):
            self.arrays[f"W{l}"], self.arrays[f"b{l}"] = w, v
        if order is not None:
            self.arrays["order"] = order
        if probabilities is not None:
            self.arrays["test_probabilities"] = probabilities
        self.step = snapshot.step

    def apply(self, why: str) -> str:
        """Make the trainer what the child last said it was; the sentence for the window."""
        kept = f"the weights of step {self.step:,} were kept"
        try:
            self.trainer.restore(self.fields, self.arrays)
        except (ValueError, TypeError, KeyError, ConfigError):
            kept = "the weights of the start of this run were kept"
        memory = self.moved and self.trainer.config.optimizer != "sgd"
        return (f"{why}; {kept}" + ("; the optimiser's memory of past gradients starts again"
                                     if memory else ""))


# --- the child -----------------------------------------------------------------------------------

def _serve(commands, reports, spec: dict | None) -> None:
    """The child's life: take the data, say ready, then train each run it is sent until told
    to quit (or until the window's end of the pipe closes: it is gone)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the window's to handle: it ends us
    if hasattr(os, "nice"):  # not on Windows
        os.nice(CHILD_NICE)
    inbox = _Inbox(commands)
    reports = _Outgoing(reports)
    try:
        memory, data = _attached(spec) if spec is not None else (None, None)
    except Exception as exc:  # noqa: BLE001 (the window hears why, in one sentence, and the traceback is kept)
        why, details = describe_failure("attaching the shared data", exc)
        wire.send(reports, "failed", {"why": why, "details": details[-MAX_DETAILS:]})
        return
    try:
        wire.send(reports, "ready", {"pid": os.getpid(),
                                     "modules": sorted({name.partition(".")[0] for name in sys.modules})})
        while (item := inbox.items.get()) is not None:
            message, control = item
            if message.kind == "data":
                data = Dataset(*(message.arrays[k] for k in DATA_KEYS), str(message.fields.get("source")))
            elif data is not None:
                _run(data, message, control, inbox, reports)
    except OSError:
        pass  # the window went away without a word (its end of the pipe is closed): so do we
    reports.close()
    if memory is not None:
        del data  # the views first: the block cannot close under them
        memory.close()


def _attached(spec: dict):
    """The shared block ``spec`` names, mapped, and the Dataset of read-only views into it."""
    memory = shared_memory.SharedMemory(name=spec["name"])
    views = []
    for _, dtype, shape, offset in spec["arrays"]:
        view = np.ndarray(tuple(shape), np.dtype(dtype), buffer=memory.buf, offset=offset)
        view.flags.writeable = False
        views.append(view)
    return memory, Dataset(*views, spec["source"])


def _run(data: Dataset, message: wire.Message, control: Control, inbox: _Inbox, reports) -> None:
    trainer = None
    failure, diverged, details = "", False, ""
    try:
        trainer = Trainer.from_state(data, message.fields["state"], message.arrays)
        outbox = _Sender(reports, trainer, control)
        try:
            stream(trainer, control, outbox, lambda: inbox.inspected)
        finally:
            outbox.flush(trainer.snapshot())
    except TrainingDiverged as exc:
        failure, diverged = str(exc), True
    except UserError as exc:  # a setting the trainer refuses: its own sentence
        failure = str(exc)
    except Exception as exc:  # noqa: BLE001 (a bug: the window hears of it, and its traceback is kept)
        failure, details = describe_failure("training", exc)
    fields, arrays = trainer.state() if trainer is not None else (None, {})
    wire.send(reports, "ended", {"failure": failure, "diverged": diverged, "state": fields,
                                 "details": details[-MAX_DETAILS:]}, arrays)


class _Inbox:
    """Reads the window's messages on a thread of its own, so a pause or a stop reaches the
    ``Control`` of the run between two batches however busy the training thread is. Runs (and
    the data) queue up for the training thread in ``items``; None there means: quit."""

    def __init__(self, commands):
        self.commands = commands
        self.items: queue.SimpleQueue = queue.SimpleQueue()
        self.control = Control()
        self.inspected: tuple[int, int] | None = None
        threading.Thread(target=self._read, name="inbox", daemon=True).start()

    def _read(self) -> None:
        try:
            while True:
                message = wire.receive(self.commands, MAX_COMMAND)
                if message.kind == "quit":
                    break
                self._take(message)
        except (EOFError, OSError, wire.MessageError, ValueError, TypeError):
            pass  # the window is gone (or talks nonsense): end
        finally:
            self.control.stop()
            self.items.put(None)

    def _take(self, message: wire.Message) -> None:
        f, c = message.fields, self.control
        if message.kind in ("run", "data"):
            if message.kind == "run":
                c = self.control = Control()
                if f["paused"]:
                    c.pause()
                if f["steps"]:
                    c.step(f["steps"])
                if f["lr"] is not None:
                    c.set_lr(f["lr"])
                if f["stopped"]:
                    c.stop()
                self.inspected = None if f["inspect"] is None else tuple(f["inspect"])
            self.items.put((message, c))
        elif message.kind == "pause":
            c.pause()
        elif message.kind == "resume":
            c.resume()
        elif message.kind == "step":
            c.step(int(f["batches"]))
        elif message.kind == "stop":
            c.stop()
        elif message.kind == "lr":
            c.set_lr(float(f["lr"]))
        elif message.kind == "inspect":
            self.inspected = None if f["neuron"] is None else tuple(f["neuron"])


class _Outgoing:
    """The reports pipe, written by a thread of its own, so that training never waits for the
    window to read. Measured before it (``python -m app.bench``, 'fast', every panel drawn each
    frame): the training thread spent 3 ms per snapshot on average, 18 ms at worst, in
    ``send_bytes`` while the window's worker, waiting for the GIL the painting held, read it in
    64 KiB pieces: about 8% of an epoch. ``send_bytes`` (the ``Connection`` method ``core.wire``
    calls) queues bytes already encoded, so a message is copied when sent and written in order;
    an error writing (the window is gone) is raised by the next call."""

    def __init__(self, connection):
        self.connection = connection
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.error: OSError | None = None
        self._unsent = 0  # messages queued and not yet written
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._write, name="outgoing", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """Is a message still waiting to be written?"""
        return self._unsent > 0

    def send_bytes(self, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        with self._lock:
            self._unsent += 1
        self.queue.put(data)

    def _write(self) -> None:
        while (data := self.queue.get()) is not None:
            try:
                if self.error is None:
                    self.connection.send_bytes(data)
            except OSError as exc:
                self.error = exc
            finally:
                with self._lock:
                    self._unsent -= 1

    def close(self) -> None:
        """Write what is queued (for at most STOP_GRACE seconds, if the window reads no more)."""
        self.queue.put(None)
        self._thread.join(STOP_GRACE)


class _Sender:
    """The child's outbox for ``core.stream.stream``: batches wait until the next snapshot and
    go with it in one "progress" message, with the epoch report and moment due, so that every
    message leaves the window a consistent point to go on from if this process dies. While
    the last message is still being written, a snapshot due is skipped (its batches go with
    the next): a window that reads slowly gets fewer snapshots instead of a growing queue. Not
    the snapshot of an epoch's end, nor the one before a pause: no other would follow soon."""

    def __init__(self, reports, trainer: Trainer, control: Control):
        self.reports = reports
        self.trainer = trainer
        self.control = control
        self.batches: list[BatchReport] = []
        self.epoch: EpochReport | None = None
        self.moment: Moment | None = None
        self.sent = (-1, -1)  # (step, epoch) of the last snapshot sent
        self.order = None  # the order of the training set last sent

    def post_batch(self, report: BatchReport) -> None:
        self.batches.append(report)

    def post_epoch(self, report: EpochReport) -> None:
        self.epoch = report

    def post_evaluation(self, evaluation: Evaluation) -> None:
        pass  # the window makes it from the test outputs that go with the epoch

    def post_moment(self, moment: Moment) -> None:
        self.moment = moment
        self.flush(self.trainer.snapshot())

    def post_snapshot(self, snapshot: Snapshot) -> None:
        if self.reports.busy and self.epoch is None and not self.control.paused:
            return  # the window reads slower than we send: these batches go with the next
        self.flush(snapshot)  # (an epoch's end, or the last batch before a pause, always goes)

    def post_top(self, neuron, indices, values) -> None:
        wire.send(self.reports, "top", {"neuron": list(neuron)},
                  {"indices": np.asarray(indices, np.int64), "values": np.asarray(values, np.float32)})

    def flush(self, snapshot: Snapshot) -> None:
        if not (self.batches or self.epoch or self.moment) and self.sent == (snapshot.step, snapshot.epoch):
            return
        t, batches = self.trainer, self.batches
        arrays = {"steps": np.array([r.step for r in batches], np.int64),
                  "positions": np.array([r.epoch - 1 + r.batch / r.batches for r in batches], np.float64),
                  "costs": np.array([r.cost for r in batches], np.float32),
                  "lrs": np.array([r.lr for r in batches], np.float32),
                  "flow_steps": np.array([r.step for r in batches if r.flow is not None], np.int64),
                  "flow": stacked_flow([r.flow for r in batches if r.flow is not None], len(snapshot.W)),
                  **{f"W{l}": w for l, w in enumerate(snapshot.W)},
                  **{f"b{l}": v for l, v in enumerate(snapshot.b)}}
        fields = {"batch": _fields(batches[-1], BATCH_FIELDS) if batches else None,
                  "epoch_report": None, "moment": None,
                  "snapshot": {"time": snapshot.time, "epoch": snapshot.epoch, "step": snapshot.step},
                  "resume": t.progress_fields(), "rng": t.rng.bit_generator.state}
        if self.epoch is not None:
            fields["epoch_report"] = _fields(self.epoch, EPOCH_FIELDS)
            arrays["test_probabilities"] = t.test_probabilities
        if self.moment is not None:
            m = self.moment
            fields["moment"] = {"step": m.step, "position": m.position, "epoch": m.epoch}
            arrays.update({f"mW{l}": w for l, w in enumerate(m.W)})
            arrays.update({f"mb{l}": v for l, v in enumerate(m.b)})
            arrays.update(predicted=m.predicted, confidence=m.confidence)
        if t.epoch_order is not None and t.epoch_order is not self.order:
            arrays["order"] = self.order = t.epoch_order
        wire.send(self.reports, "progress", fields, arrays)
        self.batches, self.epoch, self.moment = [], None, None
        self.sent = (snapshot.step, snapshot.epoch)


def _fields(report, names) -> dict:
    return {n: getattr(report, n) for n in names}
