"""Fashion-MNIST and datasets of MNIST's format (issue 15, part 5): where ``fashion`` is looked for
and the sentence when it is nowhere, class names carried by the dataset and recorded in the model
file, a model refused on the wrong dataset, ``evaluate`` and ``predict`` speaking in class names,
and one real training on Debian's package. TensorFlow is never imported for real: the download is
a fake installed in ``sys.modules``."""
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from app.cli import main as cli
from core.config import preset
from core.data import DATASETS, DIGITS, SYSTEM_DATASETS, Dataset, load_dataset, load_mnist, reads_digits
from core.errors import DataError, ModelFileError, WrongDataset
from core.model_io import check_dataset, dataset_meta, load_model, save_model, trained_on
from core.network import Network
from core.preprocess import prepare_picture
from core.train import Trainer
from tests.test_data import mnist_arrays, write_idx_folder, write_npz

FASHION = DATASETS["fashion"].class_names


@pytest.fixture(autouse=True)
def no_real_tensorflow(monkeypatch):
    """``import tensorflow`` fails unless a test installs a fake: nothing here may download."""
    monkeypatch.setitem(sys.modules, "tensorflow", None)


@pytest.fixture
def places(tmp_path):
    """Empty stand-ins for assets/, ~/.keras/datasets/ and /usr/share/datasets/."""
    found = types.SimpleNamespace(assets=tmp_path / "assets", keras=tmp_path / "keras",
                                  system=tmp_path / "system")
    for folder in vars(found).values():
        folder.mkdir()
    return found


def search(places, name="fashion", download=False) -> Dataset:
    return load_dataset(name, assets=places.assets, keras_cache=places.keras, system=places.system,
                        download=download)


def fashion_model(tmp_path, name="fashion.npz", data: Dataset | None = None) -> Path:
    net = Network.initialised((784, 8, 10), "relu", "softmax", "ce", seed=0)
    meta = dataset_meta(data) if data is not None else {"dataset_name": "fashion",
                                                        "class_names": list(FASHION)}
    save_model(tmp_path / name, net, {"epochs": 1, **meta})
    return tmp_path / name


# --- the registry and Dataset ------------------------------------------------------------------


def test_fashion_has_its_ten_class_names_and_mnist_its_digits():
    assert FASHION == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                       "Sneaker", "Bag", "Ankle boot")
    assert DATASETS["mnist"].class_names == DIGITS == tuple("0123456789")
    assert DATASETS["mnist"].digits and not DATASETS["fashion"].digits
    assert reads_digits(DIGITS) and not reads_digits(FASHION)


def test_a_dataset_made_as_before_is_mnist_and_limit_keeps_its_names():
    x, y = np.zeros((4, 784), np.float32), np.arange(4, dtype=np.uint8)
    plain = Dataset(x, y, x, y, "here")
    assert (plain.name, plain.class_names, plain.digits, plain.title) == ("mnist", DIGITS, True, "MNIST")
    cut = Dataset(x, y, x, y, "here", "fashion", FASHION).limit(2, 3)
    assert (cut.name, cut.class_names, len(cut.x_train), len(cut.x_test)) == ("fashion", FASHION, 2, 3)
    assert cut.title == "Fashion-MNIST" and not cut.digits


# --- where fashion is looked for ------------------------------------------------------------------


def test_fashion_is_read_where_debian_installs_it(places):
    write_idx_folder(places.system / "fashion-mnist", mnist_arrays(), gz=True)
    write_idx_folder(places.keras / "fashion-mnist", mnist_arrays(seed=1), gz=True)  # not reached
    data = search(places)
    assert data.source == str(places.system / "fashion-mnist")
    assert (data.name, data.class_names) == ("fashion", FASHION)
    np.testing.assert_allclose(data.x_test[0], mnist_arrays()["x_test"][0].reshape(-1) / 255, rtol=1e-6)


def test_fashion_is_read_from_keras_cache_without_the_package(places):
    write_idx_folder(places.keras / "fashion-mnist", mnist_arrays(), gz=True)
    data = search(places)
    assert data.source == str(places.keras / "fashion-mnist") and data.class_names == FASHION


