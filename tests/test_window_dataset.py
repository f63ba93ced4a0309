"""The window on a dataset other than MNIST: File ▸ Dataset reads another and makes a new run on
it, the panels name its classes, a model remembers its dataset and is refused on another.

Each test states its contract in its docstring. Windows are given synthetic data (random images
of ten classes, named as MNIST's or Fashion-MNIST's) and a switch of dataset reads it through a
stand-in for ``core.data.load_dataset``: no test here needs a file of images, but the last,
which opens the real Fashion-MNIST if Debian's package has installed it."""
import numpy as np
import pytest
from PySide6.QtCore import QSettings

import core.data
from core.data import DATASETS, Dataset, SYSTEM_DATASETS, normalize
from core.errors import DataError
from core.model_io import load_model
from tests.test_window import themed  # noqa: F401 (the session's theme)

WAIT_MS = 60_000
FASHION = DATASETS["fashion"].class_names


def synthetic(name: str, n_train: int = 600, n_test: int = 300, seed: int = 0) -> Dataset:
    """Random images, labels 0-9 in turn, with the classes of the known dataset ``name``."""
    rng = np.random.default_rng(seed)
    labels = [(np.arange(n) % 10).astype(np.uint8) for n in (n_train, n_test)]
    for y in labels:
        y.flags.writeable = False
    images = [normalize(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)) for n in (n_train, n_test)]
    return Dataset(images[0], labels[0], images[1], labels[1], f"synthetic {name}", name,
                   DATASETS[name].class_names)


def make(qtbot, tmp_path, data: Dataset | None = None, process: bool = False, **kwargs):
    """A window on ``data`` (or, without, on what its loader reads), with its own settings."""
    from app.window import MainWindow
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(settings, data=data, process=process, **kwargs)
    qtbot.addWidget(window)
    window.errors = []
    window.show_error = window.errors.append
    return window


@pytest.fixture
def fashion_window(qtbot, tmp_path):
    window = make(qtbot, tmp_path, synthetic("fashion"))
    yield window
    window.close()


@pytest.fixture
def mnist_window(qtbot, tmp_path):
    window = make(qtbot, tmp_path, synthetic("mnist", seed=1))
    yield window
    window.close()


def ticks(axis) -> list[str]:
    return [text for _, text in axis._tickLevels[0]]


def test_a_fashion_window_names_its_classes_and_its_pad_reads_digits_only(fashion_window):
    """Given Fashion-MNIST, the window says so (title, status, File ▸ Dataset), the confusion
    matrix's true classes and the probes say its class names, and the pad says it reads digits
    instead of reading a drawing as clothes."""
    w = fashion_window
    assert "(Fashion-MNIST)" in w.windowTitle()
    assert "of Fashion-MNIST from synthetic fashion" in w.status.currentMessage()
    assert w.dataset_actions["fashion"].isChecked() and not w.dataset_actions["mnist"].isChecked()
    assert ticks(w.evaluation.matrix_plot.getAxis("left"))[:10] == list(FASHION)
    assert ticks(w.evaluation.matrix_plot.getAxis("bottom")) == [str(k) for k in range(10)]
    assert w.pad.not_digits == "The pad reads digits; this network was trained on Fashion-MNIST."
    assert w.probes.cells.class_names == FASHION and "9 Ankle boot" in w.probes.label_box.toolTip()


def test_an_mnist_window_keeps_its_digits_and_its_title(mnist_window):
    """Given MNIST, nothing changes: digits everywhere, the pad reads, no dataset in the title."""
    w = mnist_window
    assert w.windowTitle() == "untitled[*] — Watch a network learn"
    assert w.dataset_actions["mnist"].isChecked()
    assert w.pad.not_digits is None
    assert ticks(w.evaluation.matrix_plot.getAxis("left"))[:10] == list("0123456789")


def test_saving_then_opening_keeps_the_dataset(fashion_window, tmp_path):
    """A saved model says its dataset and class names, and opens again in a window of it."""
    w = fashion_window
    path = tmp_path / "fashion.npz"
    assert w.save_model(str(path))
    net, meta = load_model(path)
    assert meta["dataset_name"] == "fashion" and meta["class_names"] == list(FASHION)
    w.reset()
    assert w.open_model(str(path)) and not w.errors
    np.testing.assert_array_equal(w.snapshot.W[0], net.W[0])


