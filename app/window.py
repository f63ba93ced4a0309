"""The main window: the training controls, the panels, the timeline, the status bar and menus.

Its state is held once, in two objects of ``app.state``: ``run`` (the network being trained, its
history, the worker while one runs, the newest of what the worker posted) and ``view`` (the
moment looked at — live or a past one — the test digit, whether the drawing is followed, the
selected neuron). Panels are renderers of (the run at the moment, the view): every change of the
view goes through ``_set_view``, which validates it once and redraws what depends on it. While a
worker runs (driving the trainer in its own process, ``core.child``, or on its thread), a timer
(75 Hz with a process, 15 Hz with a thread) empties its mailbox into the run; nothing else
reaches the window from the worker, and the window never reads the live trainer.

Bad input gets one sentence in a dialog and changes nothing: a model file is read and checked
whole, its settings against what the form can hold, before anything of the window changes
(``open_model``); a remembered setting that is not valid is ignored and named once in the
status bar (``app.files.read_settings``). An unexpected error (a bug) gets a dialog too, with
its traceback under "Show Details" and in a file the sentence names (``show_failure``).
"""
from __future__ import annotations

import dataclasses
import json
import os
import threading

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice, QObject, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import files, layout, menus
from app import help as texts
from app.comparison import Comparison, ComparisonPanel
from app.controls import SettingsForm, checked_values, config_from
from app.collector import collect_in_gui_thread
from app.probing import ProbingWindow
from app.panels.activations import ActivationsPanel
from app.panels.augmented import AugmentedStrip
from app.panels.cost import CostPanel
from app.panels.diagram import DiagramPanel
from app.panels.evaluation import EvaluationPanel
from app.panels.inspector import InspectorPanel
from app.panels.landscape import LandscapeDialog
from app.panels.flow import FlowPanel
from app.panels.health import HealthPanel
from app.panels.layermap import LayerMapPanel
from app.panels.pad import PadPanel
from app.panels.probes import ProbesPanel
from app.panels.weights import WeightsPanel
from app.state import STEPPED, Run, View
from app.timeline import Timeline
from app.worker import Mailbox, TrainingRun
from core import landscape, projection
from core.child import TrainerProcess, describe_failure
from core.augment import augmentation
from core.config import TrainConfig
import core.data
from core.data import DATASETS, Dataset, one_hot
from core.errors import ModelFileError, UserError, one_sentence
from core.evaluation import Evaluation
from core.history import History, keep_initial
from core.inspect import top_exciting
from core.model_io import check_dataset, dataset_meta, load_run, save_model, trained_on
from core.npzio import check_output_path, write_atomically
from core.probes import taught_set
from core.train import Snapshot, Trainer

# Redraw period while training; each frame repaints one of three groups of panels in turn (see
# redraw). Training on a thread, every cycle the GUI thread spends comes out of training: all
# panels at 25 Hz kept 63% of headless throughput, one group a frame at 20 Hz 87-89%, at 15 Hz
# 91-94% (python -m app.bench), so a thread gets 15 frames a second (each group 5 times).
# Training in its own process, 75 frames a second repaint each group 25 times a second (about
# 11 ms of the GUI thread for all three, on the other core). Measured side by side in one run
# (python -m app.bench on two CPUs): every group each frame at 25 Hz, GUI lateness p99 10.7 ms,
# max 19.5, drawing pad p99 7.1 ms; one group a frame at 75 Hz, p99 5.0 ms, max 7.1, pad
# 5.9 ms, throughput 99-117% of headless in both. (Before the child wrote its reports from a
# thread of its own, core.child._Outgoing, it waited for the window to read each snapshot, and
# 75 Hz frames cost it 4-15% of its throughput.)
FRAME_MS = 66
FRAME_MS_PROCESS = 13
# The test digits that excite a neuron most, at a past moment, are searched for once the moment
# shown has rested this long, longer while training runs (a search for a neuron of layer 2 of
# 'fast' is a forward pass of the test set through layer 1, about 40 ms of the GUI thread; of
# layer 1, 2 ms), and the last TOP_CACHE searches are kept.
TOP_DELAY_MS = 80
TOP_DELAY_TRAINING_MS = 300
GROUPS = 3  # of panels, repainted in turn while training: cost; weights; the rest
TOP_CACHE = 64
AUGMENTED_SHOWN = 8  # training images in the strip of what the network is fed
DATASET_KEY = "data/dataset"  # the settings' entry for the dataset last chosen in File ▸ Dataset


def remembered_dataset(settings: QSettings) -> str:
    """The dataset chosen last in File ▸ Dataset (a key of DATASETS), else MNIST."""
    return files.read_setting(settings, DATASET_KEY)


class DataLoader(QObject):
    """Reads a dataset (a key of ``core.data.DATASETS``) on a plain thread so the window paints
    at once; reports on the GUI thread, a failure with the name of the dataset it was. Every
    failure is reported, not only the dataset's own sentences: an unexpected error (a bug, a
    MemoryError) is a sentence too, its traceback kept in ``details`` (by dataset name) and in a
    file the sentence names, so the window never waits for ever on "Loading…"."""

    loaded = Signal(object)
    failed = Signal(str, str)  # (name, why)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.details: dict[str, str] = {}  # the traceback of the last unexpected failure, by name

    def start(self, name: str, path, limit) -> None:
        threading.Thread(target=self._load, args=(name, path, limit), daemon=True, name="load-data").start()

    def _load(self, name: str, path, limit) -> None:
        try:
            data = core.data.load_dataset(name, path, limit=limit or None)  # read no more than that
        except UserError as exc:
            self.details.pop(name, None)
            self.failed.emit(name, str(exc))
        except Exception as exc:  # noqa: BLE001 (a bug: said, and its traceback kept)
            title = DATASETS[name].title if name in DATASETS else name
            why, self.details[name] = describe_failure(f"reading {title}", exc)
            self.failed.emit(name, why)
        else:
            self.loaded.emit(data)


