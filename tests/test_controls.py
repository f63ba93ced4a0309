"""The settings form (app.controls.SettingsForm) holds dropout, the learning-rate schedule, its
warm-up and the augmentation like every other setting: shown, read back, explained."""
from app import help as texts
from app.controls import SettingsForm
from core.config import PRESETS, preset


def test_the_new_settings_round_trip_through_the_form(qtbot):
    form = SettingsForm()
    qtbot.addWidget(form)
    config = preset("fast").replace(dropout=0.35, schedule="onecycle", warmup=1.5, augment="elastic")
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
    for name in ("dropout", "schedule", "warmup", "augment"):
        assert form.labels[name].toolTip() == texts.SETTINGS[name]
        assert getattr(form, name).toolTip() == texts.SETTINGS[name]
