"""The training settings as a form: every field of ``core.config.TrainConfig``, a preset picker
that fills them, and the learning rate, which may change while training runs. Every row says
in plain words what it does (its tooltip, from ``app.help.SETTINGS``), and a row whose new value
takes effect only on Train or on Reset is marked so (``mark_pending``).

Settings that come from outside (the window's remembered settings, a model's metadata) go
through ``checked_values`` first: a value of the wrong type or outside what its field can hold
(``LIMITS``, ``CHOICES``) is named and left out, never handed to a field (a spin box given
2**31 raises, one given 1e9 quietly shows its maximum instead)."""
from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QWidget,
)

from app import help as texts
from app import theme
from core.augment import AUGMENTATIONS
from core.config import MAX_EPOCHS, MAX_MIXUP, MAX_SEED, PRESETS, TrainConfig, presets
from core.errors import ConfigError
from core.network import HIDDEN_ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS
from core.optim import OPTIMIZERS
from core.schedule import SCHEDULES

CUSTOM = "custom"
# The form's fields by TrainConfig's names: the attribute of each, and its row's label.
ROWS = {"sizes": ("layers", "Layers"), "lr": ("lr", "Learning rate"), "epochs": ("epochs", "Epochs"),
        "hidden": ("hidden", "Hidden activation"), "output": ("output", "Output"),
        "loss": ("loss", "Loss"), "optimizer": ("optimizer", "Optimizer"),
        "lr_decay": ("lr_decay", "LR decay / epoch"), "momentum": ("momentum", "Momentum"),
        "weight_decay": ("weight_decay", "Weight decay"), "batch_size": ("batch_size", "Batch size"),
        "seed": ("seed", "Seed"), "dropout": ("dropout", "Dropout"), "schedule": ("schedule", "LR schedule"),
        "warmup": ("warmup", "Warm-up epochs"), "augment": ("augment", "Augmentation"),
        "mixup": ("mixup", "Mixup alpha")}
PENDING = "• "  # marks a row whose value is not yet the network's
# What each number field holds, (lowest, highest): whole numbers for the int fields.
LIMITS = {"lr": (1e-6, 100.0), "lr_decay": (0.01, 1.0), "momentum": (0.0, 0.999),
          "weight_decay": (0.0, 1.0), "batch_size": (1, 60000), "epochs": (1, MAX_EPOCHS),
          "seed": (0, MAX_SEED), "dropout": (0.0, 0.95), "warmup": (0.0, 1000.0),
          "mixup": (0.0, MAX_MIXUP)}
WHOLE = ("batch_size", "epochs", "seed")
CHOICES = {"hidden": tuple(HIDDEN_ACTIVATIONS), "output": tuple(OUTPUT_ACTIVATIONS), "loss": tuple(LOSSES),
           "optimizer": tuple(OPTIMIZERS), "schedule": tuple(SCHEDULES), "augment": tuple(AUGMENTATIONS)}
ARCHITECTURE = ("sizes", "hidden", "output", "loss")
MAX_LAYERS = 1001  # entries of sizes, as many as a model file may have (core.model_io.MAX_SIZES)


def checked_values(values: dict) -> tuple[dict, dict]:
    """Those of ``values`` (TrainConfig's field names) that the form can hold, and the others
    with why each is left out: {name: "is 3000000000, not 0 to 2147483647"}. A whole number must
    be an int (not a bool, not 1.5), a number a finite int or float within ``LIMITS``, a choice
    one of ``CHOICES``, sizes a list of 2 to MAX_LAYERS whole numbers (``TrainConfig`` then
    checks the architecture). Names TrainConfig does not have are ignored (a newer version's)."""
    kept, dropped = {}, {}
    for name, value in values.items():
        if name not in ROWS:
            continue
        why = _refusal(name, value)
        if why:
            dropped[name] = why
        else:
            kept[name] = tuple(value) if name == "sizes" else value
    return kept, dropped


def _refusal(name: str, value) -> str:
    """Why the form cannot hold ``value`` as setting ``name``, or ""."""
    shown = _shown(value)
    if name == "sizes":
        if not (isinstance(value, (list, tuple)) and 2 <= len(value) <= MAX_LAYERS
                and all(isinstance(n, int) and not isinstance(n, bool) for n in value)):
            return f"is {shown}, not a list of 2 to {MAX_LAYERS} layer sizes"
        return ""
    if name in CHOICES:
        return "" if isinstance(value, str) and value in CHOICES[name] else \
            f"is {shown}, not one of {', '.join(CHOICES[name])}"
    low, high = LIMITS[name]
    if name in WHOLE:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return "" if ok else f"is {shown}, not a whole number from {low} to {high}"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and _finite(value) \
        and low <= value <= high
    return "" if ok else f"is {shown}, not a number from {low:g} to {high:g}"


