"""The training settings as a form: every field of ``core.config.TrainConfig``, a preset picker
that fills them, and the learning rate, which may change while training runs."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QWidget,
)

from core.config import PRESETS, TrainConfig
from core.errors import ConfigError
from core.network import HIDDEN_ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS
from core.optim import OPTIMIZERS

CUSTOM = "custom"
ARCHITECTURE_FIELDS = ("layers", "hidden", "output", "loss")


class SettingsForm(QWidget):
    """Edits a TrainConfig. ``config()`` reads it back, checked; ``lr_changed`` fires as the
    learning rate is edited, so a running training can take it at its next batch."""

    lr_changed = Signal(float)

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
        self.lr = _spin(QDoubleSpinBox(), 1e-6, 100.0, decimals=6)
        self.lr.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr_decay = _spin(QDoubleSpinBox(), 0.01, 1.0, decimals=3, step=0.05)
        self.momentum = _spin(QDoubleSpinBox(), 0.0, 0.999, decimals=3, step=0.05)
        self.momentum.setToolTip("mu of the momentum optimiser (the others ignore it)")
        self.weight_decay = _spin(QDoubleSpinBox(), 0.0, 1.0, decimals=6)
        self.weight_decay.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.weight_decay.setToolTip("lambda of the L2 penalty on the weights")
        self.batch_size = _spin(QSpinBox(), 1, 60000)
        self.epochs = _spin(QSpinBox(), 1, 10000)
        self.seed = _spin(QSpinBox(), 0, 2**31 - 1)

        form = QFormLayout(self)
        # Tight rows and no margin of its own (the dock's column has one): its rows must leave
        # room for the cost curve below them on a 720-pixel screen (see app.layout).
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(3)
        for label, widget in (("Preset", self.preset), ("Layers", self.layers),
                              ("Learning rate", self.lr), ("Epochs", self.epochs)):
            form.addRow(label, widget)
        # The rest in rows that a small screen folds away (app.layout decides), so the cost
        # curve below keeps its height; a preset sets them all anyway.
        self.more_button = QToolButton()
        self.more_button.setCheckable(True)
        self.more_button.setAutoRaise(True)
        self.more_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more_button.toggled.connect(self.set_details_visible)
        form.addRow(self.more_button)
        self._details = []
        for label, widget in (("Hidden activation", self.hidden), ("Output", self.output),
                              ("Loss", self.loss), ("Optimizer", self.optimizer),
                              ("LR decay / epoch", self.lr_decay), ("Momentum", self.momentum),
                              ("Weight decay", self.weight_decay),
                              ("Batch size", self.batch_size), ("Seed", self.seed)):
            form.addRow(label, widget)
            self._details.append(widget)
        self._form = form
        self.set_details_visible(True)

        self.set_config(PRESETS["fast"])
        self.preset.currentTextChanged.connect(self._apply_preset)
        self.lr.valueChanged.connect(self.lr_changed)
        for widget in self._fields():
            signal = widget.textEdited if isinstance(widget, QLineEdit) else (
                widget.currentTextChanged if isinstance(widget, QComboBox) else widget.valueChanged)
            signal.connect(self._mark_custom)

    def set_details_visible(self, visible: bool) -> None:
        """Show or fold away the rows after Epochs (activations, loss, optimiser, its
        constants, batch size, seed)."""
        for widget in self._details:
            self._form.setRowVisible(widget, visible)
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
                self.seed)

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
                           epochs=self.epochs.value(), seed=self.seed.value())

    def set_config(self, config: TrainConfig, preset: str | None = None) -> None:
        """Show ``config``; the preset picker shows the preset it equals, else "custom"."""
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
            self.preset.setCurrentText(preset or _preset_of(config))
        finally:
            for widget in (*widgets, self.preset):
                widget.blockSignals(False)
        self.set_details_visible(self.details_visible)  # the folded rows' summary

    def set_training(self, training: bool) -> None:
        """While training runs only the learning rate may change."""
        for widget in (self.preset, *self._fields()):
            widget.setEnabled(not training or widget is self.lr)

    def _apply_preset(self, name: str) -> None:
        if name in PRESETS:
            self.set_config(PRESETS[name], name)

    def _mark_custom(self, *_):
        if not self.details_visible:
            self.more_button.setText(f"More settings ({self._summary()})")
        try:
            name = _preset_of(self.config())
        except ConfigError:
            name = CUSTOM
        self.preset.blockSignals(True)
        self.preset.setCurrentText(name)
        self.preset.blockSignals(False)


def _preset_of(config: TrainConfig) -> str:
    return next((name for name, p in PRESETS.items() if p == config), CUSTOM)


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