def test_data_path_comes_first_and_takes_the_named_datasets_classes(places, tmp_path):
    write_idx_folder(places.system / "fashion-mnist", mnist_arrays(seed=1), gz=True)
    path = write_npz(tmp_path / "mine.npz", mnist_arrays())
    data = load_dataset("fashion", path, system=places.system)
    assert data.source == str(path) and data.class_names == FASHION
    assert load_mnist(path).class_names == DIGITS


def test_absent_fashion_is_one_sentence_naming_every_place_and_the_apt_command(places):
    with pytest.raises(DataError) as caught:
        search(places, download=True)
    message = str(caught.value)
    assert message.startswith("no Fashion-MNIST found: tried --data (not given), ")
    for phrase in (str(places.system / "fashion-mnist"), "sudo apt-get install dataset-fashion-mnist",
                   str(places.keras / "fashion-mnist"),
                   "TensorFlow's download (TensorFlow is not installed)"):
        assert phrase in message
    assert "\n" not in message
    assert SYSTEM_DATASETS == Path("/usr/share/datasets")  # where the package puts it


def test_tensorflow_downloads_fashion_as_the_last_resort(places, monkeypatch):
    raw = mnist_arrays()
    calls = []

    def load_data():
        calls.append(1)
        return (raw["x_train"], raw["y_train"]), (raw["x_test"], raw["y_test"])

    datasets = types.SimpleNamespace(fashion_mnist=types.SimpleNamespace(load_data=load_data))
    monkeypatch.setitem(sys.modules, "tensorflow",
                        types.SimpleNamespace(keras=types.SimpleNamespace(datasets=datasets)))
    data = search(places, download=True)
    assert calls == [1] and data.source == "tf.keras.datasets.fashion_mnist"
    assert data.class_names == FASHION
    write_idx_folder(places.system / "fashion-mnist", raw, gz=False)  # found: no download
    search(places, download=True)
    assert calls == [1]


def test_an_unknown_dataset_is_refused_naming_the_choices():
    with pytest.raises(DataError, match=r"unknown dataset 'kmnist'; choose one of mnist, fashion"):
        load_dataset("kmnist")


# --- the model file ---------------------------------------------------------------------------


def test_class_names_round_trip_through_the_model_file(tmp_path):
    x, y = np.zeros((2, 784), np.float32), np.zeros(2, np.uint8)
    names = ("cat", "dog", "ant", "bee", "cow", "elk", "fox", "gnu", "hen", "owl")
    path = fashion_model(tmp_path, data=Dataset(x, y, x, y, "mine", "animals", names))
    _, meta = load_model(path)
    assert trained_on(meta) == ("animals", names)
    path = fashion_model(tmp_path, "f.npz")
    assert trained_on(load_model(path)[1]) == ("fashion", FASHION)


def test_a_file_without_dataset_names_is_mnist(tmp_path):
    save_model(tmp_path / "old.npz", Network.initialised((784, 8, 10), "relu", "softmax", "ce", seed=0))
    assert trained_on(load_model(tmp_path / "old.npz")[1]) == ("mnist", DIGITS)


@pytest.mark.parametrize("meta, phrase", [
    ({"class_names": ["a"] * 9}, "class_names must be a list of 10 names"),
    ({"class_names": ["a"] * 9 + [7]}, "class_names must be a list of 10 names"),
    ({"class_names": ["a"] * 9 + ["x" * 41]}, "class_names must be a list of 10 names"),
    ({"class_names": ["a"] * 9 + ["two\nlines"]}, "class_names must be a list of 10 names"),
    ({"class_names": "0123456789"}, "class_names must be a list of 10 names"),
    ({"dataset_name": 3}, "dataset_name must be a short name"),
    ({"dataset_name": "kmnist"}, "names the dataset 'kmnist' but not its 10 class names"),
])
def test_bad_dataset_names_in_a_model_file_refuse_it_in_one_sentence(tmp_path, meta, phrase):
    save_model(tmp_path / "bad.npz", Network.initialised((784, 8, 10), "relu", "softmax", "ce"), meta)
    with pytest.raises(ModelFileError) as caught:
        load_model(tmp_path / "bad.npz")
    assert phrase in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"cannot use model '{tmp_path / 'bad.npz'}': its metadata")


