"""The second run of a comparison, and the dock that shows it beside the first.

A comparison is a second ``app.state.Run`` (its trainer, history and worker) with a mailbox and
a training process of its own: the window starts, pauses, steps and stops it with its own run,
so the two train at once, each on a core (``core.child``), and the GUI thread only takes what
each posts. Both runs have the seed of the settings, so they see the same images in the same
order (``core.compare``); the second trains as many epochs as the first is set to. It is made
from a preset (``Comparison.of_config``) or from a saved run (``Comparison.of_file``), which
trains on from where it was saved.

What is shown of the second run follows the moment of the first, by epochs (their batch sizes
may differ): ``moment_for`` gives the second run's moment nearest the first's point of
training, or None for the present. ``ComparisonPanel`` shows its weights, its confusion matrix
and its gradient flow, under a line that names its settings and says how it reads the input
the window shows; the cost plot overlays its curves (``app.panels.cost``), the probe strip its
answers (``app.panels.probes``).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from app import theme
from app.panels.evaluation import EvaluationPanel
from app.panels.flow import FlowPanel
from app.panels.weights import WeightsPanel
from app.state import Run
from app.worker import Mailbox, TrainingRun
from core.child import TrainerProcess
from core.compare import describe
from core.config import TrainConfig
from core.data import Dataset
from core.history import History, keep_initial
from core.probes import Timeline
from core.train import Trainer

COLOUR = theme.SECOND


class Comparison(QObject):
    """The second run. ``ended`` comes (on the GUI thread) when a run of it has finished."""

    ended = Signal(str)

    def __init__(self, run: Run, name: str, process: TrainerProcess | None):
        super().__init__()
        self.run = run
        self.name = name  # the preset or the file it came from
        self.mailbox = Mailbox()
        self.process = process
        self.timeline = Timeline()

    @classmethod
    def of_config(cls, data: Dataset, config: TrainConfig, name: str, process: bool) -> "Comparison":
        trainer = Trainer(data, config)
        history = History(config.architecture, data.y_test)
        keep_initial(history, trainer)
        return cls._made(data, trainer, history, name, process)

    @classmethod
    def of_file(cls, data: Dataset, config: TrainConfig, net, history: History | None, epochs: int,
                name: str, process: bool) -> "Comparison":
        """A saved run (its network, settings and history) as the second run."""
        trainer = Trainer(data, config, net)
        trainer.epoch = epochs
        if history is not None and not np.array_equal(history.labels, data.y_test):
            history = history.reevaluated(data.x_test, data.y_test)
        history = history or History(config.architecture, data.y_test)
        trainer.step = history.last_step
        return cls._made(data, trainer, history, name, process)

    @classmethod
    def _made(cls, data, trainer, history, name, process) -> "Comparison":
        run = Run(trainer, history, history.epochs[-1].test_accuracy if history.epochs else None)
        run.ensure_moment()
        return cls(run, name, TrainerProcess(data) if process else None)

    @property
    def label(self) -> str:
        """B: fast — 784-256-128-10 relu ce adam lr 0.001 batch 128"""
        return f"B: {self.name} — {describe(self.run.config)}"

    @property
    def training(self) -> TrainingRun | None:
        return self.run.worker

    # --- training, driven by the window --------------------------------------------------------

    def start(self, epochs: int, seed: int, paused: bool = False, steps: int = 0) -> None:
        """Train ``epochs`` more (as the first run), with the settings' seed."""
        if self.training is not None:
            return
        trainer = self.run.trainer
        trainer.extend(trainer.config.replace(epochs=epochs, seed=seed))
        self.run.ensure_moment()
        worker = TrainingRun(trainer, self.mailbox, self.process)
        worker.ended.connect(self._on_ended)
        self.run.started(worker, paused)
        worker.start(paused=paused, steps=steps)
        if steps:
            self.run.paused(True, stepped=True)

    def pause(self, paused: bool) -> None:
        worker = self.training
        if worker is None:
            return
        if paused:
            worker.control.pause()
        else:
            worker.control.resume()
        self.run.paused(paused)

    def step(self) -> None:
        worker = self.training
        if worker is not None and worker.control.paused:
            worker.control.step(1)
            self.run.paused(True, stepped=True)

    def stop_and_wait(self) -> None:
        worker = self.training
        if worker is not None:
            worker.stop()
            self._finish(worker, "")

    def take(self) -> bool:
        return self.run.take(self.mailbox.take())

    def close(self) -> None:
        self.stop_and_wait()
        if self.process is not None:
            self.process.close()
            self.process = None

    def _on_ended(self, failure: str) -> None:
        worker = self.sender()
        if worker is self.training:
            self._finish(worker, failure)

    def _finish(self, worker: TrainingRun, failure: str) -> None:
        worker.ended.disconnect(self._on_ended)
        self.take()
        self.run.ended(failure, worker.worker.diverged)
        self.ended.emit(failure)

    # --- what is shown -----------------------------------------------------------------------

    def moment_for(self, position: float | None) -> int | None:
        """The second run's moment nearest the first run's point of training (None: the present)."""
        if position is None or not len(self.run.history):
            return None
        return self.run.history.nearest(position)