def test_a_fashion_model_is_refused_in_an_mnist_window_in_one_sentence(fashion_window, mnist_window,
                                                                       tmp_path):
    """Opened, or chosen as a run to compare with, a model of Fashion-MNIST in an MNIST window
    is one sentence in the error dialog that names both datasets and what to do; the window
    keeps its network and opens nothing."""
    path = tmp_path / "fashion.npz"
    assert fashion_window.save_model(str(path))
    w = mnist_window
    kept = w.snapshot
    assert not w.open_model(str(path))
    assert w.errors == [f"model '{path}' was trained on Fashion-MNIST, so it cannot be used on MNIST; "
                        f"choose File ▸ Dataset ▸ Fashion-MNIST first"]
    assert w.snapshot is kept and w.data.name == "mnist"
    assert not w.compare_with_file(str(path))
    assert len(w.errors) == 2 and "trained on Fashion-MNIST" in w.errors[1] and w.comparison is None


def test_the_second_run_reads_the_input_as_a_class_name(fashion_window):
    """Compared with another preset, the second run's dock says what it reads the test image
    shown as by the class's name, not its number."""
    w = fashion_window
    w.compare_with("fast")
    reading = w._reading(w.comparison)
    assert reading.startswith("reads test image 0 as ")
    assert reading.split(" as ")[1].rsplit(" (", 1)[0] in FASHION


def test_the_window_reads_the_dataset_it_is_told_on_its_thread(qtbot, tmp_path, monkeypatch):
    """Without data given, the window says it is reading the dataset named, by its title, and
    reads it by name (with the path given, for that dataset) through core.data.load_dataset."""
    asked = []

    def load(name, path=None, limit=None):
        asked.append((name, path, limit))
        return synthetic(name).limit(limit, limit)
    monkeypatch.setattr(core.data, "load_dataset", load)
    w = make(qtbot, tmp_path, dataset="fashion", data_path="/somewhere/fashion", limit=200)
    assert w.status.currentMessage() == "Loading Fashion-MNIST…" and w.data is None
    assert not w.train_action.isEnabled() and w.dataset_actions["fashion"].isChecked()
    with qtbot.waitSignal(w.data_ready, timeout=WAIT_MS):
        pass
    assert asked == [("fashion", "/somewhere/fashion", 200)]  # the reader reads no more than that
    assert w.data.name == "fashion" and len(w.data.x_train) == len(w.data.x_test) == 200
    assert w.run is not None and w.train_action.isEnabled()
    w.close()


def test_choosing_a_dataset_in_the_menu_makes_a_new_run_on_it(qtbot, tmp_path, monkeypatch):
    """File ▸ Dataset ▸ Fashion-MNIST: training stops, a comparison ends, the dataset is read
    (from its usual places: the command line's path was MNIST's), and a new run on it follows,
    with its default probes, in a new training process that holds the new images; one epoch
    trains on them. The choice is remembered for the next start."""
    from app.window import remembered_dataset
    asked = []

    def load(name, path=None, limit=None):
        asked.append((name, path))
        return synthetic(name, n_train=500, n_test=200, seed=2)
    monkeypatch.setattr(core.data, "load_dataset", load)
    w = make(qtbot, tmp_path, synthetic("mnist", seed=1), process=True, data_path="/mine/mnist.npz")
    w.form.preset.setCurrentText("fast")
    w.compare_with("classic")
    old_run, old_process = w.run, w.trainer_process
    with qtbot.waitSignal(w.data_ready, timeout=WAIT_MS):
        w.dataset_actions["fashion"].trigger()
        assert w.status.currentMessage() == "Loading Fashion-MNIST…" and not w.train_action.isEnabled()
    assert asked == [("fashion", None)]
    assert w.data.name == "fashion" and w.comparison is None and not w.errors
    assert w.run is not old_run and w.run.trainer.data is w.data
    probes = w.run.history.probes
    assert probes and all(np.array_equal(p.image, w.data.x_test[p.index]) for p in probes)
    assert w.trainer_process is not old_process and not old_process.alive
    assert w.dataset_actions["fashion"].isChecked() and "(Fashion-MNIST)" in w.windowTitle()
    assert remembered_dataset(w.settings) == "fashion"
    w.form.epochs.setValue(1)
    with qtbot.waitSignal(w.run_ended, timeout=WAIT_MS) as ended:
        w.train()
    assert ended.args == [""] and len(w.run.history.epochs) == 1
    assert w.run.evaluation.labels.shape == (200,)
    w.close()


