"""Two runs side by side: step-locked training, bit-identical reruns, the compare command."""
import numpy as np
import pytest

from app import cli
from core.compare import describe, settings, train_together
from core.config import preset
from core.errors import ConfigError
from core.history import History, record
from core.train import BatchReport, EpochReport, Trainer


class Spy(Trainer):
    """A trainer that notes the training-set indices of every batch it trains."""

    def run(self, control=None):
        self.seen = getattr(self, "seen", [])
        for report in super().run(control):
            if isinstance(report, BatchReport):
                B = self.config.batch_size
                k = report.batch - 1
                self.seen.append(self.epoch_order[k * B:(k + 1) * B].copy()
                                 if self.epoch_order is not None else None)
            yield report


def test_two_runs_are_step_locked_on_the_same_images(small_mnist):
    """Two networks of one seed and batch size train on the same indices at every step, and
    train_together alternates them batch by batch."""
    a = Spy(small_mnist, preset("classic").replace(epochs=2, batch_size=50))
    b = Spy(small_mnist, preset("fast").replace(epochs=2, batch_size=50))
    order = [(i, r.step) for i, r in train_together([a, b]) if isinstance(r, BatchReport)]
    assert len(a.seen) == len(b.seen) == 2 * 40
    for x, y in zip(a.seen, b.seen):
        np.testing.assert_array_equal(x, y)
    assert order[:6] == [(0, 1), (1, 1), (0, 2), (1, 2), (0, 3), (1, 3)]
    assert not np.array_equal(a.seen[0], a.seen[40])  # a new shuffle each epoch, the same for both


def test_different_batch_sizes_stay_level_in_epochs(small_mnist):
    """With batches of 10 and 100 the one behind trains: they are never more than a batch of
    the slower apart, and both see the training set in the same order."""
    a = Spy(small_mnist, preset("classic").replace(epochs=1, batch_size=10))
    b = Spy(small_mnist, preset("fast").replace(epochs=1, batch_size=100))
    positions = [0.0, 0.0]
    for i, report in train_together([a, b]):
        if isinstance(report, BatchReport):
            positions[i] = report.batch / report.batches
            assert abs(positions[0] - positions[1]) <= 100 / 2000 + 1e-9
    np.testing.assert_array_equal(np.concatenate(a.seen), np.concatenate(b.seen))


def test_the_same_settings_and_seed_train_bit_identical_runs(small_mnist):
    """Weights at every moment of the history, and at the end, are the same bits."""
    config = preset("fast").replace(epochs=2, batch_size=100)
    runs = []
    for _ in range(2):
        trainer = Trainer(small_mnist, config)
        history = History(config.architecture, small_mnist.y_test)
        for _ in record(trainer, history):
            pass
        runs.append((trainer, history))
    (t1, h1), (t2, h2) = runs
    assert len(h1) == len(h2) > 5
    for m1, m2 in zip(h1.moments, h2.moments):
        for w1, w2 in zip(m1.W + m1.b, m2.W + m2.b):
            assert w1.tobytes() == w2.tobytes()
    for w1, w2 in zip(t1.net.W + t1.net.b, t2.net.W + t2.net.b):
        assert w1.tobytes() == w2.tobytes()
    np.testing.assert_array_equal(h1.costs, h2.costs)


def test_a_run_trains_again_from_its_initial_weights(small_mnist):
    """The history keeps the exact initial weights; a trainer given them and the same settings
    repeats the run bit for bit, even though another seed would start elsewhere."""
    config = preset("fast").replace(epochs=1, batch_size=100, seed=7)
    first = Trainer(small_mnist, config)
    history = History(config.architecture, small_mnist.y_test)
    for _ in record(first, history):
        pass
    assert history.initial is not None and history.initial.step == 0
    again = Trainer(small_mnist, config, history.initial.network(copy=True))
    for _ in again.run():
        pass
    for w1, w2 in zip(first.net.W, again.net.W):
        assert w1.tobytes() == w2.tobytes()
    other = Trainer(small_mnist, config.replace(seed=8))
    assert not np.array_equal(other.net.W[0], history.initial.W[0])


def test_settings_read_a_preset_and_its_changes():
    assert settings("classic") == preset("classic")
    config = settings("fast:lr=0.003,batch_size=64,sizes=784-100-10", epochs=3)
    assert (config.lr, config.batch_size, config.sizes, config.epochs) == (0.003, 64, (784, 100, 10), 3)
    assert settings("fast:epochs=2", epochs=5).epochs == 2  # the text's own change wins
    assert describe(preset("classic")) == "784-20-20-20-10 sigmoid mse sgd lr 3 batch 10"
    for bad, words in (("nothing", "unknown preset"), ("fast:lr", "field=value"),
                       ("fast:speed=2", "field=value"), ("fast:lr=quick", "a float"),
                       ("fast:sizes=784-x", "sizes like")):
        with pytest.raises(ConfigError, match=words):
            settings(bad)


def test_compare_prints_both_runs_epochs_and_accuracies(capsys, tmp_path):
    out_a, out_b = tmp_path / "a.npz", tmp_path / "b.npz"
    code = cli.main(["compare", "classic", "fast:batch_size=100", "--epochs", "2", "--limit", "1000",
                     "--out", str(out_a), str(out_b)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("A: 784-20-20-20-10 sigmoid mse sgd") and "batch 100" in lines[1]
    rows = [line.split() for line in lines if line[:5].strip().isdigit()]
    assert [r[0] for r in rows] == ["1", "2"] and all(len(r) == 5 for r in rows)
    final = lines[-1].split()
    assert final[:3] == ["test", "accuracy:", "A"] and final[4] == "B"
    assert float(rows[-1][2]) == pytest.approx(float(final[3]), abs=1e-4)
    assert float(rows[-1][4]) == pytest.approx(float(final[5]), abs=1e-4)
    assert out_a.exists() and out_b.exists()


def test_compare_refuses_bad_settings_in_one_sentence(capsys):
    assert cli.main(["compare", "classic", "fast:lr=-1", "--limit", "100"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "learning rate" in err[0]


def test_the_compare_loop_yields_every_report_of_both(small_mnist):
    a = Trainer(small_mnist.limit(500, 100), preset("classic").replace(epochs=2, batch_size=50))
    b = Trainer(small_mnist.limit(500, 100), preset("fast").replace(epochs=3, batch_size=100))
    reports = list(train_together([a, b]))
    assert sum(1 for i, r in reports if i == 0 and isinstance(r, EpochReport)) == 2
    assert sum(1 for i, r in reports if i == 1 and isinstance(r, EpochReport)) == 3
    assert (a.epoch, b.epoch) == (2, 3)


def test_the_command_line_trains_the_same_run_twice_bit_for_bit(tmp_path, capsys):
    from core.model_io import load_run
    paths = [tmp_path / "a.npz", tmp_path / "b.npz"]
    for path in paths:
        assert cli.main(["train", "--preset", "fast", "--epochs", "1", "--limit", "1000",
                         "--seed", "3", "--out", str(path)]) == 0
    (net_a, _, h_a), (net_b, _, h_b) = (load_run(p) for p in paths)
    assert all(w.tobytes() == v.tobytes() for w, v in zip(net_a.W + net_a.b, net_b.W + net_b.b))
    for m, n in zip(h_a.moments, h_b.moments):
        assert all(w.tobytes() == v.tobytes() for w, v in zip(m.W, n.W))
