"""The main window: the training controls, the four panels, the status bar and the File menu.

It owns at most one ``TrainingRun`` at a time. While a run is alive, a timer (25 Hz) empties the
run's mailbox and redraws; nothing else ever reaches the panels from the worker. Every state of
the controls follows from two facts: is there a run, and is it paused.
"""
from __future__ import annotations

import json
import threading
import time

import numpy as np
from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import layout
from app.controls import SettingsForm
from app.panels.activations import ActivationsPanel
from app.panels.cost import CostPanel
from app.panels.evaluation import EvaluationPanel
from app.panels.inspector import InspectorPanel
from app.panels.pad import PadPanel
from app.panels.weights import WeightsPanel
from app.worker import Mailbox, TrainingRun
from core.config import TrainConfig
from core.data import Dataset, load_mnist
from core.errors import UserError
from core.evaluation import Evaluation
from core.inspect import top_exciting
from core.model_io import load_model, save_model
from core.train import EpochReport, Snapshot, Trainer

# Redraw period while training: 15 frames a second, each repainting one of three groups of
# panels (see redraw). On this project's 2-core machine every cycle the GUI thread spends comes
# out of training: all panels at 25 Hz kept 63% of headless throughput, one group a frame at
# 20 Hz 87-89%, at 15 Hz 91-94% (python -m app.bench).
FRAME_MS = 66


class DataLoader(QObject):
    """Reads MNIST on a plain thread so the window paints at once; reports on the GUI thread."""

    loaded = Signal(object)
    failed = Signal(str)

    def start(self, path, limit) -> None:
        threading.Thread(target=self._load, args=(path, limit), daemon=True, name="load-data").start()

    def _load(self, path, limit) -> None:
        try:
            data = load_mnist(path)
            self.loaded.emit(data.limit(limit, limit) if limit else data)
        except UserError as exc:
            self.failed.emit(str(exc))


