"""The settings form (app.controls.SettingsForm) holds dropout, the learning-rate schedule, its
warm-up, the augmentation and mixup like every other setting: shown, read back, explained; its
presets are those of the dataset's kind."""
from PySide6.QtCore import Qt

from app import help as texts
from app.controls import SettingsForm
from core.config import PRESETS, preset


def test_the_new_settings_round_trip_through_the_form(qtbot):
    form = SettingsForm()
    qtbot.addWidget(form)
    config = preset("fast").replace(dropout=0.35, schedule="onecycle", warmup=1.5, augment="elastic",
                                    mixup=0.3)
    form.set_config(config)
    assert form.config() == config and form.preset.currentText() == "custom"
    for name in PRESETS:
        form.set_config(preset(name))
        assert form.config() == preset(name) and form.preset.currentText() == name


def test_editing_a_new_setting_makes_the_preset_custom(qtbot):
    form = SettingsForm()
    qtbot.addWidget(form)
    form.set_config(preset("fast"))
    with qtbot.waitSignal(form.edited, timeout=1000):
        form.schedule.setCurrentText("cosine")
    assert form.config().schedule == "cosine" and form.preset.currentText() == "custom"


def test_every_new_row_says_what_it_does(qtbot):
    form = SettingsForm()
    qtbot.addWidget(form)
    for name in ("dropout", "schedule", "warmup", "augment", "mixup"):
        assert form.labels[name].toolTip() == texts.SETTINGS[name]
        assert getattr(form, name).toolTip() == texts.SETTINGS[name]


def test_the_presets_follow_the_dataset_and_a_preset_shown_becomes_its_own(qtbot):
    """Clothes: 'best' is mixup's recipe, the seed typed is kept, the picker and its tooltip
    say so; back on digits it is the digits' 'best' again. Settings of no preset stay."""
    form = SettingsForm()
    qtbot.addWidget(form)
    form.preset.setCurrentText("best")
    form.seed.setValue(7)  # another start of the same preset
    assert form.preset.currentText() == "best"
    form.set_digits(False)
    assert form.config() == preset("best", digits=False).replace(seed=7)
    assert form.preset.currentText() == "best"
    best = list(PRESETS).index("best")
    assert "mixup 0.4" in form.preset.itemData(best, Qt.ToolTipRole)
    form.preset.setCurrentText("fast")
    form.preset.setCurrentText("best")  # chosen on clothes: clothes' own
    assert form.config() == preset("best", digits=False).replace(seed=7)
    form.set_digits(True)
    assert form.config() == preset("best").replace(seed=7) and "mixup" not in form.preset.itemData(best, Qt.ToolTipRole)
    custom = preset("fast").replace(mixup=0.2)
    form.set_config(custom)
    form.set_digits(False)
    assert form.config() == custom and form.preset.currentText() == "custom"
    form.set_config(preset("best", digits=False))  # a clothes model opened: its preset is named
    assert form.preset.currentText() == "best"
    form.set_digits(True)  # what clothes' best was is no preset of digits
    form.set_config(preset("best", digits=False))  # remembered from a run on clothes, before they load
    assert form.preset.currentText() == "custom"
    form.set_digits(False)
    assert form.preset.currentText() == "best" and form.config() == preset("best", digits=False)