def test_best_becomes_the_recipe_for_clothes_when_fashion_is_chosen(qtbot, tmp_path, monkeypatch):
    """'best' in the picker, then File ▸ Dataset ▸ Fashion-MNIST: the form and the new run are
    'best' for clothes (mixup, the seed kept), and the strip shows the blends; back on MNIST,
    the digits' own 'best'."""
    from core.config import preset
    monkeypatch.setattr(core.data, "load_dataset", lambda name, path=None, limit=None: synthetic(name))
    w = make(qtbot, tmp_path, synthetic("mnist", seed=1))
    w.form.preset.setCurrentText("best")
    w.form.seed.setValue(4)
    with qtbot.waitSignal(w.data_ready, timeout=WAIT_MS):
        w.choose_dataset("fashion")
    assert w.form.config() == preset("best", digits=False).replace(seed=4) == w.run.trainer.config
    assert w.form.preset.currentText() == "best" and "mixup (α 0.4" in w.augmented.caption.text()
    with qtbot.waitSignal(w.data_ready, timeout=WAIT_MS):
        w.choose_dataset("mnist")
    assert w.form.config() == preset("best").replace(seed=4) == w.run.trainer.config
    assert "mixup" not in w.augmented.caption.text() and not w.errors
    w.close()


def test_a_dataset_that_cannot_be_read_leaves_the_window_as_it_was(qtbot, mnist_window, monkeypatch):
    """A dataset chosen that is not there: one sentence (why, and that the window goes on with
    the one it has), the same run, MNIST still checked and not remembered."""
    from app.window import remembered_dataset

    def load(name, path=None, limit=None):
        raise DataError("no Fashion-MNIST found: tried /usr/share/datasets/fashion-mnist (missing)")
    monkeypatch.setattr(core.data, "load_dataset", load)
    w = mnist_window
    kept = w.run
    with qtbot.waitSignal(w.loader.failed, timeout=WAIT_MS):
        w.dataset_actions["fashion"].trigger()
    assert w.errors == ["no Fashion-MNIST found: tried /usr/share/datasets/fashion-mnist (missing); "
                        "the window goes on with MNIST."]
    assert w.run is kept and w.data.name == "mnist" and w.train_action.isEnabled()
    assert w.dataset_actions["mnist"].isChecked() and not w.dataset_actions["fashion"].isChecked()
    assert remembered_dataset(w.settings) == "mnist"


def test_choosing_the_dataset_already_there_changes_nothing(mnist_window):
    """File ▸ Dataset ▸ MNIST in an MNIST window: the same run, nothing read."""
    w = mnist_window
    kept = w.run
    w.dataset_actions["mnist"].trigger()
    assert w.run is kept and w._loading is None and w.dataset_actions["mnist"].isChecked()


@pytest.mark.skipif(not (SYSTEM_DATASETS / "fashion-mnist").exists(),
                    reason="Fashion-MNIST is not installed (sudo apt-get install dataset-fashion-mnist)")
def test_the_real_fashion_mnist_shows_its_classes(qtbot, tmp_path):
    """Debian's Fashion-MNIST, as the command line's --dataset fashion reads it: its classes in
    the confusion matrix, the pad not reading."""
    data = core.data.load_dataset("fashion", download=False).limit(1000, 500)
    w = make(qtbot, tmp_path, data)
    assert w.data.title == "Fashion-MNIST"
    assert ticks(w.evaluation.matrix_plot.getAxis("left"))[:10] == list(FASHION)
    assert w.pad.not_digits is not None
    w.close()
