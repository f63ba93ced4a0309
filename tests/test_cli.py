"""The command line, run as a user runs it: in a subprocess, reading its output and exit code;
and the layering that keeps it fast: ``core`` never imports ``app``, headless paths no Qt."""
import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.model_io import HISTORY_FORMAT_VERSION, load_model, load_run, save_model
from core.network import Network

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def assert_one_sentence_error(result, *phrases):
    """Exit code 2, one line on stderr containing the phrases, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained by the command line on a small subset, and what train printed."""
    out = tmp_path_factory.mktemp("cli") / "brain.npz"
    result = run("train", "--preset", "fast", "--epochs", "2", "--limit", "2000", "--out", out)
    return out, result


def test_train_prints_each_epoch_saves_and_ends_with_the_accuracy(trained):
    out, result = trained
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("training 784-256-128-10 relu/softmax with ce and adam")
    assert lines[1].startswith("epoch 1/2  cost ") and " test 0." in lines[1]
    assert lines[2].startswith("epoch 2/2  cost ")
    accuracy = float(lines[-1].removeprefix("test accuracy: "))
    assert lines[-1] == f"test accuracy: {accuracy:.4f}" and accuracy > 0.8
    net, meta = load_model(out)
    assert net.sizes == (784, 256, 128, 10)
    assert meta["epochs"] == 2 and meta["test_accuracy"] == pytest.approx(accuracy, abs=5e-5)
    assert meta["config"]["optimizer"] == "adam" and meta["train_images"] == 2000


def test_train_saves_the_history_of_the_run(trained):
    """2,000 images in batches of 128 are 16 batches an epoch: moments at step 0, at 1, 2, 4, 8
    inside epoch 1, and at the end of both epochs; the epochs are those train printed."""
    out, result = trained
    net, meta, history = load_run(out)
    assert meta["format"] == HISTORY_FORMAT_VERSION
    assert [m.step for m in history.moments] == [0, 1, 2, 4, 8, 16, 32]
    assert history.steps.tolist() == list(range(1, 33))
    printed = [line for line in result.stdout.splitlines() if line.startswith("epoch ")]
    assert [f"test {e.test_accuracy:.4f}" in line for e, line in zip(history.epochs, printed)] == [True, True]
    assert np.array_equal(history.moments[-1].W[0], net.W[0].astype(np.float16))
    assert "with the history of its training (7 moments)" in result.stdout


def test_flags_override_the_preset(tmp_path):
    out = tmp_path / "m.npz"
    result = run("train", "--preset", "classic", "--layers", "784,16,10", "--activation", "tanh",
                 "--loss", "ce", "--optimizer", "momentum", "--lr", "0.1", "--batch-size", "50",
                 "--epochs", "1", "--seed", "3", "--limit", "500", "--out", out)
    assert result.returncode == 0, result.stderr
    net, meta = load_model(out)
    assert (net.sizes, net.hidden.name, net.output.name, net.loss.name) == ((784, 16, 10), "tanh", "sigmoid", "ce")
    assert meta["config"]["lr"] == 0.1 and meta["config"]["seed"] == 3 and meta["config"]["batch_size"] == 50


def test_evaluate_shows_what_usage_py_showed(trained):
    out, train_result = trained
    result = run("evaluate", out, "--limit", "2000")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "confusion matrix (rows: true digit, columns: predicted digit)" in text
    lines = text.splitlines()
    header = lines.index("confusion matrix (rows: true digit, columns: predicted digit)")
    rows = [[int(v) for v in line.split()] for line in lines[header + 2:header + 12]]
    assert [r[0] for r in rows] == list(range(10))
    counts = np.array([r[1:] for r in rows])
    assert counts.shape == (10, 10) and counts.sum() == 2000
    accuracy = float(lines[-1].removeprefix("test accuracy: "))
    assert accuracy == pytest.approx(np.trace(counts) / 2000, abs=5e-5)
    assert lines[-1] == train_result.stdout.strip().splitlines()[-1]  # same model, same images
    assert "digit  precision  recall" in text
    assert "#0: 7 " in text  # the first test image is a 7
    assert "@" in text  # digits drawn as text


def test_evaluate_shows_the_epochs_of_the_history(trained):
    out, train_result = trained
    lines = run("evaluate", out, "--limit", "100").stdout.splitlines()
    assert lines[1] == "history: 2 epochs, 32 batches and 7 moments recorded while training"
    assert lines[2].split() == ["epoch", "cost", "train", "acc", "test", "acc", "test", "cost", "seconds"]
    printed = [line.split() for line in train_result.stdout.splitlines() if line.startswith("epoch ")]
    for row, (_, epoch, _, cost, _, train, _, test, seconds, _) in zip(lines[3:5], printed):
        assert row.split()[:4] == [epoch.split("/")[0], cost, train, test]  # as train printed them
        assert row.split()[5] == seconds