class MainWindow(QMainWindow, ProbingWindow):
    """The window. ``confirm_discard``: ask Save / Discard / Cancel before a trained network
    that is not saved is thrown away (off where no person is there to answer: pictures made
    offscreen, the benchmarks, most tests)."""

    confirm_discard = True
    data_ready = Signal()
    run_ended = Signal(str)  # after a run's thread has finished: "" or why it failed
    view_changed = Signal()  # after every panel has been drawn for a new view or moment

    def __init__(self, settings: QSettings, data_path=None, limit: int | None = None,
                 data: Dataset | None = None, process: bool = True, dataset: str = "mnist",
                 settings_note: str = ""):
        """``data``, if given, is used as it is (already loaded: tests, the benchmarks);
        otherwise ``dataset`` (a key of DATASETS) is read from ``data_path`` (else from its
        usual places) on a thread, and ``limit`` cuts it, as it cuts one chosen later in
        File ▸ Dataset (read from its usual places: ``data_path`` is the first one's).
        ``process``: train in a process of its own (``core.child``), started (on a thread)
        when the window is first shown, else by the first run; False trains on a thread of this
        process (``--thread``). ``settings_note``: a sentence about the settings file itself
        (``app.files.open_settings``), said in the status bar with the settings ignored."""
        super().__init__()
        collect_in_gui_thread()  # garbage that holds Qt objects is never freed by a worker thread
        self.settings = settings
        self.recent = files.RecentFiles(settings)
        self.data = None
        self._data_path = (dataset, data_path)  # the path is of that dataset only
        self._limit = limit
        self._loading: str | None = None  # the dataset being read, until it is here
        self.run: Run | None = None
        self.view = View()
        self.mailbox = Mailbox()
        self.use_process = process
        self.trainer_process: TrainerProcess | None = None  # the child, once the data is here
        self.error_box: QMessageBox | None = None
        self.maths_dialog: texts.MathsDialog | None = None
        self.about_dialog: texts.AboutDialog | None = None
        self.landscape_dialog: LandscapeDialog | None = None
        self._frame = 0  # redraws so far: which group of panels paints next
        self._drawn: dict[str, object] = {}  # the snapshot (or evaluation) each group shows
        self._cost_drawn = (0, 0)  # batches and epochs of the history the cost panel has
        self._flow_drawn = 0  # batches of the history's gradient flow the flow panel has
        self._top_cache: dict[tuple, tuple] = {}  # (step, neuron) -> (indices, values)
        self._marked = 0  # moments the timeline knows of
        self._behind = 0  # frames until the panels show a moment chosen while training
        self._stepped_said = -1  # the step whose batch the status bar last described
        self._interrupted = False  # Ctrl+C: close without asking (``interrupt``)
        self.settings_note = settings_note  # said once in the status bar, with the data's sentence

        self._build_panels()
        self._build_controls()
        layout.install_docks(self)
        for dock in (self.activations_dock, self.diagram_dock, self.layermap_dock, self.evaluation_dock,
                     self.inspector_dock, self.pad_dock, self.flow_dock, self.health_dock,
                     self.probes_dock, self.augmented_dock, self.second_dock):
            dock.visibilityChanged.connect(self._on_dock_shown)
        self.help_buttons = {name: texts.add_help(getattr(self, f"{name}_dock"), name) for name in
                             ("training", "cost", "flow", "health", "activations", "diagram", "layermap",
                              "evaluation", "inspector", "pad", "probes", "augmented", "second")}
        self.help_buttons["weights"] = texts.CornerHelp("weights", self.weights)
        self._build_timeline()
        self._build_status_bar()
        menus.install(self)
        self.hint_action.setVisible(not files.read_setting(self.settings, "hints/first_run_done"))
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.redraw)
        self._top_timer = QTimer(self)  # the exciting digits of a past moment, once it settles
        self._top_timer.setSingleShot(True)
        self._top_timer.setInterval(TOP_DELAY_MS)
        self._top_timer.timeout.connect(self._find_top)
        self._restore_settings()
        self._update_controls()

        self.loader = DataLoader(self)
        self.loader.loaded.connect(self._on_data_loaded)
        self.loader.failed.connect(self._on_data_failed)
        if data is not None:
            self._on_data_loaded(data.limit(limit, limit) if limit else data)
        else:
            self._load(dataset)

    # --- building -----------------------------------------------------------------------------

    def _build_panels(self) -> None:
        self.weights = WeightsPanel()
        self.cost = CostPanel()
        self.activations = ActivationsPanel()
        self.inspector = InspectorPanel()
        self.pad = PadPanel()
        self.evaluation = EvaluationPanel()
        self.diagram = DiagramPanel()
        self.layermap = LayerMapPanel()
        self.flow = FlowPanel()
        self.health = HealthPanel()
        self.probes = ProbesPanel()
        self.augmented = AugmentedStrip()
        self.second = ComparisonPanel()
        p = self.probes
        for signal, slot in ((p.probe_chosen, self.choose_probe), (p.pin_digit, self.pin_digit),
                             (p.pin_drawing, self.pin_drawing), (p.remove_probe, self.remove_probe),
                             (p.reset_probes, self.reset_probes), (p.teach, self.teach),
                             (p.forget_taught, self.forget_taught)):
            signal.connect(slot)
        self.weights.neuron_clicked.connect(self.select_neuron)
        self.activations.neuron_clicked.connect(self.select_neuron)
        self.diagram.neuron_clicked.connect(self.select_neuron)
        self.inspector.switch_requested.connect(self.switch_neuron)
        self.inspector.restore_requested.connect(self.switch_all_on)
        self.layermap.digit_chosen.connect(self._on_digit_chosen)
        self.activations.digit_changed.connect(self._on_digit_changed)
        self.pad.drawing_changed.connect(self._on_drawing_changed)
        self.pad.follow_changed.connect(self._on_follow_changed)
        self.evaluation.digit_chosen.connect(self._on_digit_chosen)

    def _build_controls(self) -> None:
        """The settings form (the training commands are in the toolbar, ``app.menus``)."""
        self.form = SettingsForm()
        self.form.lr_changed.connect(self._on_lr_changed)
        self.form.edited.connect(self._on_settings_edited)
        self.form.space_pressed.connect(self.toggle_pause)
        self.controls = QWidget()
        column = QVBoxLayout(self.controls)
        column.addWidget(self.form)
        column.addStretch(1)

    def _build_timeline(self) -> None:
        self.timeline = Timeline()
        self.timeline.moment_chosen.connect(self._on_moment_chosen)
        self.timeline_bar = QToolBar("Timeline")
        self.timeline_bar.setObjectName("Timeline")  # saveState needs names
        self.timeline_bar.setMovable(False)
        self.timeline_bar.addWidget(self.timeline)
        self.addToolBar(Qt.BottomToolBarArea, self.timeline_bar)

    def _build_status_bar(self) -> None:
        self.status = self.statusBar()
        self.state_label = QLabel("")
        self.epoch_label = QLabel("epoch –")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.speed_label = QLabel("")
        self.time_label = QLabel("")
        self.moment_label = QLabel("")
        self.accuracy_label = QLabel("test accuracy –")
        for widget in (self.state_label, self.epoch_label, self.progress, self.speed_label,
                       self.time_label, self.moment_label, self.accuracy_label):
            self.status.addPermanentWidget(widget)

    # --- data ---------------------------------------------------------------------------------

    def _load(self, name: str) -> None:
        """Read the dataset called ``name`` on the loader's thread; ``_on_data_loaded`` (or
        ``_on_data_failed``) follows. The command line's path is for its own dataset only."""
        self._loading = name
        first, path = self._data_path
        self.loader.start(name, path if name == first else None, self._limit)
        self.status.showMessage(f"Loading {DATASETS[name].title}…")
        self._check_dataset_action(name)
        self._update_controls()

    def choose_dataset(self, name: str) -> None:
        """File ▸ Dataset: train on another dataset. The network (trained on the other images)
        is asked about, as for Open; training and a comparison stop; once the images are read,
        a new run, with the new dataset's default probes. Remembered for the next start."""
        if self._loading == name or (self._loading is None and self.data is not None
                                     and self.data.name == name):
            self._check_dataset_action(name)
            return
        if not self.may_discard("Open"):
            self._check_dataset_action(self._loading or (self.data.name if self.data is not None else None))
            return
        self._stop_and_wait()
        self._set_comparison(None)
        self._load(name)

    def _check_dataset_action(self, name: str | None) -> None:
        """File ▸ Dataset shows ``name`` chosen (none, for a dataset it does not list)."""
        for key, chosen in self.dataset_actions.items():
            chosen.setChecked(key == name)

    @Slot(object)
    def _on_data_loaded(self, data) -> None:
        if self._loading not in (None, data.name):
            return  # read too late: another dataset was chosen meanwhile
        self._loading = None
        if self.data is not None:  # another dataset: the run was made on the other images
            self._stop_and_wait()
            self.run = None  # its network, history and probes are of the other dataset
            self.evaluation.clear()  # its evaluation points into the other test images
            if data.name in DATASETS:
                self.settings.setValue(DATASET_KEY, data.name)
        self.data = data
        if self.trainer_process is not None:
            self.trainer_process.close()  # it holds the other dataset in shared memory
            self.trainer_process = None
        if self.use_process:
            self.trainer_process = TrainerProcess(data)
            if self.isVisible():
                self.trainer_process.prestart()  # ahead of Train, so the first batch comes at once
        self._show_class_names(data)
        self.form.set_digits(data.digits)  # before the new run, which takes the form's settings
        self._check_dataset_action(data.name)
        self.activations.set_dataset(data.x_test, data.y_test)
        self.layermap.set_dataset(data.x_test, data.y_test)
        self.inspector.set_images(data.x_test)
        self.evaluation.set_images(data.x_test)
        self.status.showMessage(self._with_note(f"{len(data.x_train):,} training and {len(data.x_test):,} "
                                                f"test images of {data.title} from {data.source}"),
                                15000 if self.settings_note else 8000)
        if self.run is None:
            self._new_run()
        self._update_controls()
        self.data_ready.emit()

    def _show_class_names(self, data: Dataset) -> None:
        """Every panel that names a class says the dataset's names."""
        names = data.class_names
        for panel in (self.activations, self.evaluation, self.diagram):
            panel.set_class_names(names)
        self.pad.set_class_names(names, data.title)
        self.probes.cells.class_names = names
        self.probes.label_box.setToolTip(
            "The class the drawing is: what it is taught as, or pinned with"
            + ("" if data.digits else " (" + ", ".join(f"{k} {n}" for k, n in enumerate(names)) + ")"))

    @Slot(str, str)
    def _on_data_failed(self, name: str, message: str) -> None:
        if self._loading != name:
            return  # another dataset was chosen meanwhile
        self._loading = None
        if self.data is not None:  # a dataset chosen in the menu: the one loaded stays
            self._check_dataset_action(self.data.name)
            self._update_controls()
            self.show_failure(f"{message}; the window goes on with {self.data.title}.",
                              self.loader.details.get(name, ""))
            return
        self._update_controls()
        sentence = (f"{message}. Training is unavailable; choose another dataset in File ▸ Dataset, "
                    f"or start the program with --data PATH.")
        self.show_failure(sentence, self.loader.details.get(name, ""))
        if self.settings_note:
            self.status.showMessage(self._with_note(sentence), 15000)

    # --- the run ------------------------------------------------------------------------------

    @property
    def trainer(self) -> Trainer | None:
        """The network being trained (for tests and tools: the window reads it only while no
        worker runs)."""
        return None if self.run is None else self.run.trainer

    @property
    def training(self) -> TrainingRun | None:
        """The worker while one runs."""
        return None if self.run is None else self.run.worker

    @property
    def history(self) -> History | None:
        return None if self.run is None else self.run.history

    @property
    def snapshot(self) -> Snapshot | None:
        """The newest weights (live), whichever moment is shown."""
        return None if self.run is None else self.run.live

    @property
    def last_test_accuracy(self) -> float | None:
        return None if self.run is None else self.run.test_accuracy

    @property
    def selection(self) -> tuple[int | None, int | None]:
        return self.view.neuron or (None, None)

    @property
    def moment(self) -> int | None:
        """The index in the history of the moment shown, or None: live."""
        return self.view.moment

    def _config(self) -> TrainConfig | None:
        try:
            return self.form.config()
        except UserError as exc:
            self.show_error(str(exc))
            return None

    def _new_run(self, config: TrainConfig | None = None, net=None, epochs_done: int = 0,
                 step: int = 0, history: History | None = None,
                 test_accuracy: float | None = None) -> bool:
        """A new network (fresh from the seed, or ``net`` opened with its ``history``) replaces
        the current one, and every panel shows it."""
        config = config or self._config()
        if config is None or self.data is None:
            return False
        try:
            trainer, history = self._make_run(config, net, epochs_done, step, history)
        except UserError as exc:
            self.show_error(str(exc))
            return False
        self._install_run(config, trainer, history, test_accuracy)
        return True

    def _make_run(self, config: TrainConfig, net=None, epochs_done: int = 0, step: int = 0,
                  history: History | None = None) -> tuple[Trainer, History]:
        """The trainer and history of a new run, made without changing anything of the window
        (UserError in one sentence if they cannot be): ``_install_run`` then shows them."""
        trainer = Trainer(self.data, config, net)
        trainer.epoch = epochs_done
        if history is not None and not np.array_equal(history.labels, self.data.y_test):
            history = history.reevaluated(self.data.x_test, self.data.y_test)  # other test data
        if history is None:
            history = History(config.architecture, self.data.y_test)
            keep_initial(history, trainer)
        trainer.step = max(step, history.last_step)
        trainer.teach(*(taught_set(history.taught, config.seed) or (None,)))
        return trainer, history

    def _install_run(self, config: TrainConfig, trainer: Trainer, history: History,
                     test_accuracy: float | None) -> None:
        """Make ``trainer`` (with ``history``) the window's run, and show it in every panel."""
        self._probes_for(history, self.run.history.probes if self.run is not None else ())
        self.run = Run(trainer, history, test_accuracy)
        self.layermap.forget()  # its frame was another run's
        self.run.ensure_moment()
        self._clear_pending()
        self._top_cache.clear()
        self.cost.show_history(history, self.run.batches_per_epoch)
        self._cost_drawn = (len(history.steps), len(history.epochs))
        self.flow.reset(len(config.sizes) - 1, config.sizes)
        self._flow_drawn = 0
        self.health.set_history(history, self.data.x_test, self.data.y_test)
        self.timeline.set_moments(*self._moment_marks())
        self.timeline.set_current(None)
        if self.comparison is not None:  # Reset: the second run starts again too, from its seed
            self.compare_again(config)
        self._set_view(moment=None, off=(), probe=None)
        self._draw_augmented(config)

    def _moment_marks(self) -> tuple[list[float], list[int]]:
        moments = self.run.history.moments
        self._marked = len(moments)
        return [m.position for m in moments], [m.step for m in moments]

    def _refused_while_off(self) -> bool:
        """Training needs every neuron: while some are switched off it is refused, in a sentence."""
        n = len(self.view.off)
        if n:
            self.show_error(f"{n} neuron{'s are' if n > 1 else ' is'} switched off or clamped, and "
                            f"training changes every neuron's weights: press All on in the "
                            f"inspector first.")
        return bool(n)

    def _start(self, paused: bool = False, steps: int = 0) -> None:
        """Start a run of the current trainer for the epochs the form asks for."""
        if self._refused_while_off():
            return
        config = self._config()
        if config is None or self.data is None or self.training is not None:
            return
        if self.run is None or self.run.trainer.net.architecture != config.architecture:
            if not self._new_run(config):
                return
        try:
            self.run.trainer.extend(config)
        except UserError as exc:
            self.show_error(str(exc))
            return
        self.run.ensure_moment()  # a run stopped inside an epoch: its last weights are kept
        worker = TrainingRun(self.run.trainer, self.mailbox, self.trainer_process)
        worker.ended.connect(self._on_run_ended)
        worker.inspect(*self.selection)
        self.run.started(worker, paused)
        worker.start(paused=paused, steps=steps)
        if steps:
            self.run.paused(True, stepped=True)
        if self.comparison is not None:
            self.comparison.start(config.epochs, config.seed, paused, steps)
        self.timer.start(FRAME_MS if worker.worker.process is None else FRAME_MS_PROCESS)
        self._update_controls()
        self._update_status()

    @Slot()
    def train(self) -> None:
        self.dismiss_hint()
        self._start()

    @Slot()
    def toggle_pause(self) -> None:
        run = self.training
        if run is None:
            return
        if run.control.paused:
            if self._refused_while_off():
                return
            run.control.resume()
            self.run.paused(False)
        else:
            run.control.pause()
            self.run.paused(True)
            self._mark("paused")
        if self.comparison is not None:
            self.comparison.pause(run.control.paused)
        self._update_controls()
        self._update_status()

    @Slot()
    def step(self) -> None:
        """One batch, then paused: starts a paused run if none is going."""
        if self.training is None:
            self._start(paused=True, steps=1)
        elif self.training.control.paused and not self._refused_while_off():
            self.training.control.step(1)
            self.run.paused(True, stepped=True)
            if self.comparison is not None:
                self.comparison.step()
            self._update_status()

    @Slot()
    def stop(self) -> None:
        if self.training is not None:
            self.training.control.stop()
        if self.comparison is not None and self.comparison.training is not None:
            self.comparison.training.control.stop()

    @Slot()
    def reset(self) -> None:
        """Fresh weights from the seed, with the settings of the form (asked first if the
        network has trained since it was saved)."""
        if not self.may_discard("Reset"):
            return
        self._stop_and_wait()
        self._new_run()
        self._update_controls()

    @Slot()
    def new_network(self) -> None:
        """File → New: as Reset, and the network has no file yet."""
        self.reset()

    def may_discard(self, what: str) -> bool:
        """May the network be thrown away for ``what`` ("Reset", "Open", "Quit")? If it has
        trained since it was last saved, the user chooses: Save (then yes, if the save worked),
        Discard (yes) or Cancel (no)."""
        run = self.run
        if run is None or not run.unsaved or not self.confirm_discard:
            return True
        answer = files.ask_to_save(self, what, self._file_name())
        if answer == files.SAVE:
            return self.save()
        return answer == files.DISCARD

    def _stop_and_wait(self) -> None:
        """Stop a run (and the second run's) and let it go once its thread has finished."""
        if self.comparison is not None:
            self.comparison.stop_and_wait()
        worker = self.training
        if worker is None:
            return
        worker.stop()
        self._finish_run(worker, "")

    @Slot(str)
    def _on_run_ended(self, failure: str) -> None:
        worker = self.sender()
        if worker is self.training:
            self._finish_run(worker, failure)

    def _finish_run(self, worker: TrainingRun, failure: str) -> None:
        worker.ended.disconnect(self._on_run_ended)
        if self.comparison is None or self.comparison.training is None:
            self.timer.stop()  # else it goes on for the second run
        self.redraw(everything=True)  # what the worker posted last, before it is let go
        self.run.ended(failure, worker.worker.diverged)
        self._update_controls()
        self._update_status()
        if failure:
            self.show_failure(failure, worker.worker.details)
        self.run_ended.emit(failure)

    @Slot(float)
    def _on_lr_changed(self, lr: float) -> None:
        if self.training is not None:
            try:
                self.training.control.set_lr(lr)
            except UserError as exc:
                self.show_error(str(exc))
                return
            self._mark(f"lr {lr:g}")

    def _mark(self, words: str) -> None:
        """Note on the cost curve, where training is now, what the user just did."""
        run = self.run
        position = self._live_position()
        run.marks.append((position, words))
        self.cost.add_mark(position, words)

    @Slot()
    def _on_settings_edited(self) -> None:
        """A setting was edited. A network that has not trained yet is remade at once when its
        shape or seed changes (nothing is lost); otherwise the rows that wait for Train or Reset
        are marked."""
        run = self.run
        if run is None or self.data is None:
            return
        try:
            config = self.form.config()
        except UserError:
            return  # half typed: said when Train or Reset is pressed
        self._draw_augmented(config)
        remade = (config.architecture, config.seed) != (run.config.architecture, run.config.seed)
        if remade and run.worker is None and run.step == 0 and len(run.history.epochs) == 0:
            self._new_run(config)
            self._update_controls()
        self._mark_pending()

    def _mark_pending(self) -> None:
        run = self.run
        try:
            config = self.form.config()
        except UserError:
            self.form.mark_pending(set(), set())
            return
        if run is None:
            return
        now = run.config
        differ = {name for name in ("sizes", "hidden", "output", "loss", "seed", "optimizer", "lr",
                                    "lr_decay", "momentum", "weight_decay", "batch_size", "dropout",
                                    "schedule", "warmup", "augment")
                  if getattr(config, name) != getattr(now, name)}
        if run.worker is not None:
            differ.discard("lr")  # taken at the next batch
        on_reset = differ & {"sizes", "hidden", "output", "loss", "seed"}
        self.form.mark_pending(on_reset, differ - on_reset)

    # --- the view -----------------------------------------------------------------------------

    def _set_view(self, **changes) -> None:
        """Change what is looked at, validated once for the network shown, and draw every panel
        that depends on what changed."""
        run = self.run
        old = self.view
        view = dataclasses.replace(old, **changes)
        if run is not None and self.data is not None:
            view = view.checked(run.live.sizes, len(self.data.x_test), len(run.history))
        self.view = view
        self._behind = 0
        self._render()
        self.view_changed.emit()

    @Slot(object)
    def show_moment(self, index: int | None) -> None:
        """Show moment ``index`` of the history in every panel (None: live, the newest weights);
        when this returns, every panel and the status bar show that moment."""
        if self.run is None:
            return
        if index is not None and not 0 <= index < len(self.run.history):
            raise ValueError(f"moment {index} does not exist: the history holds "
                             f"{len(self.run.history)}")
        self._set_view(moment=index)
        if self.timeline.current != self.view.moment:
            self.timeline.set_current(self.view.moment)

    @Slot(bool)
    def _on_dock_shown(self, visible: bool) -> None:
        """A panel's tab came to the front: draw what it missed while it was behind, now, and
        once more when it is on screen (a panel that is one opaque view, the diagram, is not yet
        when this is called; what is drawn already is not drawn again)."""
        if visible and self.run is not None:
            self._draw_missed()
            QTimer.singleShot(0, self._draw_missed)

    @Slot()
    def _draw_missed(self) -> None:
        if self.run is not None:
            snapshot, evaluation, _ = self._at()
            self._draw_activations(snapshot)
            self._draw_evaluation(evaluation)
            self._draw_cost()
            self._draw_probes()
            self._draw_comparison(everything=True)

    @Slot(object)
    def _on_moment_chosen(self, index: int | None) -> None:
        """The user's choice on the timeline. Idle, every panel shows it at once; while training
        runs, the status bar and the cost cursor at once and the other panels over the next
        frames, one group a frame as in live training, so a dragged timeline takes the GUI
        thread (and the GIL training needs) no more than a live window does, and the moments a
        drag passes over quickly are never drawn at all."""
        if self.run is None or self.run.worker is None:
            self.show_moment(index)
            return
        self.view = dataclasses.replace(self.view, moment=index).checked(
            self.run.live.sizes, len(self.data.x_test), len(self.run.history))
        self._behind = GROUPS  # frames until every group has drawn the moment chosen
        self.cost.set_cursor(self._at()[2])
        self._update_status()

    def _render(self) -> None:
        """Every panel from (the run at the moment shown, the view)."""
        if self.run is None:
            return
        snapshot, evaluation, position = self._at()
        self._draw_weights(snapshot)
        self._draw_activations(snapshot)
        self._draw_evaluation(evaluation)
        self._draw_cost()
        self._draw_comparison(everything=True)
        self._draw_probes()
        self.cost.set_cursor(position)
        self._update_status()

    def _at(self) -> tuple[Snapshot, Evaluation | None, float | None]:
        """The weights, the answers on the test set and the point of training of the view: its
        moment, with its neurons switched off."""
        return self.run.at(self.view.moment, self.view.off)

    def _input(self) -> tuple[np.ndarray | None, int | None, tuple]:
        """The input the activations and the inspector show, its true digit if known, and a
        key that changes exactly when the input does."""
        probe = self._probe_input()
        if probe is not None:
            return probe
        drawn = self.pad.current_input()
        if self.view.follow and drawn is not None:
            return drawn, None, ("drawing", id(drawn))  # the pad hands out a new array per change
        if self.data is None or not len(self.data.x_test):
            return None, None, ("none",)
        d = self.view.digit
        return self.data.x_test[d], int(self.data.y_test[d]), ("digit", d)

    # --- drawing ------------------------------------------------------------------------------

    @Slot()
    def redraw(self, everything: bool = False) -> None:
        """Empty the mailbox: called by the timer while a run is alive.

        Each frame repaints one group of panels in turn: the cost curves, the weights, the
        activations with the inspector and the pad (the GUI thread is never busy for long, so a
        stroke on the pad or a click waits little), each group 25 times a second with a
        training process, 5 with a thread, whose painting holds the GIL the trainer also needs.
        ``everything`` draws all at once (when a run ends).
        A past moment shown stays as it is: only the curves, the timeline and the status grow
        (once a moment chosen on the timeline has been drawn, see ``_on_moment_chosen``)."""
        run = self.run
        run.take(self.mailbox.take())
        if len(run.history) != self._marked:
            self.timeline.set_moments(*self._moment_marks())
        live = self.view.moment is None
        snapshot, evaluation, _ = self._at()
        groups = (lambda: (self._draw_cost(), self._draw_comparison()), lambda: self._draw_weights(snapshot),
                  lambda: (self._draw_activations(snapshot), self._draw_evaluation(evaluation),
                           self._draw_probes()))
        if everything:
            for draw in groups:
                draw()
            self._behind = 0
        elif live or self._behind:
            groups[self._frame % len(groups)]()
            self._behind = max(self._behind - 1, 0)
        elif self._frame % len(groups) == 0:
            self._draw_cost()
            self._draw_comparison()
        self._frame += 1
        self._update_status()
        self._say_stepped()

    def _say_stepped(self) -> None:
        """After Step, what the one batch did (the panels show its weights)."""
        run = self.run
        b = run.batch
        if run.status == STEPPED and b is not None and b.step != self._stepped_said:
            self._stepped_said = b.step
            self.status.showMessage(f"Trained one batch (step {b.step:,}, epoch {b.epoch}, batch "
                                    f"{b.batch} of {b.batches}): its cost was {b.cost:.4f}. Step again "
                                    f"(Ctrl+B) or Resume (Space).", 15000)

    def _clear_pending(self) -> None:
        """Forget what came from the worker and is not drawn yet (a new network)."""
        self.mailbox.take()
        self._drawn.clear()

    def _draw_cost(self) -> None:
        """The curves over training: the cost, and the gradient flow and the neuron health if
        they can be seen (each takes what the history holds beyond what it has)."""
        h = self.run.history
        batches, epochs = self._cost_drawn
        if len(h.steps) > batches:
            self.cost.add_batches(h.positions[batches:], h.costs[batches:], self.run.batches_per_epoch,
                                  h.lrs[batches:])
        for report in h.epochs[epochs:]:
            self.cost.add_epoch(report)
        self._cost_drawn = (len(h.steps), len(h.epochs))
        if self._seen(self.flow_dock):
            if len(h.flow_steps) > self._flow_drawn:
                self.flow.add_batches(h.flow_positions[self._flow_drawn:], h.flow[self._flow_drawn:],
                                      self._flow_per_epoch())
                self._flow_drawn = len(h.flow_steps)
            self.flow.show_position(self._at()[2])
        if self._seen(self.health_dock):
            self.health.show_moment(self.view.moment)

    def _draw_augmented(self, config: TrainConfig) -> None:
        """The strip of what the network is fed, with the augmentation and mixup the settings ask for."""
        if self.data is None:
            return
        key = (config.augment, config.mixup, config.seed, self.data.name, len(self.data.x_train))
        if self._drawn.get("augmented") != key:
            self.augmented.show_images(self.data.x_train[:AUGMENTED_SHOWN],
                                       augmentation(config.augment, self.data.digits), config.seed,
                                       config.mixup)
            self._drawn["augmented"] = key

    def _flow_per_epoch(self) -> int:
        """The flow's records in an epoch: every batch's, or every k-th of a small network."""
        return max(1, self.run.batches_per_epoch // self.run.flow_every)

    def _draw_weights(self, snapshot: Snapshot) -> None:
        if self._drawn.get("weights") is not snapshot:
            with np.errstate(over="ignore", invalid="ignore"):  # near divergence: draw, don't warn
                self.weights.show_snapshot(snapshot)
            self._drawn["weights"] = snapshot
        self.weights.set_selection(*self.selection)

    def _draw_activations(self, snapshot: Snapshot) -> None:
        """The activations, the pad's prediction and the inspector, for these weights and the
        input of the view: each only if what it shows has changed, and only if it can be seen
        (a dock behind another's tab is drawn when it comes to the front)."""
        x, label, key = self._input()
        looked_at = (key, self.view.neuron)
        with np.errstate(over="ignore", invalid="ignore"):  # near divergence: draw, don't warn
            for name, dock, panel in (("activations", self.activations_dock, self.activations),
                                      ("diagram", self.diagram_dock, self.diagram)):  # driven alike
                if not self._seen(dock):
                    continue
                if self._drawn.get(f"{name} input") != key and x is not None:
                    panel.show_input(x, label)
                    self._drawn[f"{name} input"] = key
                if self._changed(name, snapshot, looked_at):
                    panel.show_snapshot(snapshot)
                    panel.set_selection(*self.selection)
            if self._seen(self.layermap_dock):
                self._draw_layermap()
            if self._seen(self.pad_dock) and self._changed("pad", snapshot, None):
                self.pad.show_snapshot(snapshot)
            if self._seen(self.inspector_dock):
                self._draw_switched()
                if self._changed("inspector", snapshot, looked_at):
                    if self.view.neuron is None:
                        self.inspector.clear()
                    else:
                        self.inspector.show_neuron(snapshot, *self.view.neuron, x)
                        if self._known_top() is None:
                            self.inspector.await_top()  # the digits shown are another moment's
                            self._drawn.pop("top", None)
                self._draw_top()

    def _draw_layermap(self) -> None:
        """The layer map at the moment shown, or live at the newest moment of the history (a
        map costs 12-19 ms for 'fast': it follows the moments, each epoch's end among them,
        not every snapshot)."""
        history = self.run.history
        index = self.view.moment if self.view.moment is not None else len(history) - 1
        off = self.view.off
        key = (history, history.moments[index].step, off) if index >= 0 else None  # (thinning moves indices)
        if key is not None and self._drawn.get("layermap") != key:  # each moment drawn once
            self.layermap.show_snapshot(history.snapshot(index).forcing(off))
            self._drawn["layermap"] = key
        if self._drawn.get("layermap digit") != self.view.digit:
            self.layermap.set_digit(self.view.digit)
            self._drawn["layermap digit"] = self.view.digit

    def _seen(self, dock) -> bool:
        """Can the panel in ``dock`` be seen? Not when the window is shown and the dock is behind
        another in a group of tabs (its panel is drawn when its tab comes to the front). The
        panel's region is there as soon as its tab is raised; a panel that is one opaque view
        (the diagram) has none of its own, and then the dock's counts, once it is shown."""
        return not (self.isVisible() and self.tabifiedDockWidgets(dock)
                    and dock.widget().visibleRegion().isEmpty() and dock.visibleRegion().isEmpty())

    def _changed(self, panel: str, snapshot: Snapshot, of) -> bool:
        """Is ``panel`` to be drawn for these weights and this choice ``of`` input and neuron?
        True once for each new pair (the panel is then taken to show it)."""
        drawn = self._drawn.get(panel)
        if drawn is not None and drawn[0] is snapshot and drawn[1] == of:
            return False
        self._drawn[panel] = (snapshot, of)
        return True

    def _draw_evaluation(self, evaluation: Evaluation | None) -> None:
        if not self._seen(self.evaluation_dock):
            return
        if evaluation is None:
            if self._drawn.get("evaluation") is not None:
                self.evaluation.clear()
        elif self._drawn.get("evaluation") is not evaluation:
            self.evaluation.show_evaluation(evaluation)
        self._drawn["evaluation"] = evaluation

    # --- the test digits that excite the selected neuron ----------------------------------

    def _top_key(self) -> tuple | None:
        neuron = self.view.neuron
        if neuron is None or self.run is None:
            return None
        snapshot, _, _ = self._at()
        return snapshot.step, neuron, self.view.off

    def _known_top(self):
        """The exciting digits for the neuron and the moment shown, if known: the worker's while
        training is live, else those found earlier for that step."""
        neuron = self.view.neuron
        if neuron is None:
            return None
        run = self.run
        if self.view.moment is None and run.worker is not None and not self.view.off:
            top = run.top
            return (top[1], top[2]) if top is not None and tuple(top[0]) == neuron else None
        return self._top_cache.get(self._top_key())

    def _draw_top(self) -> None:
        neuron = self.view.neuron
        if neuron is None:
            return
        known = self._known_top()
        if known is not None:
            if self._drawn.get("top") is not known:
                self.inspector.show_top(*known, neuron=neuron)
                self._drawn["top"] = known
        elif not (self.view.moment is None and self.run.worker is not None and not self.view.off):
            self._top_timer.start(TOP_DELAY_MS if self.run.worker is None else TOP_DELAY_TRAINING_MS)

    @Slot()
    def _find_top(self) -> None:
        """One search of the test set for the digits that excite the selected neuron most, at
        the moment shown: tens of milliseconds, after the view has rested TOP_DELAY_MS."""
        key = self._top_key()
        if key is None or self.data is None or key in self._top_cache:
            self._draw_top()
            return
        snapshot, _, _ = self._at()
        with np.errstate(over="ignore", invalid="ignore"):  # near divergence: draw, don't warn
            found = top_exciting(snapshot.network(), self.data.x_test, *key[1])
        if len(self._top_cache) >= TOP_CACHE:
            self._top_cache.pop(next(iter(self._top_cache)))
        self._top_cache[key] = found
        self._draw_top()

    def finish_pending(self) -> None:
        """Do now what the window leaves until the view has rested (the search for the test
        digits that excite the selected neuron at a past moment), for a picture of it."""
        if self._top_timer.isActive():
            self._top_timer.stop()
            self._find_top()

    # --- the user's choices -------------------------------------------------------------------

    @Slot(int)
    def _on_digit_changed(self, index: int) -> None:
        self._set_view(digit=index)

    @Slot(int)
    def _on_digit_chosen(self, index: int) -> None:
        """A thumbnail of the galleries: that digit in the activations panel and the inspector."""
        if self.pad.following:
            self.pad.follow_box.setChecked(False)
        self.activations.choose(index)  # digit_changed follows
        self.activations_dock.raise_()  # the two share the bottom of the window: show the result

    @Slot(object)
    def _on_drawing_changed(self, x) -> None:
        if self.view.follow:
            self._set_view()

    @Slot(bool)
    def _on_follow_changed(self, following: bool) -> None:
        self._set_view(follow=following)

    @Slot(int, int)
    def select_neuron(self, layer: int, neuron: int) -> None:
        run = self.run
        if run is None or not 1 <= layer < len(run.live.sizes) or not 0 <= neuron < run.live.sizes[layer]:
            return
        self._set_view(neuron=(layer, neuron))
        if self.training is not None:
            self.training.inspect(layer, neuron)  # the worker finds the top images

    @Slot(int, int, object)
    def switch_neuron(self, layer: int, neuron: int, value: float | None) -> None:
        """Force hidden neuron ``neuron`` of ``layer`` to ``value`` (0: off), or switch it on
        again (None); every panel then shows the network so. Not while training runs."""
        run = self.run
        if run is None or (self.training is not None and not self.training.control.paused):
            return
        if not 1 <= layer < len(run.live.sizes) - 1 or not 0 <= neuron < run.live.sizes[layer]:
            return
        self._set_view(off=self.view.switched(layer, neuron, value).off)

    @Slot()
    def switch_all_on(self) -> None:
        if self.view.off:
            self._set_view(off=())

    def _draw_switched(self) -> None:
        """The inspector's account of the neurons switched off, if it changed."""
        run = self.run
        allowed = self.training is None or self.training.control.paused
        before = run.at(self.view.moment)[1]
        after = self._at()[1] if self.view.off else before
        key = (self.view.off, allowed, before, after)
        drawn = self._drawn.get("switched")
        if drawn is None or drawn[:2] != key[:2] or drawn[2] is not before or drawn[3] is not after:
            self.inspector.show_switched(self.view.off, None if after is None else after.accuracy,
                                         None if before is None else before.accuracy, allowed)
            self._drawn["switched"] = key

    # --- the status bar -----------------------------------------------------------------------

    def _update_status(self) -> None:
        run = self.run
        self._update_title()
        if run is None:
            return
        epoch, done = run.progress
        self.state_label.setText(run.status)
        self.epoch_label.setText(f"epoch {epoch}/{run.config.epochs}")
        self.progress.setValue(int(1000 * min(done, 1.0)))
        b = run.batch
        training = run.worker is not None
        if training and b is not None:
            busy = run.busy_seconds
            self.speed_label.setText(f"{b.samples_per_sec:,.0f} samples/s")
            trained = done - run.start_fraction  # of all the epochs set, by this run
            left = f", {_clock(busy / trained * (1 - done))} left" if trained > 0 and busy > 0 else ""
            self.time_label.setText(f"{_clock(busy)} elapsed{left}")
        elif not training:
            self.speed_label.setText("")
            self.time_label.setText("")
        if self.view.moment is None:
            self.moment_label.setText("live")
            accuracy = run.test_accuracy if run.test_accuracy is not None else (
                run.evaluation.accuracy if run.evaluation is not None else None)
        else:
            m = run.history.moments[self.view.moment]
            self.moment_label.setText(f"showing epoch {_epochs(m.position)} (step {m.step:,})")
            accuracy = run.history.evaluation(self.view.moment).accuracy
        off = len(self.view.off)
        if off:  # the answers of the network with those neurons forced
            accuracy = self._at()[1].accuracy
        self.accuracy_label.setText(("test accuracy –" if accuracy is None else f"test accuracy {accuracy:.4f}")
                                    + (f" ({off} neuron{'s' if off > 1 else ''} off)" if off else ""))
        self.timeline.live_text(f"live · epoch {_epochs(self._live_position())}")

    def _live_position(self) -> float:
        b = self.run.batch
        if b is not None and b.step == self.run.step:
            return b.epoch - 1 + b.batch / b.batches
        return float(self.run.epochs_done)

    def _update_controls(self) -> None:
        """Which commands can be used now (the toolbar's buttons follow their actions)."""
        ready = self.data is not None and self._loading is None  # not while another is read
        running = self.training is not None
        paused = running and self.training.control.paused
        self.train_action.setEnabled(ready and not running)
        self.pause_action.setEnabled(running)
        self.pause_action.setText("&Resume" if paused else "&Pause")
        self.pause_action.setIcon(self.style().standardIcon(
            menus.ICONS["train"] if paused else menus.ICONS["pause"]))
        self.step_action.setEnabled(ready and (not running or paused))
        self.stop_action.setEnabled(running)
        for action in (self.reset_action, self.new_action, self.open_action):
            action.setEnabled(ready)
        for action in (self.save_action, self.save_as_action):
            action.setEnabled(self.run is not None)
        self.compare_menu.setEnabled(ready)
        self.side_by_side_action.setEnabled(ready)
        self.stop_comparing_action.setEnabled(self.comparison is not None)
        self.timelapse_action.setEnabled(self.run is not None and not running)
        self.form.set_training(running)
        self._mark_pending()
        if self.run is not None:
            self._draw_switched()  # switching neurons is for a network at rest

    # --- files --------------------------------------------------------------------------------

    def _chosen(self, path: str) -> str:
        """A path a dialog returned: its folder is where the next dialog opens."""
        if path:
            files.remember_folder(self.settings, path)
        return path

    def open_model_dialog(self) -> None:
        if not self.may_discard("Open"):
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open model", files.last_folder(self.settings),
                                              "Models (*.npz);;All files (*)")
        if self._chosen(path):
            self.open_model(path, asked=True)

    def open_recent(self, path: str) -> bool:
        """File → Open Recent: as Open (a file gone since is also taken off the list)."""
        return self.may_discard("Open") and self.open_model(path, asked=True)

    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", files.last_folder(self.settings),
                                              "Images (*.png *.jpg *.jpeg *.bmp);;All files (*)")
        if self._chosen(path):
            self.open_image(path)

    def open_image(self, path: str) -> bool:
        """Read a photo or picture of a digit (or a number) into the pad, as ``predict`` reads
        it, and show it in the activations panel too; on any fault, one sentence."""
        message = self.pad.open_image(path)
        if message:
            self.show_error(message)
            return False
        self.pad_dock.raise_()  # on a small screen it shares its place with the inspector
        if not self.pad.following:
            self.pad.follow_box.setChecked(True)  # the activations panel shows the picture's digit
        return True

    def open_model(self, path: str, asked: bool = False) -> bool:
        """Load a brain.npz, with its history if it has one, and show it at once (live: its
        final weights); on any fault, one sentence and nothing changes. Unless ``asked``
        already, a network trained and not saved is asked about first."""
        if self._loading is not None:
            self.show_error(f"{DATASETS[self._loading].title} is still being read: open the model once "
                            f"it is here.")
            return False
        if self.data is None or (not asked and not self.may_discard("Open")):
            return False
        try:
            config, trainer, history, accuracy = self._read_model(path)
        except UserError as exc:
            self.show_error(str(exc))
            if isinstance(path, str) and not os.path.lexists(path):
                self.recent.remove(path)
            return False
        except Exception as exc:  # noqa: BLE001 (a bug: a dialog with its traceback, and nothing changes)
            self.show_failure(*describe_failure(f"opening the model '{path}'", exc))
            return False
        # everything is checked and made: from here on the window changes
        self._stop_and_wait()
        self.form.set_config(config)
        self._install_run(config, trainer, history, accuracy)
        self.run.saved(os.path.abspath(path), self.run.step)
        self.recent.add(path)
        self._update_controls()
        self._update_status()
        kept = f", with {len(history)} moments of its training" if history is not None else \
            " (it has no history of its training)"
        self.status.showMessage(f"opened {path}{kept}", 8000)
        return True

    def _checked_model(self, path: str, remedy: bool = True):
        """The model at ``path`` read and checked whole, without changing the window: (network,
        history or None, its settings, epochs, step, test accuracy or None), each setting one the
        form can hold. UserError in one sentence naming the file for anything the window cannot
        take, from a damaged file to metadata of the wrong types (a seed of 3000000000)."""
        net, meta, history = load_run(path)
        check_dataset(meta, self.data, path, self._dataset_remedy(meta) if remedy else "")
        where = f"model '{path}'"
        # load_run checked the metadata by type (core.model_io.checked_meta): config is a dict
        # of settings of their types, epochs and step whole numbers, test_accuracy in [0, 1]
        config = _config_for(net, meta.get("config", {}), self.form, where)
        for name, why in checked_values(config.as_dict())[1].items():  # what the form cannot hold
            raise ModelFileError(f"cannot open {where} in the window: its setting {name} {why}")
        epochs, step = meta.get("epochs", 0), meta.get("step", 0)
        accuracy = meta.get("test_accuracy")
        if accuracy is None:
            accuracy = history.epochs[-1].test_accuracy if history is not None and history.epochs else None
        return net, history, config, epochs, step, accuracy

    def _read_model(self, path: str) -> tuple[TrainConfig, Trainer, History, float | None]:
        """What opening the model at ``path`` makes: its settings, its trainer and history, its
        test accuracy (``_checked_model``; the trainer made by ``_make_run``), nothing shown yet."""
        net, history, config, epochs, step, accuracy = self._checked_model(path)
        trainer, history = self._make_run(config, net, epochs, step, history)
        return config, trainer, history, accuracy

    def compare_with_file(self, path: str) -> bool:
        """A saved run as the second run: shown beside this one, and trained on with it. The
        file is read and checked as File → Open reads it (``_checked_model``): a refusal or an
        unexpected error is a dialog, and nothing changes."""
        if self.data is None:
            return False
        try:
            net, history, config, epochs, _, _ = self._checked_model(path, remedy=False)
            comparison = Comparison.of_file(self.data, config, net, history, epochs,
                                            os.path.basename(path), self.use_process)
        except UserError as exc:
            self.show_error(str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 (a bug: a dialog with its traceback)
            self.show_failure(*describe_failure(f"comparing with '{path}'", exc))
            return False
        self._set_comparison(comparison)
        return True

    def _dataset_remedy(self, meta: dict) -> str:
        """How to open a model of another dataset this program knows: choose it first."""
        name, _ = trained_on(meta)
        if name in DATASETS and name != self.data.name:
            return f"choose File ▸ Dataset ▸ {DATASETS[name].title} first"
        return ""

    @Slot()
    def save(self) -> bool:
        """File → Save: to the network's file, or asked for one if it has none yet."""
        if self.run is not None and self.run.path:
            return self.save_model(self.run.path)
        return self.save_model_dialog()

    def save_model_dialog(self) -> bool:
        name = os.path.basename(self.run.path) if self.run is not None and self.run.path else "brain.npz"
        path, _ = QFileDialog.getSaveFileName(self, "Save model", files.in_last_folder(self.settings, name),
                                              "Models (*.npz)")
        return bool(self._chosen(path)) and self.save_model(path)

    def save_model(self, path: str) -> bool:
        """Save the newest weights with the history so far: one consistent snapshot, even while
        training runs (the history is the window's own, appended on this thread only)."""
        run = self.run
        if run is None:
            return False
        if run.worker is None:
            run.ensure_moment()  # the history ends with the weights saved
        snapshot = run.live
        meta = {"epochs": snapshot.epoch, "test_accuracy": run.test_accuracy,
                "step": snapshot.step, "config": run.config.as_dict(), "dataset": self.data.source,
                **dataset_meta(self.data)}
        try:
            save_model(path, snapshot.network(), meta, history=run.history)
        except UserError as exc:
            self.show_error(str(exc))
            return False
        run.saved(os.path.abspath(path), snapshot.step)
        self.recent.add(path)
        self.status.showMessage(f"saved {path}", 8000)
        self._update_status()
        return True

    def export_png_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export window",
                                              files.in_last_folder(self.settings, "window.png"),
                                              "PNG images (*.png)")
        if self._chosen(path):
            self.export_png(path)

    def export_png(self, path: str) -> bool:
        """A picture of the window, encoded in memory and then written all or nothing
        (``core.npzio.write_atomically``): a full disk keeps the previous file, and a folder, a
        device, a FIFO or a symbolic link as the target is refused in one sentence."""
        try:
            check_output_path(path, "the picture")
            buffer = QBuffer()
            buffer.open(QIODevice.WriteOnly)
            if not self.grab().save(buffer, "PNG"):
                raise UserError(f"cannot save the picture to '{path}': it could not be made into a PNG")
            data = bytes(buffer.data())
            write_atomically(path, lambda f: f.write(data), "the picture")
        except UserError as exc:
            self.show_error(str(exc))
            return False
        self.status.showMessage(f"saved {path}", 8000)
        return True

    def export_timelapse_dialog(self) -> None:
        from app import timelapse  # Pillow, only when asked for
        timelapse.export_dialog(self)

    # --- help ---------------------------------------------------------------------------------

    @Slot()
    def show_maths(self) -> None:
        """Help → The maths: core/MATHS.md, rendered, beside the window."""
        self._show_dialog("maths_dialog", texts.MathsDialog)

    @Slot()
    def show_about(self) -> None:
        self._show_dialog("about_dialog", texts.AboutDialog)

    def _show_dialog(self, name: str, make):
        """The window's one dialog ``name``, made the first time, shown and raised."""
        dialog = getattr(self, name)
        if dialog is None:
            dialog = make(self)
            setattr(self, name, dialog)
        dialog.show()
        dialog.raise_()
        return dialog

    @Slot()
    def show_landscape(self) -> None:
        """View → Loss along the way: the test cost on the line from the initial weights to those
        of the moment shown, on the layer map's 2,000 test digits."""
        run = self.run
        if run is None or not len(run.history):
            return
        if self.landscape_dialog is None:
            self.landscape_dialog = LandscapeDialog(self)
            self.landscape_dialog.recompute.connect(self.show_landscape)
        end, _, _ = run.at(self.view.moment)
        start = run.history.snapshot(0).network()
        sample = projection.sample(self.data.y_test)
        costs = landscape.along(start, end.network(), self.data.x_test[sample],
                                one_hot(self.data.y_test[sample]))
        self.landscape_dialog.show_line(landscape.ALPHAS, costs, end.step)
        self.landscape_dialog.show()
        self.landscape_dialog.raise_()

    def explain_panel(self, name: str) -> None:
        """What panel ``name`` shows and what to notice (its "?" button, or Help)."""
        self.help_buttons[name].explain()

    @Slot()
    def dismiss_hint(self) -> None:
        """The first-run hint has done its work (Train pressed, or closed): not shown again."""
        if self.hint_action.isVisible():
            self.hint_action.setVisible(False)
            self.settings.setValue("hints/first_run_done", True)

    def keyPressEvent(self, event) -> None:
        """The arrow keys move the selected neuron, when no field has taken them: Left and
        Right to the previous and next neuron of its layer, Up and Down to the layer before
        and after (the same place in it, or its last neuron)."""
        moves = {Qt.Key_Left: (0, -1), Qt.Key_Right: (0, 1), Qt.Key_Up: (-1, 0), Qt.Key_Down: (1, 0)}
        if event.key() in moves and event.modifiers() in (Qt.NoModifier, Qt.KeypadModifier) \
                and self.run is not None:
            self.move_selection(*moves[event.key()])
            return
        super().keyPressEvent(event)

    def move_selection(self, layers: int, neurons: int) -> None:
        sizes = self.run.live.sizes
        layer, neuron = self.view.neuron or (1, -neurons if neurons else 0)
        layer = min(max(layer + layers, 1), len(sizes) - 1)
        neuron = min(max(neuron + neurons, 0), sizes[layer] - 1)
        self.select_neuron(layer, neuron)

    def _file_name(self) -> str:
        run = self.run
        return f"'{os.path.basename(run.path)}'" if run is not None and run.path else "(not saved yet)"

    def _update_title(self) -> None:
        """The file's name and [*], which Qt shows as an unsaved mark, and the dataset unless
        it is MNIST."""
        run = self.run
        name = os.path.basename(run.path) if run is not None and run.path else "untitled"
        on = f" ({self.data.title})" if self.data is not None and self.data.name != "mnist" else ""
        title = f"{name}[*]{on} — Watch a network learn"
        if self.windowTitle() != title:
            self.setWindowTitle(title)
        self.setWindowModified(run is not None and run.unsaved)

    def show_error(self, message: str) -> None:
        """One sentence in a dialog that does not block, and in the status bar."""
        message = one_sentence(message)
        self.status.showMessage(message, 15000)
        if self.error_box is None:  # one box, reused: errors do not pile up boxes
            self.error_box = QMessageBox(QMessageBox.Warning, "Problem", "", QMessageBox.Ok, self)
        self.error_box.setDetailedText("")  # (none: a sentence of the user's error is the whole story)
        self.error_box.setText(message)
        self.error_box.open()

    def show_failure(self, message: str, details: str = "") -> None:
        """``show_error``, and the traceback of an unexpected error under "Show Details", so that
        it can be copied into a report (it is also in the file the sentence names)."""
        self.show_error(message)
        box = self.error_box
        if details and box is not None and box.text() == one_sentence(message):
            box.setDetailedText(details)

    def _with_note(self, sentence: str) -> str:
        """``sentence`` after what the settings said at start (ignored values, the settings file
        not used), the first time only."""
        note, self.settings_note = self.settings_note, ""
        return f"{note} {sentence}" if note else sentence

    # --- remembering --------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        """The geometry, the docks and the training settings as they were left, each checked
        (``app.files.read_settings``; every training setting on its own, ``app.controls``):
        whatever is invalid is ignored, and named once in the status bar, with the sentence
        that comes when the data is there."""
        layout.default_layout(self)
        values, ignored = files.read_settings(self.settings)
        geometry = values["geometry"]
        if geometry is not None and not self.restoreGeometry(geometry):
            ignored.append(files.SETTINGS["geometry"][0])
        state = values["state"]  # (a state of another layout version is refused, and that is no fault)
        self._settle_layout = state is None or not self.restoreState(state, layout.LAYOUT_VERSION)
        saved = values["training"]
        if saved is not None:
            config, dropped = config_from(saved, self.form.config())
            ignored.extend(dropped)
            self.form.set_config(config)
        note = files.ignored_sentence(ignored)
        self.settings_note = " ".join(n for n in (self.settings_note, note) if n)

    def _save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState(layout.LAYOUT_VERSION))
        try:
            self.settings.setValue("training", json.dumps(self.form.config().as_dict()))
        except UserError:
            pass  # the form holds something invalid: remember the last valid settings instead
        self.settings.sync()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.trainer_process is not None and not self.trainer_process.alive:
            self.trainer_process.prestart()  # ahead of Train, so the first batch comes at once
        if self._settle_layout:
            self._settle_layout = False
            layout.settle(self)

    def interrupt(self) -> None:
        """Ctrl+C in the terminal that started the window (SIGINT, see ``app.launch``): close now,
        at any moment, without asking. A run going on is stopped (its weights up to the last
        batch are in the window as it closes), a second run too, the training process ends and
        the settings are kept, as Close does; but the network is NOT saved, even if it trained
        since it was last saved: there is no autosave, and nobody is asked (the terminal said
        to stop). The caller then ends the program (exit code 130)."""
        self._interrupted = True
        self.close()

    def closeEvent(self, event) -> None:
        if not self._interrupted and not self.may_discard("Quit"):
            event.ignore()
            return
        self._stop_and_wait()
        self._set_comparison(None)
        if self.trainer_process is not None:
            self.trainer_process.close()  # no child outlives the window
            self.trainer_process = None
        self._save_settings()
        super().closeEvent(event)


def _epochs(position: float) -> str:
    """A point of training in epochs, as people read it: 0, 0.002, 0.27, 3, 3.4."""
    if position == int(position):
        return str(int(position))
    if position < 0.01:
        return f"{position:.3f}"
    return f"{position:.2f}" if position < 1 else f"{position:.1f}"


def _config_for(net, saved: dict, form: SettingsForm, where: str | None = None) -> TrainConfig:
    """The settings to go on training an opened network: its architecture, and the training
    settings it was saved with, each checked against what the form holds (``app.controls.
    checked_values``). One that is not valid (of the wrong type, out of range: a seed of
    3000000000) is the form's (or the default) instead; or, with ``where`` (the model's name
    for a sentence), ModelFileError naming it: the window opens a model only as it was saved."""
    try:
        base = form.config()
    except UserError:
        base = TrainConfig()
    arch = dict(sizes=net.sizes, hidden=net.hidden.name, output=net.output.name, loss=net.loss.name)
    training, dropped = checked_values({k: v for k, v in saved.items() if k not in arch})
    if dropped and where is not None:
        name, why = next(iter(dropped.items()))
        raise ModelFileError(f"cannot open {where} in the window: its setting {name} {why}")
    try:
        return base.replace(**training, **arch)
    except UserError:
        if where is not None:
            raise
        return base.replace(**arch)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else \
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
