"""What a run of training tells whoever watches it, the same whether it runs on a thread of the
window (``app.worker``) or in a process of its own (``core.child``).

``stream`` drives ``trainer.run(control)`` and posts into an ``Outbox``: every batch report,
every epoch report with the evaluation of its test-set outputs, the moments
``core.history.Recorder`` chooses for the history, a snapshot of the weights about once a frame
(and after every epoch and while paused, so a pause shows the weights it stopped at), and the test
images that excite the inspected neuron most.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from core.evaluation import Evaluation
from core.history import Moment, Recorder
from core.inspect import top_exciting
from core.train import BatchReport, Control, EpochReport, Snapshot, Trainer

SNAPSHOT_INTERVAL = 0.04  # seconds between two snapshots of the weights: about one per frame
TOP_BUDGET = 0.02  # at most this share of the time goes to finding exciting images


class Outbox(Protocol):
    def post_batch(self, report: BatchReport) -> None: ...
    def post_epoch(self, report: EpochReport) -> None: ...
    def post_evaluation(self, evaluation: Evaluation) -> None: ...
    def post_moment(self, moment: Moment) -> None: ...
    def post_snapshot(self, snapshot: Snapshot) -> None: ...
    def post_top(self, neuron: tuple[int, int], indices: np.ndarray, values: np.ndarray) -> None: ...


def stream(trainer: Trainer, control: Control, outbox: Outbox,
           inspected: Callable[[], tuple[int, int] | None]) -> None:
    """Train until the run ends, is stopped or diverges (``TrainingDiverged`` propagates),
    posting as it goes; ``inspected()`` says which neuron's exciting images are wanted."""
    last_snapshot = 0.0
    recorder = Recorder(trainer)
    top = _TopSearch(trainer)
    for report in trainer.run(control):
        now = time.monotonic()
        epoch_ended = isinstance(report, EpochReport)
        if epoch_ended:
            outbox.post_epoch(report)
            outbox.post_evaluation(Evaluation.of(trainer.test_probabilities, trainer.data.y_test,
                                                 report.epoch))
        else:
            outbox.post_batch(report)
        moment = recorder.observe(report)
        if moment is not None:
            outbox.post_moment(moment)
        if epoch_ended or control.paused or now - last_snapshot >= SNAPSHOT_INTERVAL:
            outbox.post_snapshot(trainer.snapshot())
            last_snapshot = now
        found = top.maybe(inspected(), now, epoch_ended)
        if found is not None:
            outbox.post_top(*found)


class _TopSearch:
    """The most exciting test images of the inspected neuron: found at once when the choice
    changes, else again after an epoch, but never more than TOP_BUDGET of the time."""

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.neuron = None
        self.seconds = 0.0  # what the last search cost
        self.at = 0.0

    def maybe(self, wanted, now: float, epoch_ended: bool):
        if wanted is None:
            return None
        changed = wanted != self.neuron
        due = epoch_ended and (now - self.at) * TOP_BUDGET >= self.seconds
        if not (changed or due):
            return None
        start = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):  # weights near divergence: no warnings
            indices, values = top_exciting(self.trainer.net, self.trainer.data.x_test, *wanted)
        self.seconds = time.perf_counter() - start
        self.at, self.neuron = now, wanted
        return wanted, indices, values
