"""The window's state, each fact held once: the ``Run`` (the network being trained, its history,
the worker while one runs, and the newest of what the worker posted) and the ``View`` (what is
being looked at). Every panel is drawn from these two; nothing else keeps a copy.

The GUI thread owns both. It never reads the live trainer while a worker runs: everything it
learns of training comes through the mailbox (``Run.take``).
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from app.worker import Delivery, TrainingRun
from core.evaluation import Evaluation
from core.history import History, Moment
from core.probes import Timeline
from core.train import BatchReport, Snapshot, Trainer

# What the status bar says the run is doing.
READY, TRAINING, PAUSED, STEPPED, STOPPED, FINISHED, DIVERGED, FAILED = (
    "Ready", "Training", "Paused", "Stepped", "Stopped", "Finished", "Diverged", "Failed")


@dataclass(frozen=True)
class View:
    """What is being looked at: the moment of the history (None: live, the newest weights), the
    test digit, whether the drawing is shown instead of it, the selected neuron ((layer, index)
    as in ``core.inspect``, or None), the hidden neurons switched off or clamped, as
    (layer, index, value) in the order they were switched (0: off), and the probe whose image
    is the input (``History.probes``; None: the digit or the drawing)."""
    moment: int | None = None
    digit: int = 0
    follow: bool = False
    neuron: tuple[int, int] | None = None
    off: tuple[tuple[int, int, float], ...] = ()
    probe: int | None = None  # a probe of the history shown as the input instead (a drawing)

    def checked(self, sizes: tuple[int, ...], n_test: int, n_moments: int) -> "View":
        """This view made valid for a network of these layer sizes, a test set of ``n_test``
        images and a history of ``n_moments``: a neuron that does not exist is cleared, a
        moment that does not exist becomes live, the digit is kept within the test set."""
        neuron = self.neuron
        if neuron is not None and not (1 <= neuron[0] < len(sizes) and 0 <= neuron[1] < sizes[neuron[0]]):
            neuron = None
        moment = self.moment if self.moment is not None and 0 <= self.moment < n_moments else None
        digit = min(max(self.digit, 0), max(n_test - 1, 0))
        off = tuple((l, j, v) for l, j, v in self.off if 1 <= l < len(sizes) - 1 and 0 <= j < sizes[l])
        return dataclasses.replace(self, moment=moment, digit=digit, neuron=neuron, off=off)

    def switched(self, layer: int, neuron: int, value: float | None) -> "View":
        """This view with neuron ``neuron`` of ``layer`` forced to ``value`` (0: off), or
        switched on again (None)."""
        off = tuple(f for f in self.off if f[:2] != (layer, neuron))
        if value is not None:
            off += ((layer, neuron, float(value)),)
        return dataclasses.replace(self, off=off)


class Run:
    """One network and its training, as the GUI thread knows it.

    ``trainer`` is touched only while no worker runs (to extend it, or to make a moment);
    ``live`` is the newest snapshot of the weights, ``evaluation`` the newest answers on the test
    set, ``batch`` the newest batch report, ``history`` everything recorded so far. ``path``
    is the file it was opened from or last saved to (None: never saved), ``saved_step`` the
    step it had then, and ``marks`` what the user did that the cost curve shows (a pause, a
    new learning rate) as (position in epochs, words)."""

    def __init__(self, trainer: Trainer, history: History, test_accuracy: float | None = None,
                 path: str | None = None):
        self.trainer = trainer
        self.path = path
        self.saved_step = trainer.step
        self.marks: list[tuple[float, str]] = []
        self.config = trainer.config
        self.batches_per_epoch = trainer.batches_per_epoch
        self.flow_every = trainer.flow_every  # the batches whose gradient flow is recorded
        self.history = history
        self.live: Snapshot = trainer.snapshot()
        self.evaluation: Evaluation | None = history.evaluation(len(history) - 1) if len(history) else None
        self.batch: BatchReport | None = None
        self.epochs_done = trainer.epoch
        self.step = trainer.step
        self.test_accuracy = test_accuracy
        self.status = READY
        self.start_fraction = 0.0  # of all the epochs set, done when the run started
        self.top = None  # the worker's ((layer, neuron), indices, values) for the live weights
        self.worker: TrainingRun | None = None
        self._switched = None  # (snapshot, off, the snapshot forced, its evaluation): the last made
        self.probe_timeline = Timeline(history.probes)  # its answers for the probes, moment by moment
        self._busy = 0.0  # seconds trained in this run before the last pause
        self._busy_since: float | None = None

    @property
    def unsaved(self) -> bool:
        """Has the network trained since it was made, opened or last saved?"""
        return self.step != self.saved_step

    def saved(self, path: str, step: int) -> None:
        self.path, self.saved_step = path, step

    # --- training ----------------------------------------------------------------------------

    def ensure_moment(self) -> None:
        """Record the weights as they are now as a moment, unless the history has it already
        (a run stopped inside an epoch): only while no worker runs."""
        assert self.worker is None, "the trainer is busy"
        if len(self.history) and self.history.moments[-1].step >= self.trainer.step:
            return
        positions = self.history.positions
        position = float(positions[-1]) if len(positions) else float(self.trainer.epoch)
        with np.errstate(over="ignore", invalid="ignore"):
            probabilities = self.trainer.net.predict_proba(self.trainer.data.x_test)
        self.history.add_moment(Moment.of(self.trainer.net, self.trainer.step, position,
                                          self.trainer.epoch, probabilities))
        self.evaluation = self.history.evaluation(len(self.history) - 1)

    def started(self, worker: TrainingRun, paused: bool) -> None:
        self.worker = worker
        self.config = self.trainer.config
        self.batches_per_epoch = self.trainer.batches_per_epoch
        self.flow_every = self.trainer.flow_every
        self.status = PAUSED if paused else TRAINING
        self.start_fraction = self.progress[1]
        self._busy, self._busy_since = 0.0, (None if paused else time.monotonic())

    def paused(self, paused: bool, stepped: bool = False) -> None:
        if paused:
            if self._busy_since is not None:
                self._busy += time.monotonic() - self._busy_since
                self._busy_since = None
            self.status = STEPPED if stepped else PAUSED
        else:
            self._busy_since = time.monotonic()
            self.status = TRAINING

    def ended(self, failure: str, diverged: bool = False) -> None:
        """The run is over: finished, stopped, diverged, or failed (the training process died,
        or an unexpected error)."""
        self.paused(True)
        self.worker = None
        self.status = DIVERGED if diverged else FAILED if failure else (
            FINISHED if self.epochs_done >= self.config.epochs else STOPPED)

    @property
    def busy_seconds(self) -> float:
        """Seconds of this run spent training, pauses excluded."""
        running = time.monotonic() - self._busy_since if self._busy_since is not None else 0.0
        return self._busy + running

    def take(self, delivery: Delivery) -> bool:
        """What the worker posted since the last look, into the history and the newest state;
        True if there is anything new."""
        h = self.history
        h.add_batches(delivery.steps, delivery.positions, delivery.costs, delivery.lrs)
        h.add_flow(delivery.flow_steps, delivery.flow)
        for report in delivery.epochs:
            h.add_epoch(report)
            self.epochs_done = report.epoch
            self.test_accuracy = report.test_accuracy
        for moment in delivery.moments:
            h.add_moment(moment)
        if delivery.batch is not None:
            self.batch = delivery.batch
            self.step = delivery.batch.step
        if delivery.snapshot is not None:
            self.live = delivery.snapshot
        if delivery.evaluation is not None:
            self.evaluation = delivery.evaluation
        if delivery.top is not None:
            self.top = delivery.top
        return bool(len(delivery.steps) or delivery.epochs or delivery.moments
                    or delivery.snapshot is not None or delivery.top is not None)

    # --- what is shown -----------------------------------------------------------------------

    def at(self, moment: int | None, off: tuple = ()) -> tuple[Snapshot, Evaluation | None, float | None]:
        """(weights, answers on the test set, point of training in epochs or None for live) of
        moment ``moment`` of the history, or of the present; with the neurons ``off``
        ((layer, neuron, value), see ``View.off``) forced, and the answers of the network so."""
        if moment is None:
            snapshot, evaluation, position = self.live, self.evaluation, None
        else:
            snapshot, evaluation, position = (self.history.snapshot(moment), self.history.evaluation(moment),
                                              self.history.moments[moment].position)
        if not off:
            return snapshot, evaluation, position
        return (*self.switched(snapshot, off), position)

    def switched(self, snapshot: Snapshot, off: tuple) -> tuple[Snapshot, Evaluation]:
        """``snapshot`` with the neurons ``off`` forced, and its answers on the whole test set:
        one forward pass (about 20 ms for 'fast'), kept for as long as they are asked again."""
        cached = self._switched
        if cached is not None and cached[0] is snapshot and cached[1] == off:
            return cached[2], cached[3]
        forced = snapshot.forcing(off)
        data = self.trainer.data
        with np.errstate(over="ignore", invalid="ignore"):  # near divergence: show, don't warn
            probabilities = forced.network().predict_proba(data.x_test)
        evaluation = Evaluation.of(probabilities, data.y_test, snapshot.epoch)
        self._switched = (snapshot, off, forced, evaluation)
        return forced, evaluation

    @property
    def progress(self) -> tuple[int, float]:
        """(the epoch in progress or last done, the fraction of all epochs set done)."""
        total = self.config.epochs
        b = self.batch
        if b is not None and b.step == self.step and b.batch < b.batches:
            return b.epoch, (b.epoch - 1 + b.batch / b.batches) / total
        return self.epochs_done, self.epochs_done / total if total else 0.0