class ComparisonPanel(QWidget):
    """The second run's weights, confusion matrix and gradient flow, as tabs under a line naming
    it and saying how it reads the input shown."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.header = QLabel("No second run. Training ▸ Compare with… trains one beside this one.")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.RichText)
        self.header.setStyleSheet(f"color: {theme.FOREGROUND}")
        self.weights = WeightsPanel()
        self.evaluation = EvaluationPanel()
        self.flow = FlowPanel()
        for panel in (self.weights, self.evaluation, self.flow):
            panel.setMinimumSize(240, 150)  # the right column of a 1280x720 screen: about 300 px
        self.tabs = QTabWidget()
        self.tabs.addTab(self.weights, "Weights")
        self.tabs.addTab(self.evaluation, "Confusion")
        self.tabs.addTab(self.flow, "Gradient flow")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.header)
        layout.addWidget(self.tabs, 1)
        self.setMinimumSize(250, 200)
        self._flow_drawn = 0
        self._drawn: dict[str, object] = {}

    def set_comparison(self, comparison: Comparison | None, x_test: np.ndarray | None = None) -> None:
        """A new second run (or none): everything it shows starts again."""
        self._drawn.clear()
        self._flow_drawn = 0
        self.tabs.setEnabled(comparison is not None)
        if comparison is None:
            self.header.setText("No second run. Training ▸ Compare with… trains one beside this one.")
            return
        sizes = comparison.run.config.sizes
        self.flow.reset(len(sizes) - 1, sizes)
        if x_test is not None:
            self.evaluation.set_images(x_test)

    def draw(self, comparison: Comparison, moment: int | None, reading: str) -> None:
        """The second run at its ``moment`` (None: the present); ``reading`` says how it reads the
        input shown ("reads the drawing as 7, 98%")."""
        run = comparison.run
        snapshot, evaluation, position = run.at(moment)
        accuracy = (evaluation.accuracy if evaluation is not None else None)
        where = "live" if moment is None else f"at epoch {position:.2f}"
        self.header.setText(f"<span style='color:{COLOUR}'><b>{comparison.label}</b></span><br>"
                            f"{run.status} · epoch {run.progress[0]}/{run.config.epochs} · {where}"
                            + (f" · test accuracy {accuracy:.4f}" if accuracy is not None else "")
                            + (f" · {reading}" if reading else ""))
        if not self.isVisible():
            return
        tab = self.tabs.currentWidget()
        if tab is self.weights and self._drawn.get("weights") is not snapshot:
            with np.errstate(over="ignore", invalid="ignore"):
                self.weights.show_snapshot(snapshot)
            self._drawn["weights"] = snapshot
        elif tab is self.evaluation and evaluation is not None and self._drawn.get("evaluation") is not evaluation:
            self.evaluation.show_evaluation(evaluation)
            self._drawn["evaluation"] = evaluation
        elif tab is self.flow:
            h = run.history
            if len(h.flow_steps) > self._flow_drawn:
                per_epoch = max(1, run.batches_per_epoch // run.flow_every)
                self.flow.add_batches(h.flow_positions[self._flow_drawn:], h.flow[self._flow_drawn:], per_epoch)
                self._flow_drawn = len(h.flow_steps)
            self.flow.show_position(position)