class MainWindow(QMainWindow):
    data_ready = Signal()
    run_ended = Signal(str)  # after a run's thread has finished: "" or why it failed

    def __init__(self, settings: QSettings, data_path=None, limit: int | None = None,
                 data: Dataset | None = None):
        """``data``, if given, is used as it is (already loaded: tests, the benchmarks);
        otherwise MNIST is read from ``data_path`` on a thread, and ``limit`` cuts it."""
        super().__init__()
        self.setWindowTitle("Watch a network learn")
        self.settings = settings
        self.data = None
        self.trainer: Trainer | None = None
        self.training: TrainingRun | None = None
        self.mailbox = Mailbox()
        self.snapshot: Snapshot | None = None
        self.selection: tuple[int | None, int | None] = (None, None)
        self.last_test_accuracy: float | None = None
        self.history: list[EpochReport] = []  # the epochs of the current network, oldest first
        self._frame = 0  # redraws so far: which group of panels paints next
        self._clear_pending()
        self._drawn = {"weights": None, "activations": None}  # the snapshot each group shows
        self.error_box: QMessageBox | None = None
        self._busy_seconds = 0.0  # training time of this run before the last pause
        self._busy_since: float | None = None

        self._build_panels()
        self._build_controls()
        layout.install_docks(self)
        self._build_status_bar()
        self._build_actions()
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.redraw)
        self._restore_settings()
        self._update_controls()

        self.loader = DataLoader(self)
        self.loader.loaded.connect(self._on_data_loaded)
        self.loader.failed.connect(self._on_data_failed)
        if data is not None:
            self._on_data_loaded(data.limit(limit, limit) if limit else data)
        else:
            self.loader.start(data_path, limit)
            self.status.showMessage("Loading MNIST…")

    # --- building -----------------------------------------------------------------------------

    def _build_panels(self) -> None:
        self.weights = WeightsPanel()
        self.cost = CostPanel()
        self.activations = ActivationsPanel()
        self.inspector = InspectorPanel()
        self.pad = PadPanel()
        self.evaluation = EvaluationPanel()
        self.weights.neuron_clicked.connect(self.select_neuron)
        self.activations.neuron_clicked.connect(self.select_neuron)
        self.activations.digit_changed.connect(lambda _: self._refresh_inspector())
        self.pad.drawing_changed.connect(self._on_drawing_changed)
        self.pad.follow_changed.connect(self._on_follow_changed)
        self.evaluation.digit_chosen.connect(self._on_digit_chosen)

    def _build_controls(self) -> None:
        self.form = SettingsForm()
        self.form.lr_changed.connect(self._on_lr_changed)
        self.train_button = QPushButton("Train")
        self.pause_button = QPushButton("Pause")
        self.step_button = QPushButton("Step")
        self.stop_button = QPushButton("Stop")
        self.reset_button = QPushButton("Reset")
        self.train_button.setToolTip("Train the current network for the number of epochs set")
        self.pause_button.setToolTip("Pause or resume (Space)")
        self.step_button.setToolTip("Train one batch, then pause")
        self.reset_button.setToolTip("Fresh weights from the seed (Ctrl+R)")
        self.train_button.clicked.connect(self.train)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.step_button.clicked.connect(self.step)
        self.stop_button.clicked.connect(self.stop)
        self.reset_button.clicked.connect(self.reset)
        buttons = QHBoxLayout()
        for button in (self.train_button, self.pause_button, self.step_button, self.stop_button,
                       self.reset_button):
            buttons.addWidget(button)
        self.controls = QWidget()
        column = QVBoxLayout(self.controls)
        column.addWidget(self.form)
        column.addLayout(buttons)
        column.addStretch(1)

    def _build_status_bar(self) -> None:
        self.status = self.statusBar()
        self.epoch_label = QLabel("epoch –")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.speed_label = QLabel("")
        self.time_label = QLabel("")
        self.accuracy_label = QLabel("test accuracy –")
        for widget in (self.epoch_label, self.progress, self.speed_label, self.time_label,
                       self.accuracy_label):
            self.status.addPermanentWidget(widget)

    def _build_actions(self) -> None:
        menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(menu, "&Open model…", QKeySequence.Open, self.open_model_dialog)
        self.save_action = self._action(menu, "&Save model…", QKeySequence.Save, self.save_model_dialog)
        self.export_action = self._action(menu, "&Export window as PNG…", "Ctrl+E", self.export_png_dialog)
        menu.addSeparator()
        self._action(menu, "&Quit", QKeySequence.Quit, self.close)
        menu = self.menuBar().addMenu("&Training")
        self.pause_action = self._action(menu, "Pause / Resume", "Space", self.toggle_pause)
        self.reset_action = self._action(menu, "&Reset weights", "Ctrl+R", self.reset)
        layout.install_view_menu(self, self.menuBar().addMenu("&View"))

    def _action(self, menu, text, shortcut, slot) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # --- data ---------------------------------------------------------------------------------

    @Slot(object)
    def _on_data_loaded(self, data) -> None:
        self.data = data
        self.activations.set_dataset(data.x_test, data.y_test)
        self.inspector.set_images(data.x_test)
        self.evaluation.set_images(data.x_test)
        self.status.showMessage(f"{len(data.x_train):,} training and {len(data.x_test):,} test "
                                f"images from {data.source}", 8000)
        if self.trainer is None:
            self._new_trainer()
        self._update_controls()
        self.data_ready.emit()

    @Slot(str)
    def _on_data_failed(self, message: str) -> None:
        self.show_error(f"{message}. Training is unavailable; start the program with --data PATH.")

    # --- training -----------------------------------------------------------------------------

    def _config(self) -> TrainConfig | None:
        try:
            return self.form.config()
        except UserError as exc:
            self.show_error(str(exc))
            return None

    def _new_trainer(self, config: TrainConfig | None = None, net=None, epochs_done: int = 0) -> bool:
        config = config or self._config()
        if config is None or self.data is None:
            return False
        try:
            self.trainer = Trainer(self.data, config, net)
        except UserError as exc:
            self.show_error(str(exc))
            return False
        self.trainer.epoch = epochs_done
        self.history.clear()
        self._clear_pending()
        self.cost.reset()
        self.last_test_accuracy = None
        self.show_snapshot(self.trainer.snapshot())
        self._evaluate_idle()
        self._update_status()
        return True

    def _start(self, paused: bool = False, steps: int = 0) -> None:
        """Start a run of the current trainer for the epochs the form asks for."""
        config = self._config()
        if config is None or self.data is None or self.training is not None:
            return
        if self.trainer is None or self.trainer.net.architecture != config.architecture:
            if not self._new_trainer(config):
                return
        try:
            self.trainer.extend(config)
        except UserError as exc:
            self.show_error(str(exc))
            return
        self.training = TrainingRun(self.trainer, self.mailbox)
        self.training.ended.connect(self._on_run_ended)
        self.training.worker.inspect(*self.selection)
        self._busy_seconds, self._busy_since = 0.0, (None if paused else time.monotonic())
        self.training.start(paused=paused, steps=steps)
        self.timer.start()
        self._update_controls()

    @Slot()
    def train(self) -> None:
        self._start()

    @Slot()
    def toggle_pause(self) -> None:
        run = self.training
        if run is None:
            return
        if run.control.paused:
            run.control.resume()
            self._busy_since = time.monotonic()
        else:
            run.control.pause()
            self._account_busy_time()
        self._update_controls()

    @Slot()
    def step(self) -> None:
        """One batch, then paused: starts a paused run if none is going."""
        if self.training is None:
            self._start(paused=True, steps=1)
        elif self.training.control.paused:
            self.training.control.step(1)

    @Slot()
    def stop(self) -> None:
        if self.training is not None:
            self.training.control.stop()

    @Slot()
    def reset(self) -> None:
        """Fresh weights from the seed, with the settings of the form."""
        self._stop_and_wait()
        self._new_trainer()
        self._update_controls()

    def _stop_and_wait(self) -> None:
        """Stop a run and let it go once its thread has finished."""
        run = self.training
        if run is None:
            return
        run.stop()
        self._finish_run(run, "")

    @Slot(str)
    def _on_run_ended(self, failure: str) -> None:
        run = self.sender()
        if run is self.training:
            self._finish_run(run, failure)

    def _finish_run(self, run: TrainingRun, failure: str) -> None:
        self._account_busy_time()
        self.training = None
        run.ended.disconnect(self._on_run_ended)
        self.timer.stop()
        self.redraw(everything=True)
        if failure:
            self.show_error(failure)
        self._update_controls()
        self.run_ended.emit(failure)

    def _account_busy_time(self) -> None:
        if self._busy_since is not None:
            self._busy_seconds += time.monotonic() - self._busy_since
            self._busy_since = None

    @Slot(float)
    def _on_lr_changed(self, lr: float) -> None:
        if self.training is not None:
            try:
                self.training.control.set_lr(lr)
            except UserError as exc:
                self.show_error(str(exc))

    # --- drawing ------------------------------------------------------------------------------

    @Slot()
    def redraw(self, everything: bool = False) -> None:
        """Empty the mailbox: called by the timer while a run is alive.

        Painting is the GUI thread's real cost (pyqtgraph paints in Python, holding the GIL the
        worker also needs), so each frame repaints one group of panels in turn: the cost
        curves, the weights, the activations with the inspector. Each group still updates
        about eight times a second; ``everything`` draws all at once (when a run ends)."""
        delivery = self.mailbox.take()
        if len(delivery.steps):
            self._pending_steps.append(delivery.steps)
            self._pending_costs.append(delivery.costs)
        for report in delivery.epochs:
            self.history.append(report)
            self._pending_epochs.append(report)
            self.last_test_accuracy = report.test_accuracy
        if delivery.snapshot is not None:
            self.snapshot = delivery.snapshot
        if delivery.top is not None:
            self._pending_top = delivery.top
        if delivery.evaluation is not None:
            self._pending_evaluation = delivery.evaluation
        self._update_status(delivery.batch)
        groups = (self._draw_cost, self._draw_weights, self._draw_activations)
        if everything:
            for draw in groups:
                draw()
        else:
            groups[self._frame % len(groups)]()
            self._frame += 1

    def _clear_pending(self) -> None:
        """Forget what came from the worker and is not drawn yet (a new network)."""
        self._pending_steps, self._pending_costs, self._pending_epochs = [], [], []
        self._pending_top = self._pending_evaluation = None

    def _draw_cost(self) -> None:
        if self._pending_steps and self.trainer is not None:
            self.cost.add_batches(np.concatenate(self._pending_steps),
                                  np.concatenate(self._pending_costs), self.trainer.batches_per_epoch)
        for report in self._pending_epochs:
            self.cost.add_epoch(report)
        self._pending_steps, self._pending_costs, self._pending_epochs = [], [], []  # drawn
        if self._pending_evaluation is not None:
            self.evaluation.show_evaluation(self._pending_evaluation)
            self._pending_evaluation = None

    def _draw_weights(self) -> None:
        if self.snapshot is not None and self.snapshot is not self._drawn["weights"]:
            with np.errstate(over="ignore", invalid="ignore"):  # near divergence: draw, don't warn
                self.weights.show_snapshot(self.snapshot)
            self._drawn["weights"] = self.snapshot

    def _draw_activations(self) -> None:
        if self.snapshot is not None and self.snapshot is not self._drawn["activations"]:
            with np.errstate(over="ignore", invalid="ignore"):
                self.activations.show_snapshot(self.snapshot)
                self.pad.show_snapshot(self.snapshot)
                self._refresh_inspector()
            self._drawn["activations"] = self.snapshot
        if self._pending_top is not None:
            neuron, indices, values = self._pending_top
            self.inspector.show_top(indices, values, neuron=neuron)
            self._pending_top = None

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Show these weights in every panel at once (a new or opened network)."""
        self.snapshot = snapshot
        self._draw_weights()
        self._draw_activations()

    def _evaluate_idle(self) -> None:
        """The confusion matrix of a network that is not training (new or opened): one pass
        over the test set, tens of milliseconds, on a user's action."""
        net, data = self.trainer.net, self.trainer.data
        with np.errstate(over="ignore", invalid="ignore"):  # an opened model near divergence
            probabilities = net.predict_proba(data.x_test)
        self.evaluation.show_evaluation(Evaluation.of(probabilities, data.y_test, self.trainer.epoch))

    @Slot(int)
    def _on_digit_chosen(self, index: int) -> None:
        """A thumbnail of the galleries: that digit in the activations panel and the inspector."""
        if self.pad.following:
            self.pad.follow_box.setChecked(False)
        self.activations.choose(index)
        self.activations_dock.raise_()  # the two share the bottom of the window: show the result

    @Slot(object)
    def _on_drawing_changed(self, x) -> None:
        if self.pad.following:
            self._follow(x)

    @Slot(bool)
    def _on_follow_changed(self, following: bool) -> None:
        self._follow(self.pad.current_input() if following else None)

    def _follow(self, x) -> None:
        """The activations and the inspector show the drawing x, or the test digit if None."""
        if self.data is None:
            return
        if x is None:
            self.activations.show_test_digit()
        else:
            self.activations.show_input(x)
        self._refresh_inspector()

    def _refresh_inspector(self) -> None:
        layer, neuron = self.selection
        if layer is None or self.snapshot is None or self.data is None:
            return
        self.inspector.show_neuron(self.snapshot, layer, neuron, self.activations.current_input())

    @Slot(int, int)
    def select_neuron(self, layer: int, neuron: int) -> None:
        if self.snapshot is None or not 1 <= layer < len(self.snapshot.sizes) \
                or not 0 <= neuron < self.snapshot.sizes[layer]:
            return
        self.selection = (layer, neuron)
        self.weights.set_selection(layer, neuron)
        self.activations.set_selection(layer, neuron)
        self._refresh_inspector()
        if self.training is not None:
            self.training.worker.inspect(layer, neuron)  # the worker finds the top images
        elif self.data is not None:  # idle: a single search, tens of milliseconds
            with np.errstate(over="ignore", invalid="ignore"):  # near divergence: draw, don't warn
                indices, values = top_exciting(self.snapshot.network(), self.data.x_test, layer, neuron)
            self.inspector.show_top(indices, values, neuron=(layer, neuron))

    def _update_status(self, batch=None) -> None:
        trainer = self.trainer
        if trainer is None:
            return
        total = trainer.config.epochs
        if batch is not None:
            done = (batch.epoch - 1 + batch.batch / batch.batches) / total
            self.epoch_label.setText(f"epoch {batch.epoch}/{total}")
            self.speed_label.setText(f"{batch.samples_per_sec:,.0f} samples/s")
            busy = self._busy_seconds + (time.monotonic() - self._busy_since if self._busy_since else 0.0)
            remaining = busy / done * (1 - done) if done > 0 else 0.0
            self.time_label.setText(f"{_clock(busy)} elapsed, {_clock(remaining)} left")
            self.progress.setValue(int(1000 * done))
        else:
            self.epoch_label.setText(f"epoch {trainer.epoch}/{total}")
            self.progress.setValue(int(1000 * trainer.epoch / total) if total else 0)
        if self.last_test_accuracy is not None:
            self.accuracy_label.setText(f"test accuracy {self.last_test_accuracy:.4f}")
        else:
            self.accuracy_label.setText("test accuracy –")

    def _update_controls(self) -> None:
        ready = self.data is not None
        running = self.training is not None
        paused = running and self.training.control.paused
        self.train_button.setEnabled(ready and not running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_action.setEnabled(running)
        self.step_button.setEnabled(ready and (not running or paused))
        self.stop_button.setEnabled(running)
        self.reset_button.setEnabled(ready)
        self.reset_action.setEnabled(ready)
        self.open_action.setEnabled(ready)
        self.save_action.setEnabled(self.snapshot is not None)
        self.form.set_training(running)

    # --- files --------------------------------------------------------------------------------

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", "", "Models (*.npz);;All files (*)")
        if path:
            self.open_model(path)

    def open_model(self, path: str) -> bool:
        """Load a brain.npz and show it at once; on any fault, one sentence and nothing changes."""
        try:
            net, meta = load_model(path)
        except UserError as exc:
            self.show_error(str(exc))
            return False
        self._stop_and_wait()
        saved = meta.get("config", {}) if isinstance(meta.get("config"), dict) else {}
        config = _config_for(net, saved, self.form)
        self.form.set_config(config)
        if not self._new_trainer(config, net, epochs_done=int(meta.get("epochs", 0) or 0)):
            return False
        accuracy = meta.get("test_accuracy")
        self.last_test_accuracy = accuracy if isinstance(accuracy, (int, float)) else None
        self._update_status()
        self._update_controls()
        self.status.showMessage(f"opened {path}", 8000)
        return True

    def save_model_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save model", "brain.npz", "Models (*.npz)")
        if path:
            self.save_model(path)

    def save_model(self, path: str) -> bool:
        """Save the weights on screen: one consistent snapshot, even while training runs."""
        snapshot = self.snapshot
        if snapshot is None:
            return False
        meta = {"epochs": snapshot.epoch, "test_accuracy": self.last_test_accuracy,
                "step": snapshot.step}
        if self.trainer is not None:
            meta["config"] = self.trainer.config.as_dict()
            meta["dataset"] = self.trainer.data.source
        try:
            save_model(path, snapshot.network(), meta)
        except UserError as exc:
            self.show_error(str(exc))
            return False
        self.status.showMessage(f"saved {path}", 8000)
        return True

    def export_png_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export window", "window.png", "PNG images (*.png)")
        if path:
            self.export_png(path)

    def export_png(self, path: str) -> bool:
        if not self.grab().save(path, "PNG"):
            self.show_error(f"cannot save the picture to '{path}'")
            return False
        self.status.showMessage(f"saved {path}", 8000)
        return True

    def show_error(self, message: str) -> None:
        """One sentence in a dialog that does not block, and in the status bar."""
        self.status.showMessage(message, 15000)
        if self.error_box is None:  # one box, reused: errors do not pile up boxes
            self.error_box = QMessageBox(QMessageBox.Warning, "Problem", "", QMessageBox.Ok, self)
        self.error_box.setText(message)
        self.error_box.open()

    # --- remembering --------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        layout.default_layout(self)
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("state")
        if state is not None:
            self.restoreState(state, layout.LAYOUT_VERSION)
        saved = self.settings.value("training")
        if saved:
            try:
                self.form.set_config(TrainConfig(**_from_json(saved)))
            except (UserError, TypeError, ValueError):
                pass  # settings from an older version, or edited by hand: keep the defaults

    def _save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState(layout.LAYOUT_VERSION))
        try:
            self.settings.setValue("training", json.dumps(self.form.config().as_dict()))
        except UserError:
            pass  # the form holds something invalid: remember the last valid settings instead
        self.settings.sync()

    def closeEvent(self, event) -> None:
        self._stop_and_wait()
        self._save_settings()
        super().closeEvent(event)


def _config_for(net, saved: dict, form: SettingsForm) -> TrainConfig:
    """The settings to go on training an opened network: its architecture, the training settings
    it was saved with where they are valid, else the form's (or the defaults)."""
    try:
        base = form.config()
    except UserError:
        base = TrainConfig()
    arch = dict(sizes=net.sizes, hidden=net.hidden.name, output=net.output.name, loss=net.loss.name)
    training = {k: v for k, v in saved.items() if k in base.as_dict() and k not in arch}
    try:
        return base.replace(**training, **arch)
    except (UserError, TypeError):
        return base.replace(**arch)


def _from_json(text) -> dict:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else \
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