def _finite(value) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _shown(value, width: int = 40) -> str:
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else "a huge number"
    return text if len(text) <= width else text[:width - 1] + "…"


def config_from(values: dict, base: TrainConfig) -> tuple[TrainConfig, dict]:
    """``base`` with the settings of ``values`` that the form can hold (``checked_values``), and
    those left out, with why. An architecture that does not make a network (TrainConfig refuses
    it) is left out whole, as the four fields that make it."""
    kept, dropped = checked_values(values)
    try:
        return base.replace(**kept), dropped
    except ConfigError as exc:
        arch = {k: v for k, v in kept.items() if k in ARCHITECTURE}
        rest = {k: v for k, v in kept.items() if k not in ARCHITECTURE}
        for name in arch:
            dropped[name] = f"does not make a network ({exc})"
        try:
            return base.replace(**rest), dropped
        except ConfigError as again:  # not expected: each of the rest was checked alone
            dropped.update({name: str(again) for name in rest})
            return base, dropped


class SettingsForm(QWidget):
    """Edits a TrainConfig. ``config()`` reads it back, checked; ``lr_changed`` fires as the
    learning rate is edited, so a running training can take it at its next batch; ``edited``
    after any change made by the user (a field, or a preset chosen). Space in a number field
    commits what was typed and emits ``space_pressed`` (the window pauses or resumes), where
    the field would otherwise take it."""

    lr_changed = Signal(float)
    edited = Signal()
    space_pressed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.preset = QComboBox()
        self.preset.addItems([*PRESETS, CUSTOM])
        self.layers = QLineEdit()
        self.layers.setToolTip("Layer sizes from input to output, e.g. 784,256,128,10")
        self.hidden = _combo(HIDDEN_ACTIVATIONS)
        self.output = _combo(OUTPUT_ACTIVATIONS)
        self.loss = _combo(LOSSES)
        self.optimizer = _combo(OPTIMIZERS)
        self.lr = _spin(QDoubleSpinBox(), *LIMITS["lr"], decimals=6)
        self.lr.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr_decay = _spin(QDoubleSpinBox(), *LIMITS["lr_decay"], decimals=3, step=0.05)
        self.momentum = _spin(QDoubleSpinBox(), *LIMITS["momentum"], decimals=3, step=0.05)
        self.momentum.setToolTip("mu of the momentum optimiser (the others ignore it)")
        self.weight_decay = _spin(QDoubleSpinBox(), *LIMITS["weight_decay"], decimals=6)
        self.weight_decay.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.weight_decay.setToolTip("lambda of the L2 penalty on the weights")
        self.batch_size = _spin(QSpinBox(), *LIMITS["batch_size"])
        self.epochs = _spin(QSpinBox(), *LIMITS["epochs"])
        self.seed = _spin(QSpinBox(), *LIMITS["seed"])
        self.dropout = _spin(QDoubleSpinBox(), *LIMITS["dropout"], decimals=2, step=0.05)
        self.schedule = _combo(SCHEDULES)
        self.warmup = _spin(QDoubleSpinBox(), *LIMITS["warmup"], decimals=2, step=0.5)
        self.augment = _combo(AUGMENTATIONS)
        self.mixup = _spin(QDoubleSpinBox(), *LIMITS["mixup"], decimals=2, step=0.1)
        self._presets = PRESETS  # those of the dataset's kind: set_digits

        form = QFormLayout(self)
        # Tight rows and no margin of its own (the dock's column has one): its rows must leave
        # room for the cost curve below them on a 720-pixel screen (see app.layout).
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(3)
        self.labels: dict[str, QLabel] = {}  # each row's label, by TrainConfig's field names
        form.addRow(self._label("preset", "Preset"), self.preset)
        for name in ("sizes", "lr", "epochs"):
            form.addRow(self._label(name, ROWS[name][1]), getattr(self, ROWS[name][0]))
        # The rest in rows that a small screen folds away (app.layout decides), so the cost
        # curve below keeps its height; a preset sets them all anyway.
        self.more_button = QToolButton()
        self.more_button.setCheckable(True)
        self.more_button.setAutoRaise(True)
        self.more_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more_button.toggled.connect(self.set_details_visible)
        form.addRow(self.more_button)
        self._details = []
        for name in ("hidden", "output", "loss", "optimizer", "schedule", "lr_decay", "warmup", "momentum",
                     "weight_decay", "dropout", "augment", "mixup", "batch_size", "seed"):
            widget = getattr(self, ROWS[name][0])
            form.addRow(self._label(name, ROWS[name][1]), widget)
            self._details.append(widget)
        self.pending_note = QLabel()
        self.pending_note.setWordWrap(True)
        self.pending_note.setStyleSheet(f"color: {theme.ACCENT};")
        self.pending_note.hide()
        form.addRow(self.pending_note)
        self._form = form
        self.set_details_visible(True)
        self._describe_presets()

        self.set_config(PRESETS["watch"])
        self.preset.currentTextChanged.connect(self._apply_preset)
        self.lr.valueChanged.connect(self.lr_changed)
        space = _SpaceCommits(self)
        for widget in self._fields():
            signal = widget.textEdited if isinstance(widget, QLineEdit) else (
                widget.currentTextChanged if isinstance(widget, QComboBox) else widget.valueChanged)
            signal.connect(self._mark_custom)
            if isinstance(widget, QAbstractSpinBox):
                widget.installEventFilter(space)

    def set_digits(self, digits: bool) -> None:
        """Offer the presets of a dataset of digits or not (``core.config.presets``: 'best'
        differs for clothes). A preset shown becomes that dataset's own, the seed kept; settings
        of no preset stay as they are."""
        old, self._presets = self._presets, presets(digits)
        self._describe_presets()
        name = self.preset.currentText()
        if name in old and old[name] != self._presets[name]:
            self.set_config(self._presets[name].replace(seed=self.seed.value()), name)
        else:  # settings remembered from a run on clothes are their 'best' once clothes are here
            self._name_preset()

    def _describe_presets(self) -> None:
        for i, (name, config) in enumerate(self._presets.items()):
            self.preset.setItemData(i, texts.preset_help(name, config), Qt.ToolTipRole)

    def _label(self, name: str, text: str) -> QLabel:
        """A row's label, with the plain-words explanation of the setting on it and its field."""
        label = QLabel(text)
        tip = texts.SETTINGS[name]
        label.setToolTip(tip)
        (self.preset if name == "preset" else getattr(self, ROWS[name][0])).setToolTip(tip)
        self.labels[name] = label
        return label

    def mark_pending(self, on_reset: set[str], on_train: set[str]) -> None:
        """Mark the rows (by TrainConfig's names) whose values differ from the network's and
        take effect only on Reset (a new network) or on Train; unmark the others."""
        for name, label in self.labels.items():
            if name == "preset":
                continue
            text = ROWS[name][1]
            if name in on_reset or name in on_train:
                label.setText(PENDING + text)
                label.setStyleSheet(f"color: {theme.ACCENT};")
            else:
                label.setText(text)
                label.setStyleSheet("")
        parts = []
        if on_reset:
            parts.append("apply on Reset, which makes a new network (Ctrl+R)")
        if on_train:
            parts.append("apply when you press Train (Ctrl+T)")
        self.pending_note.setText(f"{PENDING}Marked settings " + "; others ".join(parts) + "."
                                  if parts else "")
        self.pending_note.setVisible(bool(parts))

    def set_details_visible(self, visible: bool) -> None:
        """Show or fold away the rows after Epochs (activations, loss, optimiser, schedule,
        their constants, dropout, augmentation, mixup, batch size, seed)."""
        for widget in self._details:
            self._form.setRowVisible(widget, visible)
        self._form.activate()  # the form's size at once, so a window sized next can be smaller
        self.more_button.blockSignals(True)
        self.more_button.setChecked(visible)
        self.more_button.blockSignals(False)
        self.more_button.setArrowType(Qt.ArrowType.DownArrow if visible else Qt.ArrowType.RightArrow)
        self.more_button.setText("Fewer settings" if visible else
                                 f"More settings ({self._summary()})")

    @property
    def details_visible(self) -> bool:
        return self.more_button.isChecked()

    def _summary(self) -> str:
        """The folded rows in a few words, e.g. 'relu, softmax, ce, adam, batch 128'."""
        return (f"{self.hidden.currentText()}, {self.output.currentText()}, "
                f"{self.loss.currentText()}, {self.optimizer.currentText()}, "
                f"batch {self.batch_size.value()}")

    def _fields(self):
        return (self.layers, self.hidden, self.output, self.loss, self.optimizer, self.lr,
                self.lr_decay, self.momentum, self.weight_decay, self.batch_size, self.epochs,
                self.seed, self.dropout, self.schedule, self.warmup, self.augment, self.mixup)

    def config(self) -> TrainConfig:
        """The settings as a checked TrainConfig; ConfigError with one sentence if they are not."""
        try:
            sizes = tuple(int(part) for part in self.layers.text().split(","))
        except ValueError:
            raise ConfigError(f"layers must be sizes separated by commas, like 784,256,128,10, "
                              f"got {self.layers.text()!r}") from None
        return TrainConfig(sizes=sizes, hidden=self.hidden.currentText(),
                           output=self.output.currentText(), loss=self.loss.currentText(),
                           optimizer=self.optimizer.currentText(), lr=self.lr.value(),
                           lr_decay=self.lr_decay.value(), momentum=self.momentum.value(),
                           weight_decay=self.weight_decay.value(), batch_size=self.batch_size.value(),
                           epochs=self.epochs.value(), seed=self.seed.value(),
                           dropout=self.dropout.value(), schedule=self.schedule.currentText(),
                           warmup=self.warmup.value(), augment=self.augment.currentText(),
                           mixup=self.mixup.value())

    def set_config(self, config: TrainConfig, preset: str | None = None) -> None:
        """Show ``config``; the preset picker shows the preset it is (epochs and seed aside), else "custom".
        ConfigError, and the form unchanged, if a field cannot hold its value (``checked_values``:
        a config from outside the form is checked before it gets here)."""
        dropped = checked_values(config.as_dict())[1]
        if dropped:
            name, why = next(iter(dropped.items()))
            raise ConfigError(f"the setting {name} {why}")
        widgets = self._fields()
        for widget in (*widgets, self.preset):
            widget.blockSignals(True)
        try:
            self.layers.setText(",".join(map(str, config.sizes)))
            self.hidden.setCurrentText(config.hidden)
            self.output.setCurrentText(config.output)
            self.loss.setCurrentText(config.loss)
            self.optimizer.setCurrentText(config.optimizer)
            self.lr.setValue(config.lr)
            self.lr_decay.setValue(config.lr_decay)
            self.momentum.setValue(config.momentum)
            self.weight_decay.setValue(config.weight_decay)
            self.batch_size.setValue(config.batch_size)
            self.epochs.setValue(config.epochs)
            self.seed.setValue(config.seed)
            self.dropout.setValue(config.dropout)
            self.schedule.setCurrentText(config.schedule)
            self.warmup.setValue(config.warmup)
            self.augment.setCurrentText(config.augment)
            self.mixup.setValue(config.mixup)
            self.preset.setCurrentText(preset or _preset_of(config, self._presets))
        finally:
            for widget in (*widgets, self.preset):
                widget.blockSignals(False)
        self.set_details_visible(self.details_visible)  # the folded rows' summary

    def set_training(self, training: bool) -> None:
        """While training runs only the learning rate may change."""
        for widget in (self.preset, *self._fields()):
            widget.setEnabled(not training or widget is self.lr)

    def _apply_preset(self, name: str) -> None:
        """The preset chosen, from the seed the form has (the same start, another recipe)."""
        if name in self._presets:
            self.set_config(self._presets[name].replace(seed=self.seed.value()), name)
            self.edited.emit()

    def _mark_custom(self, *_):
        if not self.details_visible:
            self.more_button.setText(f"More settings ({self._summary()})")
        self._name_preset()
        self.edited.emit()

    def _name_preset(self) -> None:
        """The picker shows the preset the fields are, else "custom"."""
        try:
            name = _preset_of(self.config(), self._presets)
        except ConfigError:
            name = CUSTOM
        self.preset.blockSignals(True)
        self.preset.setCurrentText(name)
        self.preset.blockSignals(False)


