"""core.history and its place in brain.npz: the moments are recorded on the promised schedule,
a history goes through the file and back exactly, a file without one (format 1) still opens, a
damaged or inconsistent history is refused in one sentence naming the file (through load_run,
load_model and ``main.py evaluate``), thinning keeps what it promises, and float16 weights
replay the recorded accuracy. One 15-epoch ``fast`` run on the full MNIST, recorded once per
session, gives the README's accuracy and the history's memory and file budgets.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from core.config import preset
from core.errors import ModelFileError
from core.history import MAX_MOMENTS, PREFIX, History, Moment, record
from core.model_io import FORMAT_VERSION, HISTORY_FORMAT_VERSION, load_model, load_run, save_model
from core.network import Network
from core.train import BatchReport, EpochReport, Trainer
from tests import hostile
from tests.hostile import drop, poke, replace_array
from tests.test_cli import assert_one_sentence_error, run
from tests.test_model_io import arrays_of, assert_same_network

MB = 2**20


def recorded(data, config):
    """A trainer run through ``record`` to the end: (trainer, history, every report)."""
    trainer = Trainer(data, config)
    history = History(config.architecture, data.y_test)
    reports = list(record(trainer, history))
    return trainer, history, reports


def forward_predicted(W, b, x: np.ndarray) -> np.ndarray:
    """The digits a ReLU network with these weights picks for x (B, 784), computed here from the
    equations rather than by core.network: a = relu(a @ W + b), then argmax of the last z
    (softmax keeps the order of z, so its argmax is z's)."""
    a = x
    for l, (w, v) in enumerate(zip(W, b)):
        z = a @ w.astype(np.float32) + v  # (B, n_in) @ (n_in, n_out) -> (B, n_out)
        a = np.maximum(z, 0) if l < len(W) - 1 else z
    return a.argmax(axis=1)


# --- a small recorded run: 1,000 images in batches of 250, 4 batches an epoch -----------------


@pytest.fixture(scope="module")
def small_run(small_mnist):
    config = preset("fast").replace(sizes=(784, 16, 10), batch_size=250, epochs=3, seed=2)
    return recorded(small_mnist.limit(1000, 200), config)


@pytest.fixture(scope="module")
def saved_run(small_run, tmp_path_factory):
    trainer, history, _ = small_run
    path = tmp_path_factory.mktemp("history") / "run.npz"
    save_model(path, trainer.net, {"epochs": trainer.epoch}, history)
    return path


def test_moments_at_step_0_at_powers_of_two_in_epoch_1_and_at_every_epoch_end(small_run):
    """4 batches an epoch: step 0, steps 1 and 2 inside epoch 1 (4 is its end), then 4, 8, 12."""
    _, history, reports = small_run
    moments = history.moments
    assert [m.step for m in moments] == [0, 1, 2, 4, 8, 12]
    assert [m.position for m in moments] == [0.0, 0.25, 0.5, 1.0, 2.0, 3.0]
    assert [m.epoch for m in moments] == [0, 0, 0, 1, 2, 3]
    assert history.steps.tolist() == list(range(1, 13))
    assert history.positions.tolist() == [e - 1 + k / 4 for e in (1, 2, 3) for k in (1, 2, 3, 4)]
    assert history.epochs == [r for r in reports if isinstance(r, EpochReport)]


def test_a_moment_holds_the_network_and_its_answers_at_its_step(small_mnist, small_run):
    """The last moment is the trained network in float16; each epoch end's answers give exactly
    the accuracy that epoch reported (both come from the same float32 outputs)."""
    trainer, history, _ = small_run
    last = history.moments[-1]
    for l in range(2):
        assert last.W[l].dtype == np.float16 and np.array_equal(last.W[l], trainer.net.W[l].astype(np.float16))
        assert last.b[l].dtype == np.float32 and np.array_equal(last.b[l], trainer.net.b[l])
        assert not last.W[l].flags.writeable and not last.b[l].flags.writeable
    for report in history.epochs:
        i = [m.step for m in history.moments].index(report.step)
        assert np.mean(history.moments[i].predicted == history.labels) == report.test_accuracy
        counts = history.evaluation(i).counts
        assert counts.sum() == 200 and np.trace(counts) / 200 == report.test_accuracy
    fresh = Trainer(small_mnist.limit(1000, 200), trainer.config)  # the same seed, untrained
    assert np.array_equal(history.moments[0].W[0], fresh.net.W[0].astype(np.float16))


# --- the file ---------------------------------------------------------------------------------


def test_a_history_goes_through_the_file_and_back_exactly(small_run, saved_run):
    trainer, history, _ = small_run
    net, meta, loaded = load_run(saved_run)
    assert_same_network(net, trainer.net)
    assert meta["format"] == HISTORY_FORMAT_VERSION and meta["epochs"] == 3
    assert loaded.architecture == history.architecture
    assert loaded.epochs == history.epochs
    mine, theirs = history.to_arrays(), loaded.to_arrays()
    assert sorted(mine) == sorted(theirs)
    for key in mine:
        assert mine[key].dtype == theirs[key].dtype and np.array_equal(mine[key], theirs[key]), key
    for a, b in zip(history.moments, loaded.moments):
        assert (a.step, a.position, a.epoch) == (b.step, b.position, b.epoch)
        assert all(not w.flags.writeable for w in (*b.W, *b.b, b.predicted, b.confidence))
    stored = arrays_of(saved_run)
    assert stored[f"{PREFIX}W0"].shape == (6, 784, 16) and stored[f"{PREFIX}W0"].dtype == np.float16
    assert stored[f"{PREFIX}predicted"].shape == (6, 200)


def test_the_gradient_flow_of_every_batch_is_recorded_and_saved(small_run, saved_run):
    trainer, history, reports = small_run
    batches = [r for r in reports if isinstance(r, BatchReport)]
    assert trainer.flow_every == 1  # 250 x 12,730 multiply-adds a batch: sizing it is cheap
    assert history.flow_steps.tolist() == [r.step for r in batches] == list(range(1, 13))
    np.testing.assert_array_equal(history.flow, np.stack([r.flow for r in batches]))
    np.testing.assert_array_equal(history.flow_positions, history.positions)
    assert history.flow.shape == (12, 3, 2) and (history.flow > 0).all()
    loaded = load_run(saved_run)[2]
    np.testing.assert_array_equal(loaded.flow, history.flow)
    np.testing.assert_array_equal(loaded.flow_positions, history.flow_positions)


def test_a_file_saved_before_the_gradient_flow_was_recorded_opens_without_it(saved_run, tmp_path):
    arrays = arrays_of(saved_run)
    del arrays[f"{PREFIX}flow"], arrays[f"{PREFIX}flow_steps"]
    path = tmp_path / "older.npz"
    np.savez(path, **arrays)
    history = load_run(path)[2]
    assert history.flow.shape == (0, 3, 2) and len(history.steps) == 12
    history.add_flow([12], np.ones((1, 3, 2), np.float32))  # training on from it records again
    assert history.flow_positions.tolist() == [3.0]


def test_load_model_still_gives_the_network_and_metadata(small_run, saved_run):
    net, meta = load_model(saved_run)
    assert_same_network(net, small_run[0].net)
    assert meta["epochs"] == 3


def test_a_network_saved_alone_is_format_1_without_history(tmp_path):
    path = tmp_path / "alone.npz"
    save_model(path, Network.initialised((784, 8, 10), seed=0), {"format": 7})
    net, meta, history = load_run(path)
    assert history is None and meta["format"] == FORMAT_VERSION == 1  # set by save_model, not the caller
    assert not any(key.startswith(PREFIX) for key in arrays_of(path))


def test_a_file_written_before_histories_opens(tmp_path):
    """Format 1 as it was written, arrays made here by hand: it opens, with no history."""
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((784, 12)).astype(np.float32), rng.standard_normal((12, 10)).astype(np.float32)]
    b = [rng.standard_normal(12).astype(np.float32), rng.standard_normal(10).astype(np.float32)]
    path = tmp_path / "old.npz"
    np.savez(path, W0=W[0], b0=b[0], W1=W[1], b1=b[1], sizes=np.array([784, 12, 10]),
             hidden=np.array("sigmoid"), output=np.array("sigmoid"), loss=np.array("mse"),
             meta=np.array(json.dumps({"format": 1, "date": "2024-01-02T03:04:05+00:00", "epochs": 10})))
    net, meta, history = load_run(path)
    assert history is None and meta["epochs"] == 10
    assert all(np.array_equal(x, y) for x, y in zip(net.W + net.b, W + b))
    result = run("evaluate", path, "--limit", "50")
    assert result.returncode == 0, result.stderr
    assert "history" not in result.stdout