def test_check_dataset_refuses_another_dataset_in_one_sentence():
    x, y = np.zeros((2, 784), np.float32), np.zeros(2, np.uint8)
    meta = {"dataset_name": "fashion", "class_names": list(FASHION)}
    check_dataset(meta, Dataset(x, y, x, y, "s", "fashion", FASHION), "f.npz")
    with pytest.raises(WrongDataset, match=r"^model 'f.npz' was trained on Fashion-MNIST, so it "
                       r"cannot be used on MNIST; give --dataset fashion$"):
        check_dataset(meta, Dataset(x, y, x, y, "s"), "f.npz", "give --dataset fashion")
    with pytest.raises(WrongDataset, match="was trained on MNIST, so it cannot be used on Fashion-MNIST"):
        check_dataset({}, DATASETS["fashion"], "old.npz")  # a Spec says as much as a Dataset


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def fashion_folder(tmp_path):
    return write_idx_folder(tmp_path / "fashion", mnist_arrays(60, 20), gz=True)


def test_train_records_the_dataset_and_evaluate_prints_class_names(tmp_path, fashion_folder, capsys):
    out = tmp_path / "f.npz"
    assert cli(["train", "--dataset", "fashion", "--data", str(fashion_folder), "--layers", "784,8,10",
                "--epochs", "1", "--batch-size", "20", "--out", str(out)]) == 0
    _, meta = load_model(out)
    assert trained_on(meta) == ("fashion", FASHION) and meta["dataset"] == str(fashion_folder)
    capsys.readouterr()
    assert cli(["evaluate", str(out), "--data", str(fashion_folder)]) == 0  # its own dataset: fashion
    printed = capsys.readouterr().out
    assert "test images of Fashion-MNIST" in printed
    assert "rows: true class, columns: predicted class, numbered as the rows" in printed
    assert "0 T-shirt/top" in printed and "9 Ankle boot" in printed
    assert "\nclass        precision  recall\nT-shirt/top " in printed
    assert any(f"#0: {name} " in printed for name in FASHION)


def test_best_on_clothes_is_their_own_recipe_and_a_flag_still_wins(tmp_path, fashion_folder, capsys):
    """``--preset best`` on Fashion-MNIST trains 'best' for clothes (mixup, no affine moves),
    on MNIST the digits' own; ``--mixup`` overrides either. The model file records the config."""
    out = tmp_path / "f.npz"
    small = ["--layers", "784,8,10", "--epochs", "1", "--batch-size", "20", "--out", str(out)]
    assert cli(["train", "--dataset", "fashion", "--data", str(fashion_folder), "--preset", "best",
                *small]) == 0
    assert "mixup 0.4" in capsys.readouterr().out
    config = load_model(out)[1]["config"]
    assert config == preset("best", digits=False).replace(sizes=(784, 8, 10), epochs=1,
                                                          batch_size=20).as_dict() | {"sizes": [784, 8, 10]}
    assert cli(["train", "--dataset", "fashion", "--data", str(fashion_folder), "--preset", "best",
                "--mixup", "0.2", *small]) == 0
    assert load_model(out)[1]["config"]["mixup"] == 0.2 and "mixup 0.2" in capsys.readouterr().out
    assert cli(["train", "--preset", "best", "--limit", "100", *small]) == 0
    assert load_model(out)[1]["config"]["mixup"] == 0.0 and "mixup" not in capsys.readouterr().out
    assert cli(["train", "--mixup", "-1", "--limit", "100", *small]) == 2
    assert capsys.readouterr().err.strip().endswith("mixup's alpha must be a number from 0 to 100, got -1.0")