def test_evaluate_of_a_model_without_history_says_nothing_of_one(tmp_path):
    path = tmp_path / "plain.npz"
    save_model(path, Network.initialised((784, 8, 10), seed=0))
    result = run("evaluate", path, "--limit", "100")
    assert result.returncode == 0, result.stderr
    assert "history" not in result.stdout


@pytest.mark.parametrize("args,phrases", [
    (["train", "--preset", "slow"], ["invalid choice: 'slow'"]),
    (["train", "--layers", "100,10"], ["first layer must have 784 neurons", "got 100"]),
    (["train", "--layers", "784,20,9"], ["last layer must have 10 neurons", "got 9"]),
    (["train", "--layers", "784,x,10"], ["expected sizes separated by commas"]),
    (["train", "--layers", "784,-3,10"], ["positive whole numbers"]),
    (["train", "--lr", "-1"], ["learning rate must be a finite number above 0, got -1.0"]),
    (["train", "--lr", "fast"], ["--lr: invalid float value: 'fast'"]),
    (["train", "--batch-size", "0"], ["batch size must be at least 1, got 0"]),
    (["train", "--batch-size", "70000", "--limit", "100"], ["batch size 70000 is larger than the 100 training images"]),
    (["train", "--epochs", "0"], ["epochs must be at least 1, got 0"]),
    (["train", "--limit", "0"], ["--limit must be at least 1, got 0"]),
    (["train", "--activation", "softmax"], ["invalid choice: 'softmax'"]),
    (["train", "--data", "/no/such/place"], ["cannot read dataset '/no/such/place': no such file"]),
    (["evaluate", "/no/such/brain.npz"], ["cannot read model '/no/such/brain.npz': no such file"]),
    (["evaluate"], ["required: FILE"]),
    (["fly"], ["invalid choice: 'fly'"]),
])
def test_user_errors_are_one_sentence_and_exit_2(args, phrases):
    assert_one_sentence_error(run(*args), *phrases)


def test_evaluate_refuses_a_corrupt_model(tmp_path):
    bad = tmp_path / "brain.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a zip archive at all")
    assert_one_sentence_error(run("evaluate", bad), f"cannot read model '{bad}'", "not a valid .npz")


def test_evaluate_refuses_nan_weights(tmp_path):
    net = Network.initialised((784, 8, 10), seed=0)
    net.W[1][0, 0] = np.nan
    path = tmp_path / "nan.npz"
    save_model(path, net)
    assert_one_sentence_error(run("evaluate", path), "W1 holds NaN or infinite values")


def test_divergence_is_one_sentence(tmp_path):
    out = tmp_path / "never.npz"
    result = run("train", "--optimizer", "sgd", "--lr", "1e30", "--epochs", "1", "--limit", "500", "--out", out)
    assert_one_sentence_error(result, "training stopped at epoch 1", "lower the learning rate")
    assert not out.exists()


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0 and "train" in result.stdout and "evaluate" in result.stdout


@pytest.mark.parametrize("code", [
    "import core, core.commandline, core.history, core.train, core.data, core.model_io, core.network",
    "import app.cli",
    "import main, contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()):\n"
    "    try: main.main(['evaluate', '--help'])\n    except SystemExit: pass",
    "import main, contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()):\n"
    "    try: main.main(['train', '--help'])\n    except SystemExit: pass",
])
def test_headless_paths_import_neither_qt_nor_tensorflow(code):
    check = code + ("\nimport sys\nheavy = sorted(m for m in sys.modules if m.split('.')[0] in "
                    "('PySide6', 'pyqtgraph', 'tensorflow', 'keras'))\nprint(heavy)")
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function: ``import a.b`` and
    ``from a.b import c`` give 'a.b'; ``from a import b`` gives 'a' and 'a.b'."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) \
                in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            found.add(str(node.args[0].value))
    return found


def test_imported_modules_sees_every_form_of_import(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("import app.images\ndef f():\n    from app import cli\n"
                      "    importlib.import_module('app.window')\nfrom core import npzio\n")
    assert imported_modules(source) == {"app.images", "app", "app.cli", "app.window", "core",
                                        "core.npzio"}


def test_core_never_imports_app():
    """core/ is NumPy and the standard library: not one of its modules imports app, even lazily."""
    sources = sorted((ROOT / "core").glob("*.py"))
    assert len(sources) > 10
    offenders = {path.name: sorted(m for m in imported_modules(path) if m.split(".")[0] == "app")
                 for path in sources}
    assert {name: found for name, found in offenders.items() if found} == {}
