"""Training on a worker thread, and the mailbox through which it reaches the window.

The worker drives ``core.train.Trainer.run`` in a ``QThread``. It never calls the window: it
leaves what it has in a ``Mailbox`` (the batches since the last look, the epoch reports, the
moments ``core.history.Recorder`` chose for the history, the newest snapshot of the weights), and
the window empties the mailbox on its redraw timer. However
fast training goes, the window sees at most one snapshot per frame and nothing piles up in Qt's
event queue. Everything in the mailbox is immutable or a copy.

Pause, resume, step, stop and the learning rate go straight to the trainer's ``core.train.Control``
(thread-safe), not through queued slots: a queued slot would wait until the busy worker returned
to its event loop, which it does only when training ends.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from core.errors import TrainingDiverged
from core.evaluation import Evaluation
from core.history import Moment, Recorder, position_of
from core.inspect import top_exciting
from core.train import BatchReport, Control, EpochReport, Snapshot, Trainer

SNAPSHOT_INTERVAL = 0.04  # seconds between two snapshots of the weights: about one per frame
TOP_BUDGET = 0.02  # at most this share of the worker's time goes to finding exciting images


@dataclass(frozen=True)
class Delivery:
    """What the mailbox held when the window looked."""
    steps: np.ndarray  # the batches trained since the last look: their step numbers
    positions: np.ndarray  # their points of training in epochs
    costs: np.ndarray  # their costs
    lrs: np.ndarray  # and the learning rates they were trained with
    epochs: tuple[EpochReport, ...]
    moments: tuple[Moment, ...]  # for the history, oldest first
    batch: BatchReport | None  # the newest, for the status bar
    snapshot: Snapshot | None  # None: no newer weights than at the last look
    top: tuple | None = field(default=None)  # ((layer, neuron), indices, values), or None
    evaluation: Evaluation | None = field(default=None)  # of the newest epoch, or None


class Mailbox:
    """The latest of everything, under one lock: the worker posts, the window takes."""

    def __init__(self):
        self._lock = threading.Lock()
        self._clear()

    def _clear(self):
        self._steps, self._positions, self._costs, self._lrs = [], [], [], []
        self._epochs, self._moments = [], []
        self._batch = self._snapshot = self._top = self._evaluation = None

    def post_batch(self, report: BatchReport) -> None:
        with self._lock:
            self._steps.append(report.step)
            self._positions.append(position_of(report))
            self._costs.append(report.cost)
            self._lrs.append(report.lr)
            self._batch = report

    def post_moment(self, moment: Moment) -> None:
        with self._lock:
            self._moments.append(moment)

    def post_epoch(self, report: EpochReport) -> None:
        with self._lock:
            self._epochs.append(report)

    def post_snapshot(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshot = snapshot

    def post_evaluation(self, evaluation: Evaluation) -> None:
        with self._lock:
            self._evaluation = evaluation

    def post_top(self, neuron: tuple[int, int], indices: np.ndarray, values: np.ndarray) -> None:
        with self._lock:
            self._top = (neuron, indices, values)

    def take(self) -> Delivery:
        with self._lock:
            delivery = Delivery(np.array(self._steps, dtype=np.int64),
                                np.array(self._positions, dtype=np.float64),
                                np.array(self._costs, dtype=np.float32),
                                np.array(self._lrs, dtype=np.float32), tuple(self._epochs),
                                tuple(self._moments), self._batch, self._snapshot, self._top,
                                self._evaluation)
            self._clear()
        return delivery


class TrainingWorker(QObject):
    """Runs one ``Trainer.run(control)`` when its thread starts, then emits ``finished``.

    ``finished`` carries an empty string when training ended or was stopped, else the sentence
    that says why it failed (divergence, or an unexpected error)."""

    finished = Signal(str)

    def __init__(self, trainer: Trainer, control: Control, mailbox: Mailbox):
        super().__init__()  # no parent: it is moved to its own thread
        self.trainer = trainer
        self.control = control
        self.mailbox = mailbox
        self._wanted_neuron: tuple[int, int] | None = None  # set by the window, read here
        self._top_neuron = None
        self._top_seconds = 0.0  # what the last search for exciting images cost
        self._top_at = 0.0

    def inspect(self, layer: int | None, neuron: int | None) -> None:
        """Called from the window's thread: find the images that excite this neuron most.
        A single attribute assignment, so no lock is needed."""
        self._wanted_neuron = None if layer is None else (layer, neuron)

    @Slot()
    def run(self) -> None:
        failure = ""
        try:
            self._train()
        except TrainingDiverged as exc:
            failure = f"{exc}."  # the sentence already says that the last finite weights were kept
        except Exception as exc:  # the window must hear of it, whatever it is
            failure = f"training failed unexpectedly: {type(exc).__name__}: {exc}"
        finally:
            self.mailbox.post_snapshot(self.trainer.snapshot())
            self.finished.emit(failure)

    def _train(self) -> None:
        last_snapshot = 0.0
        recorder = Recorder(self.trainer)
        for report in self.trainer.run(self.control):
            now = time.monotonic()
            if isinstance(report, BatchReport):
                self.mailbox.post_batch(report)
            else:
                self.mailbox.post_epoch(report)
                self.mailbox.post_evaluation(Evaluation.of(
                    self.trainer.test_probabilities, self.trainer.data.y_test, report.epoch))
            moment = recorder.observe(report)
            if moment is not None:
                self.mailbox.post_moment(moment)
            if (isinstance(report, EpochReport) or self.control.paused
                    or now - last_snapshot >= SNAPSHOT_INTERVAL):
                self.mailbox.post_snapshot(self.trainer.snapshot())
                last_snapshot = now
            self._maybe_find_top(now, isinstance(report, EpochReport))

    def _maybe_find_top(self, now: float, epoch_ended: bool) -> None:
        """Refresh the most exciting test images of the inspected neuron: at once when the
        choice changes, else after an epoch, but never more than TOP_BUDGET of the time."""
        wanted = self._wanted_neuron
        if wanted is None:
            return
        changed = wanted != self._top_neuron
        due = epoch_ended and (now - self._top_at) * TOP_BUDGET >= self._top_seconds
        if not (changed or due):
            return
        start = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):  # weights near divergence: no warnings
            indices, values = top_exciting(self.trainer.net, self.trainer.data.x_test, *wanted)
        self._top_seconds = time.perf_counter() - start
        self._top_at, self._top_neuron = now, wanted
        self.mailbox.post_top(wanted, indices, values)


class TrainingRun(QObject):
    """One run of training on its own thread, owned by the window (GUI thread).

    The worker and the thread are plain Python-owned objects: they live as long as this run
    does, and the run is only let go once its thread has finished (deleting a running QThread
    aborts the process). ``ended`` comes on the GUI thread, after the thread has finished."""

    ended = Signal(str)  # "" when training ended or was stopped, else why it failed

    def __init__(self, trainer: Trainer, mailbox: Mailbox):
        super().__init__()
        self.trainer = trainer
        self.control = Control()
        self.worker = TrainingWorker(trainer, self.control, mailbox)
        self.thread = QThread()
        self.thread.setObjectName("training")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        # quit() directly from the worker's thread: queued, it would wait for the GUI thread,
        # which may itself be waiting for this thread to end (stop, close).
        self.worker.finished.connect(self.thread.quit, Qt.DirectConnection)
        self.worker.finished.connect(self._on_finished)  # queued: this object lives in the GUI thread

    def start(self, paused: bool = False, steps: int = 0) -> None:
        if paused:
            self.control.pause()
        if steps:
            self.control.step(steps)
        self.thread.start()

    @property
    def running(self) -> bool:
        return self.thread.isRunning()

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Ask the worker to stop after its current batch and wait for the thread to end."""
        self.control.stop()
        return self.thread.wait(timeout_ms)

    @Slot(str)
    def _on_finished(self, failure: str) -> None:
        self.thread.wait()  # the worker has returned; the thread ends right after
        self.ended.emit(failure)