def test_a_fashion_model_given_mnist_is_refused_in_one_sentence(tmp_path, capsys):
    model = fashion_model(tmp_path)
    mnist = write_npz(tmp_path / "mnist.npz", mnist_arrays(20, 20))
    assert cli(["evaluate", str(model), "--dataset", "mnist", "--data", str(mnist)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"error: model '{model}' was trained on Fashion-MNIST, so it cannot be "
                            f"used on MNIST; evaluate it with --dataset fashion\n")


def test_an_mnist_model_given_fashion_is_refused_in_one_sentence(tmp_path, fashion_folder, capsys):
    save_model(tmp_path / "m.npz", Network.initialised((784, 8, 10), "relu", "softmax", "ce"))
    assert cli(["evaluate", str(tmp_path / "m.npz"), "--dataset", "fashion",
                "--data", str(fashion_folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "was trained on MNIST, so it cannot be used on Fashion-MNIST" in err


def test_predict_names_the_class_and_refuses_number_and_another_dataset(tmp_path, monkeypatch, capsys):
    import app.cli

    shoe = np.full((60, 90), 255, np.uint8)
    shoe[20:45, 10:80] = 30  # a dark thing on white
    monkeypatch.setattr(app.cli, "_grey_levels", lambda path: shoe)
    model = fashion_model(tmp_path)
    assert cli(["predict", str(model), "shoe.png"]) == 0
    line = capsys.readouterr().out
    assert line.startswith("shoe.png: ") and line.split(": ")[1].rsplit(" (", 1)[0] in FASHION
    assert cli(["predict", "--number", str(model), "shoe.png"]) == 2
    assert capsys.readouterr().err == (f"error: --number reads a number written in digits, but "
                                       f"model '{model}' was trained on Fashion-MNIST, whose "
                                       f"classes are not digits\n")
    assert cli(["predict", "--dataset", "mnist", str(model), "shoe.png"]) == 2
    assert "was trained on Fashion-MNIST, so it cannot be used on MNIST" in capsys.readouterr().err


def test_a_picture_is_prepared_as_fashion_mnist_made_its_own():
    picture = np.full((60, 90), 255, np.uint8)
    picture[20:45, 10:80] = 0  # a black box 25 x 70 on white
    x = prepare_picture(picture).reshape(28, 28)
    assert x[:, 0].max() == 1.0 and x[:, -1].max() == 1.0  # the longer side fills the field
    rows = np.flatnonzero(x.max(axis=1) > 0.5)
    assert len(rows) == 10 and rows[0] + rows[-1] == 27  # 70 -> 28, so 25 -> 10, centred
    assert x[0, 0] == 0.0  # negated: the white background is black
    assert prepare_picture(np.full((5, 5), 200, np.uint8)) is None


# --- the real thing -------------------------------------------------------------------------


DEBIAN = SYSTEM_DATASETS / "fashion-mnist"


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="Debian's Fashion-MNIST is not installed "
                    "(sudo apt-get install dataset-fashion-mnist; .ci/run installs it)")
def test_fast_learns_debians_fashion_mnist_from_5000_images():
    data = load_dataset("fashion", download=False).limit(5000, 1000)
    assert data.source == str(DEBIAN) and data.class_names == FASHION
    trainer = Trainer(data, preset("fast").replace(epochs=2))
    for _ in trainer.run():
        pass
    # 0.808 measured (seed 0, 0.8 s); all 60,000 and 15 epochs reach 0.896, chance is 0.10
    assert trainer.test_accuracy > 0.75
    assert json.dumps(dataset_meta(data))  # what train records is plain JSON


@pytest.mark.slow
@pytest.mark.skipif(not DEBIAN.is_dir(), reason="Debian's Fashion-MNIST is not installed "
                    "(sudo apt-get install dataset-fashion-mnist; .ci/run installs it)")
def test_fast_reaches_89_percent_of_fashion_mnist():
    """The README's promise: ``train --dataset fashion --preset fast`` ends at 89% or more
    (seeds 0-2 gave 0.8932, 0.8959, 0.8948); about 20 s on the whole of it. 'best' for clothes
    (91%, six minutes) is measured by hand: the suite cannot afford it."""
    trainer = Trainer(load_dataset("fashion", download=False), preset("fast"))
    for _ in trainer.run():
        pass
    assert trainer.test_accuracy >= 0.89