def test_a_history_of_another_network_is_not_saved_with_it(small_run, tmp_path):
    _, history, _ = small_run
    with pytest.raises(ValueError, match="not of this"):
        save_model(tmp_path / "x.npz", Network.initialised((784, 17, 10), "relu", "softmax", "ce"), None, history)
    assert not (tmp_path / "x.npz").exists()


def _without_history(arrays):
    for key in [k for k in arrays if k.startswith(PREFIX)]:
        del arrays[key]


# (name, change to the arrays of saved_run, a phrase of the sentence). The run: 784-16-10,
# B = 12 batches, E = 3 epochs, M = 6 moments, N = 200 test images.
DAMAGED = [
    ("a layer of the moments missing", drop(f"{PREFIX}W1"), f"its history lacks {PREFIX}W1"),
    ("the confidences missing", drop(f"{PREFIX}confidence"), f"lacks {PREFIX}confidence"),
    ("every history array missing", _without_history,
     "says it holds a history, but the history's arrays are missing"),
    ("a layer too many", replace_array(f"{PREFIX}W2", lambda a: a[f"{PREFIX}W1"]), f"holds {PREFIX}W2"),
    ("batch records of two lengths", replace_array(f"{PREFIX}costs", lambda a: a[f"{PREFIX}costs"][:-1]),
     f"{PREFIX}costs has shape (11,), but 12 batches need (12,)"),
    ("a moment without answers", replace_array(f"{PREFIX}predicted", lambda a: a[f"{PREFIX}predicted"][:-1]),
     f"{PREFIX}predicted has shape (5, 200), but 6 moments of 200 test images need (6, 200)"),
    ("labels for fewer images", replace_array(f"{PREFIX}labels", lambda a: a[f"{PREFIX}labels"][:-1]),
     f"{PREFIX}predicted has shape (6, 200), but 6 moments of 199 test images need (6, 199)"),
    ("moments fewer than their steps",
     replace_array(f"{PREFIX}moment_steps", lambda a: a[f"{PREFIX}moment_steps"][:-1]),
     f"{PREFIX}moment_positions has shape (6,), but 5 moments need (5,)"),
    ("weights of another network", replace_array(f"{PREFIX}W0", lambda a: a[f"{PREFIX}W0"][:, :, :15]),
     f"{PREFIX}W0 has shape (6, 784, 15), but 6 moments of the 784-16-10 network need (6, 784, 16)"),
    ("biases of another network", replace_array(f"{PREFIX}b1", lambda a: a[f"{PREFIX}b1"][:, :9]),
     f"{PREFIX}b1 has shape (6, 9)"),
    ("batch steps that repeat", poke(f"{PREFIX}steps", 3, 3), "batch steps that do not increase"),
    ("batch positions that decrease", poke(f"{PREFIX}positions", 5, 0.5),
     "batch positions that are negative, decrease"),
    ("a batch position that is NaN", poke(f"{PREFIX}positions", 2, np.nan), "or are not finite"),
    ("an infinite batch cost", poke(f"{PREFIX}costs", 1, np.inf), "batch costs that are NaN or infinite"),
    ("a learning rate of 0", poke(f"{PREFIX}lrs", 0, 0.0), "learning rates that are not finite numbers above 0"),
    ("moment steps out of order", poke(f"{PREFIX}moment_steps", 2, 1), "moments whose steps do not increase"),
    ("moment positions that decrease", poke(f"{PREFIX}moment_positions", 1, 0.9), "moments whose positions"),
    ("an infinite moment position", poke(f"{PREFIX}moment_positions", 5, np.inf), "moments whose positions"),
    ("moment epochs that decrease", poke(f"{PREFIX}moment_epochs", 5, 0),
     "moments whose epochs are negative or decrease"),
    ("a predicted digit 10", poke(f"{PREFIX}predicted", (2, 7), 10), "predicted digits of 10"),
    ("a label 12", poke(f"{PREFIX}labels", 0, 12), "test labels of 12"),
    ("a NaN weight", poke(f"{PREFIX}W0", (1, 300, 3), np.nan), "moments whose W0 holds NaN or infinite values"),
    ("an infinite bias", poke(f"{PREFIX}b1", (0, 2), np.inf), "moments whose b1 holds NaN"),
    ("a NaN confidence", poke(f"{PREFIX}confidence", (3, 3), np.nan), "confidences that are negative, NaN"),
    ("float32 weights", replace_array(f"{PREFIX}W0", lambda a: a[f"{PREFIX}W0"].astype(np.float32)),
     f"{PREFIX}W0 must hold float16, got float32"),
    ("steps as floats", replace_array(f"{PREFIX}steps", lambda a: a[f"{PREFIX}steps"].astype(np.float64)),
     f"{PREFIX}steps must hold int64, got float64"),
    ("signed predicted digits", replace_array(f"{PREFIX}predicted", lambda a: a[f"{PREFIX}predicted"].astype(np.int8)),
     f"{PREFIX}predicted must hold uint8, got int8"),
    ("steps in two dimensions", replace_array(f"{PREFIX}steps", lambda a: a[f"{PREFIX}steps"].reshape(3, 4)),
     "must be one-dimensional, got shape (3, 4)"),
    ("an epoch report with NaN", poke(f"{PREFIX}epochs", (1, 3), np.nan), "epoch reports holding NaN"),
    ("epoch reports a field short", replace_array(f"{PREFIX}epochs", lambda a: a[f"{PREFIX}epochs"][:, :8]),
     f"{PREFIX}epochs has shape (3, 8)"),
    ("an epoch number that repeats", poke(f"{PREFIX}epochs", (1, 0), 1.0), "epochs do not increase"),
    ("half a step", poke(f"{PREFIX}epochs", (0, 2), 2.5), "are not whole numbers"),
    ("the flow without its steps", drop(f"{PREFIX}flow_steps"), f"lacks {PREFIX}flow_steps"),
    ("a flow of another network", replace_array(f"{PREFIX}flow", lambda a: a[f"{PREFIX}flow"][:, :, :1]),
     f"{PREFIX}flow has shape (12, 3, 1)"),
    ("a flow of a batch not recorded", poke(f"{PREFIX}flow_steps", 11, 99),
     "a gradient flow of batches it does not record"),
    ("a negative gradient size", poke(f"{PREFIX}flow", (4, 0, 1), -1.0), "a gradient flow with negative sizes"),
    ("epoch columns in another order",
     replace_array(f"{PREFIX}epoch_fields", lambda a: a[f"{PREFIX}epoch_fields"][::-1]),
     "does not name its epoch columns"),
]


