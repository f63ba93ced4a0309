"""Training driven from a worker thread, and the mailbox through which it reaches the window.

The worker runs in a ``QThread``. By default it drives the trainer in a process of its own
(``core.child``): it hands the trainer over, receives what the child sends, and takes the
trainer back when the run ends, so the window's Python costs training nothing. With
``process=None`` it runs ``core.stream.stream`` on this thread instead (``--thread``: the same
behaviour, for tests and where a process cannot be started). Either way it never calls the
window: it leaves what it has in a ``Mailbox`` (the batches since the last look, the epoch
reports, the moments ``core.history.Recorder`` chose for the history, the newest snapshot of
the weights), and the window empties the mailbox on its redraw timer. However fast training
goes, the window sees at most one snapshot per frame and nothing piles up in Qt's event queue.
Everything in the mailbox is immutable or a copy.

Pause, resume, step, stop and the learning rate go straight to the run's control (a
``core.train.Control``, or a ``core.child.RemoteControl`` that messages the child), not through
queued slots: a queued slot would wait until the busy worker returned to its event loop, which
it does only when training ends.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from core.child import RemoteControl, TrainerProcess, describe_failure, train_in_child
from core.errors import TrainingDiverged, UserError
from core.evaluation import Evaluation
from core.history import Moment, position_of
from core.stream import stream
from core.train import (
    BatchReport,
    Control,
    EpochReport,
    Snapshot,
    Trainer,
    stacked_flow,
)


@dataclass(frozen=True)
class Delivery:
    """What the mailbox held when the window looked."""
    steps: np.ndarray  # the batches trained since the last look: their step numbers
    positions: np.ndarray  # their points of training in epochs
    costs: np.ndarray  # their costs
    lrs: np.ndarray  # and the learning rates they were trained with
    flow_steps: np.ndarray  # the steps of those whose gradient flow was recorded (k,)
    flow: np.ndarray  # and their flow (k, 3, L): see core.train.FLOW_FIELDS
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
        self._flow_steps, self._flow = [], []
        self._epochs, self._moments = [], []
        self._batch = self._snapshot = self._top = self._evaluation = None

    def post_batch(self, report: BatchReport) -> None:
        with self._lock:
            self._steps.append(report.step)
            self._positions.append(position_of(report))
            self._costs.append(report.cost)
            self._lrs.append(report.lr)
            if report.flow is not None:
                self._flow_steps.append(report.step)
                self._flow.append(report.flow)
            self._batch = report

    def post_batches(self, steps, positions, costs, lrs, newest: BatchReport) -> None:
        """Several batches at once (from the training process), ``newest`` the last of them."""
        with self._lock:
            self._steps.extend(steps.tolist())
            self._positions.extend(positions.tolist())
            self._costs.extend(costs.tolist())
            self._lrs.extend(lrs.tolist())
            self._batch = newest

    def post_flow(self, steps, flow) -> None:
        """The gradient flow of some of the batches just posted (from the training process)."""
        with self._lock:
            self._flow_steps.extend(steps.tolist())
            self._flow.extend(flow)

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
                                np.array(self._lrs, dtype=np.float32),
                                np.array(self._flow_steps, dtype=np.int64), stacked_flow(self._flow),
                                tuple(self._epochs),
                                tuple(self._moments), self._batch, self._snapshot, self._top,
                                self._evaluation)
            self._clear()
        return delivery


class TrainingWorker(QObject):
    """Runs one run of the trainer when its thread starts (in the training process, or here if
    ``process`` is None), then emits ``finished``.

    ``finished`` carries an empty string when training ended or was stopped, else the sentence
    that says why it failed (divergence, the training process dying, an unexpected error).
    For an unexpected error (a bug, here or in the training process) ``details`` holds its
    traceback, also saved to a file the sentence names (``core.child.describe_failure``)."""

    finished = Signal(str)

    def __init__(self, trainer: Trainer, control, mailbox: Mailbox,
                 process: TrainerProcess | None = None):
        super().__init__()  # no parent: it is moved to its own thread
        self.trainer = trainer
        self.control = control
        self.mailbox = mailbox
        self.process = process
        self._wanted_neuron: tuple[int, int] | None = None  # set by the window, read here
        self.diverged = False  # set before finished: the failure was a divergence
        self.details = ""  # set before finished: the traceback of an unexpected failure, or ""

    def inspect(self, layer: int | None, neuron: int | None) -> None:
        """Called from the window's thread: find the images that excite this neuron most.
        A single attribute assignment (or a message to the child), so no lock is needed."""
        self._wanted_neuron = None if layer is None else (layer, neuron)
        if isinstance(self.control, RemoteControl):
            self.control.inspect(self._wanted_neuron)

    @Slot()
    def run(self) -> None:
        failure = ""
        try:
            if self.process is not None:
                failure = train_in_child(self.process, self.trainer, self.control, self.mailbox)
                self.details = self.process.details if failure else ""
            else:
                stream(self.trainer, self.control, self.mailbox, lambda: self._wanted_neuron)
        except TrainingDiverged as exc:
            failure = f"{exc}."  # the sentence already says that the last finite weights were kept
            self.diverged = True
        except UserError as exc:
            failure = str(exc)
        except Exception as exc:  # noqa: BLE001 (a bug: the window must hear of it, and its traceback is kept)
            failure, self.details = describe_failure("training", exc)
        finally:
            try:
                self.mailbox.post_snapshot(self.trainer.snapshot())
            finally:
                self.finished.emit(failure)  # whatever happens, the window hears the run end


class TrainingRun(QObject):
    """One run of training driven from its own thread, owned by the window (GUI thread).

    The worker and the thread are plain Python-owned objects: they live as long as this run
    does, and the run is only let go once its thread has finished (deleting a running QThread
    aborts the process). ``ended`` comes on the GUI thread, after the thread has finished."""

    ended = Signal(str)  # "" when training ended or was stopped, else why it failed

    def __init__(self, trainer: Trainer, mailbox: Mailbox, process: TrainerProcess | None = None):
        super().__init__()
        self.trainer = trainer
        self.control = RemoteControl(process) if process is not None else Control()
        self.worker = TrainingWorker(trainer, self.control, mailbox, process)
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

    def inspect(self, layer: int | None, neuron: int | None) -> None:
        self.worker.inspect(layer, neuron)

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