class _SpaceCommits(QObject):
    """Space in a number field: the text typed is taken as the value, and the form says Space
    was pressed (a number field would otherwise refuse the space, or clear itself)."""

    def __init__(self, form: SettingsForm):
        super().__init__(form)
        self.form = form

    def eventFilter(self, obj, event) -> bool:
        if (event.type() == QEvent.KeyPress and event.key() == Qt.Key_Space
                and event.modifiers() == Qt.NoModifier and isinstance(obj, QAbstractSpinBox)):
            obj.interpretText()
            self.form.space_pressed.emit()
            return True
        return False


def _preset_of(config: TrainConfig, presets: dict[str, TrainConfig]) -> str:
    """The preset of ``presets`` whose network and training ``config`` is, however many epochs it
    asks for and from whichever seed (how long to train and from which random start are not what
    makes a preset: 'classic' for 5 epochs from seed 3 is still 'classic')."""
    return next((name for name, p in presets.items()
                 if p.replace(epochs=config.epochs, seed=config.seed) == config), CUSTOM)


def _combo(names) -> QComboBox:
    box = QComboBox()
    box.addItems(list(names))
    return box


def _spin(box, low, high, decimals=None, step=None):
    if decimals is not None:
        box.setDecimals(decimals)
    box.setRange(low, high)
    if step is not None:
        box.setSingleStep(step)
    return box