@pytest.fixture(params=DAMAGED, ids=[name for name, _, _ in DAMAGED])
def damaged(request, saved_run, tmp_path):
    _, change, phrase = request.param
    arrays = arrays_of(saved_run)
    change(arrays)
    path = tmp_path / "damaged.npz"
    np.savez(path, **arrays)
    return path, phrase


def test_a_damaged_history_is_refused_in_one_sentence(damaged, capsys):
    """By load_run, by load_model (the whole file is refused) and by main.py evaluate, with the
    same sentence, naming the file."""
    path, phrase = damaged
    with hostile.refused(path, phrase, error=ModelFileError) as info:
        load_run(path)
    sentence = str(info.value)
    assert sentence.startswith(f"cannot use model '{path}': ")
    with pytest.raises(ModelFileError) as again:
        load_model(path)
    assert str(again.value) == sentence
    import main
    assert main.main(["evaluate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {sentence}\n" and captured.out == ""


def test_evaluate_refuses_a_damaged_history_as_a_user_runs_it(saved_run, tmp_path):
    arrays = arrays_of(saved_run)
    poke(f"{PREFIX}W0", (1, 300, 3), np.inf)(arrays)
    path = tmp_path / "inf.npz"
    np.savez(path, **arrays)
    assert_one_sentence_error(run("evaluate", path), f"cannot use model '{path}'", "W0 holds NaN or infinite")


# --- thinning, re-evaluation ------------------------------------------------------------------


def synthetic_moment(net: Network, step: int, position: float, rng) -> Moment:
    probabilities = rng.dirichlet(np.ones(10), size=5)  # (5, 10): five test images
    return Moment.of(net, step, position, math.floor(position), probabilities)


def test_thinning_keeps_all_of_epoch_1_and_the_newest():
    """Epoch 1's 11 moments and then 400 more, 8 an epoch: never more than MAX_MOMENTS, every
    one of epoch 1 kept, the newest always kept, the rest in order and spread over the run."""
    net = Network.initialised((784, 2, 10), seed=0)
    rng = np.random.default_rng(0)
    history = History(net.architecture, np.arange(5) % 10)
    first = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 469]
    for step in first:
        history.add_moment(synthetic_moment(net, step, step / 469, rng))
        assert len(history) <= MAX_MOMENTS
    for k in range(1, 401):
        step = 469 + k * 59
        history.add_moment(synthetic_moment(net, step, step / 469, rng))
        assert len(history) <= MAX_MOMENTS
        assert history.moments[-1].step == step
    steps = [m.step for m in history.moments]
    assert steps[:len(first)] == first
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert len(history) > MAX_MOMENTS // 2
    late = [m.position for m in history.moments if m.position > 1]
    assert late[0] < 5  # the early epochs are not all let go: thinned, not cut off
    with pytest.raises(ValueError, match="in order of steps"):
        history.add_moment(synthetic_moment(net, steps[-1] - 1, 60.0, rng))


def test_a_moment_of_the_step_kept_last_replaces_it():
    """A training process killed between an epoch's last batch and its test leaves a moment of
    that step; the run resumed from it finishes the epoch there and sends the epoch's moment of
    the same step: kept once, as the epoch's (the window once stopped on "step 48 after 48")."""
    net = Network.initialised((784, 2, 10), seed=0)
    rng = np.random.default_rng(1)
    history = History(net.architecture, np.arange(5) % 10)
    history.add_moment(synthetic_moment(net, 0, 0.0, rng))
    history.add_moment(synthetic_moment(net, 48, 2.9999, rng))
    epoch_end = synthetic_moment(net, 48, 3.0, rng)
    history.add_moment(epoch_end)
    assert [m.step for m in history.moments] == [0, 48] and history.moments[-1] is epoch_end


def test_reevaluated_answers_on_another_test_set(small_mnist, small_run):
    """Every moment's answers recomputed on 300 training images, as the equations give them for
    its float16 weights; the batches and epochs are those recorded."""
    _, history, _ = small_run
    x, y = small_mnist.x_train[1000:1300], small_mnist.y_train[1000:1300]
    other = history.reevaluated(x, y)
    assert np.array_equal(other.labels, y) and len(other) == len(history)
    assert other.epochs == history.epochs and np.array_equal(other.costs, history.costs)
    for m, again in zip(history.moments, other.moments):
        assert (again.step, again.position, again.epoch) == (m.step, m.position, m.epoch)
        assert np.array_equal(again.predicted, forward_predicted(m.W, m.b, x))
        assert all(np.array_equal(w, v) for w, v in zip(again.W, m.W))


# --- one 15-epoch run of fast on the full MNIST, shared -----------------------------------------


@pytest.fixture(scope="session")
def fast_run(mnist):
    """``fast`` as the README promises it (15 epochs, full MNIST), recorded: about 10 s."""
    return recorded(mnist, preset("fast"))


def test_fast_reaches_98_percent_in_15_epochs(fast_run):
    """The README's promise for ``fast`` (``classic``'s is in tests/test_train.py)."""
    trainer, history, _ = fast_run
    assert trainer.epoch == 15 and trainer.test_accuracy >= 0.98
    assert history.epochs[-1].test_accuracy == trainer.test_accuracy


def test_float16_weights_replay_the_recorded_accuracy(mnist, fast_run):
    """At every epoch end, the test accuracy of a forward pass from the float16 weights of
    ``history.snapshot(i)`` is within 0.1 point of the accuracy the epoch reported."""
    _, history, _ = fast_run
    ends = [i for i, m in enumerate(history.moments) if m.position == m.epoch >= 1]
    assert len(ends) == 15
    for i, report in zip(ends, history.epochs):
        snapshot = history.snapshot(i)
        assert snapshot.step == report.step
        replayed = np.mean(forward_predicted(snapshot.W, snapshot.b, mnist.x_test) == mnist.y_test)
        assert abs(replayed - report.test_accuracy) <= 0.001, report.epoch


def test_fast_history_fits_its_budgets(fast_run, tmp_path):
    """In memory at most 64 MB; saved with the network, at most 32 MB on disk."""
    trainer, history, _ = fast_run
    assert len(history) == 1 + 9 + 15  # step 0; 1, 2, ..., 256 of 469 batches; 15 epoch ends
    assert history.nbytes <= 64 * MB
    path = tmp_path / "brain.npz"
    save_model(path, trainer.net, {"epochs": 15}, history)
    assert Path(path).stat().st_size <= 32 * MB
