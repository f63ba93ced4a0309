"""The learning-rate schedules (core.schedule): their values at known points, and the learning
rate the trainer reports for each batch, which is the one it trained the batch with."""
import math

import numpy as np
import pytest

from core import schedule
from core.config import preset
from core.errors import ConfigError
from core.train import BatchReport, Control, Trainer


@pytest.mark.parametrize("u,expected", [(0.0, 1.0), (0.25, (1 + math.sqrt(0.5)) / 2), (0.5, 0.5), (1.0, 0.0)])
def test_cosine_falls_from_one_to_zero_along_half_a_cosine(u, expected):
    assert schedule.shape("cosine", u) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("u,expected", [
    (0.0, 1 / 25),  # starts at the peak / 25
    (0.15, (1 / 25 + 1) / 2),  # half way up
    (0.3, 1.0),  # the peak, 30% of the way
    (0.65, (1 + 1e-4) / 2),  # half way down
    (1.0, 1e-4),  # ends at the peak / 1e4
])
def test_onecycle_rises_to_its_peak_at_30_percent_then_falls(u, expected):
    assert schedule.shape("onecycle", u) == pytest.approx(expected, abs=1e-12)


def test_step_is_flat_and_an_unknown_schedule_is_refused():
    assert [schedule.shape("step", u) for u in (0.0, 0.5, 1.0)] == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        schedule.shape("linear", 0.5)
    with pytest.raises(ConfigError, match="unknown schedule 'linear'; choose one of step, cosine, onecycle"):
        preset("fast").replace(schedule="linear")
    with pytest.raises(ConfigError, match="warm-up must be a finite number of epochs of at least 0, got -1"):
        preset("fast").replace(warmup=-1)


def test_warmup_rises_linearly_to_one_over_its_epochs():
    """Two epochs of ten batches: the first batch at 1/20, the 20th (t = 1.9) at 1, then 1."""
    assert schedule.warmup(0.0, 2.0, 10) == pytest.approx(0.05)
    assert schedule.warmup(1.0, 2.0, 10) == pytest.approx(0.55)
    assert schedule.warmup(1.9, 2.0, 10) == pytest.approx(1.0)
    assert schedule.warmup(5.0, 2.0, 10) == 1.0 and schedule.warmup(0.0, 0.0, 10) == 1.0


def batch_lrs(trainer, control=None):
    return [r.lr for r in trainer.run(control) if isinstance(r, BatchReport)]


@pytest.fixture
def data(small_mnist):
    return small_mnist.limit(400, 50)  # batches of 100: four an epoch


def test_the_reported_learning_rate_of_each_batch_follows_the_cosine(data):
    trainer = Trainer(data, preset("fast").replace(lr=0.01, schedule="cosine", warmup=0.0, epochs=2, batch_size=100))
    expected = [0.01 * (1 + math.cos(math.pi * k / 8)) / 2 for k in range(8)]
    assert batch_lrs(trainer) == pytest.approx(expected)
    assert trainer.lr == 0.01  # the scale: lr_decay is the step schedule's alone


def test_the_reported_learning_rate_is_the_one_the_optimiser_was_given(data, monkeypatch):
    trainer = Trainer(data, preset("fast").replace(lr=0.01, schedule="onecycle", warmup=0.5, epochs=2,
                                                   batch_size=100))
    given = []
    step = trainer.optimizer.step
    monkeypatch.setattr(trainer.optimizer, "step", lambda p, g, lr, d: given.append(lr) or step(p, g, lr, d))
    reported = batch_lrs(trainer)
    assert reported == given and len(given) == 8
    # the warm-up (half an epoch, two batches) times the one-cycle's rise
    assert given[0] == pytest.approx(0.01 * 0.5 * schedule.shape("onecycle", 0.0))
    assert given[1] == pytest.approx(0.01 * 1.0 * schedule.shape("onecycle", 1 / 8))


def test_warmup_with_the_step_schedule_keeps_the_decay_per_epoch(data):
    config = preset("fast").replace(lr=0.01, lr_decay=0.5, warmup=1.0, epochs=2, batch_size=100)
    trainer = Trainer(data, config)
    assert batch_lrs(trainer) == pytest.approx([0.0025, 0.005, 0.0075, 0.01, 0.005, 0.005, 0.005, 0.005])


def test_a_new_learning_rate_scales_the_whole_curve(data):
    """Control.set_lr while a cosine runs: eta becomes the new peak, the curve goes on from where
    it was (the batch after the change trains at new eta * shape)."""
    trainer = Trainer(data, preset("fast").replace(lr=0.01, schedule="cosine", warmup=0.0, epochs=2, batch_size=100))
    control = Control()
    runner = trainer.run(control)
    first = [next(runner).lr for _ in range(3)]
    control.set_lr(0.1)
    rest = [r.lr for r in runner if isinstance(r, BatchReport)]
    assert first + rest == pytest.approx([(0.01 if k < 3 else 0.1) * (1 + math.cos(math.pi * k / 8)) / 2
                                          for k in range(8)])


def test_extend_starts_the_schedule_again_over_the_new_epochs(data):
    """Stopped a quarter into the second epoch, then extended by 2 epochs: the cosine runs from
    the point where training stands (1.25 epochs) to the new end (1 + 2), at the new eta."""
    config = preset("fast").replace(lr=0.01, schedule="cosine", warmup=0.0, epochs=2, batch_size=100)
    trainer = Trainer(data, config)
    control = Control()
    for report in trainer.run(control):
        if isinstance(report, BatchReport) and report.step == 5:
            control.stop()
    assert trainer.position == 1.25
    trainer.extend(config.replace(lr=0.02))
    assert trainer.schedule_start == 1.25 and trainer.config.epochs == 3
    span = 3 - 1.25
    expected = [0.02 * (1 + math.cos(math.pi * (p - 1.25) / span)) / 2
                for p in np.arange(1.25, 3, 0.25)]
    assert batch_lrs(trainer) == pytest.approx(expected)


def test_the_schedule_goes_on_in_a_restored_trainer(data):
    config = preset("fast").replace(lr=0.01, schedule="onecycle", warmup=0.25, epochs=3, batch_size=100)
    straight = batch_lrs(Trainer(data, config))
    halted = Trainer(data, config)
    control = Control()
    before = []
    for report in halted.run(control):
        if isinstance(report, BatchReport):
            before.append(report.lr)
            if report.step == 2:
                control.stop()
    halted.extend(config.replace(epochs=2))  # from point 0.5: a new cycle to epoch 2
    fields, arrays = halted.state()
    resumed = Trainer.from_state(data, fields, arrays)
    assert resumed.schedule_start == 0.5
    assert batch_lrs(resumed) == pytest.approx(batch_lrs(halted))
    assert before == pytest.approx(straight[:2])


def test_the_train_command_takes_the_new_settings_as_flags():
    from app import cli
    args = cli.build_parser().parse_args(["train", "--preset", "fast", "--schedule", "cosine",
                                          "--warmup", "0.5", "--dropout", "0.3", "--augment", "affine"])
    config = cli.config_from_args(args)
    assert config == preset("fast").replace(schedule="cosine", warmup=0.5, dropout=0.3, augment="affine")
    assert cli.config_from_args(cli.build_parser().parse_args(["train"])) == preset("fast")
