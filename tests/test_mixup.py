"""mixup (core.mixup): a batch's images and one-hot targets blended in pairs by one lambda, and
the trainer feeding the network those blends when the settings ask for it."""
import dataclasses

import numpy as np
import pytest

from core.config import NOT_DIGITS, PRESETS, preset, presets
from core.data import DATASETS, one_hot
from core.errors import ConfigError
from core.mixup import blend, draw, mixup
from core.train import Trainer


def _batch(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784), dtype=np.float32)
    labels = rng.integers(0, 10, n)
    return x, one_hot(labels), labels


@pytest.mark.parametrize("alpha", [0.05, 0.4, 5.0])
def test_each_image_and_its_target_are_blended_with_its_partners_by_the_same_lambda(alpha):
    x, targets, labels = _batch()
    before = x.copy(), targets.copy()
    mixed_x, mixed_t, counted = mixup(x, targets, labels, alpha, np.random.default_rng(3))
    lam, partner = draw(len(x), alpha, np.random.default_rng(3))  # the very draws, again
    assert 0.0 <= lam <= 1.0 and np.array_equal(np.sort(partner), np.arange(len(x)))
    assert mixed_x.dtype == x.dtype and mixed_t.dtype == targets.dtype
    np.testing.assert_allclose(mixed_x, lam * x + (1 - lam) * x[partner], rtol=1e-6)
    np.testing.assert_allclose(mixed_t.sum(axis=1), 1.0, rtol=1e-6)  # still a distribution
    assert ((mixed_t > 0).sum(axis=1) <= 2).all()  # of two classes at most
    np.testing.assert_allclose(mixed_t[np.arange(len(x)), labels] + (labels != labels[partner])
                               * mixed_t[np.arange(len(x)), labels[partner]],
                               np.where(labels == labels[partner], 1.0, lam)
                               + (labels != labels[partner]) * (1 - lam), rtol=1e-6)
    np.testing.assert_array_equal(counted, labels if lam >= 0.5 else labels[partner])
    np.testing.assert_array_equal(x, before[0])  # the inputs are not changed
    np.testing.assert_array_equal(targets, before[1])


def test_lambda_one_is_the_batch_itself_and_zero_its_partners():
    x, _, _ = _batch()
    partner = np.random.default_rng(1).permutation(len(x))
    np.testing.assert_array_equal(blend(x, 1.0, partner), x)
    np.testing.assert_array_equal(blend(x, 0.0, partner), x[partner])


def test_lambda_follows_beta_alpha_alpha():
    """Symmetric about 1/2 (mean 1/2); alpha 0.4 draws most lambdas near 0 or 1, alpha 50 near 1/2."""
    rng = np.random.default_rng(0)
    small = np.array([draw(2, 0.4, rng)[0] for _ in range(4000)])
    large = np.array([draw(2, 50.0, rng)[0] for _ in range(4000)])
    assert abs(small.mean() - 0.5) < 0.02 and abs(large.mean() - 0.5) < 0.01
    assert np.mean((small < 0.1) | (small > 0.9)) > 0.4  # Beta(0.4, 0.4): 0.45 of them
    assert np.mean(abs(large - 0.5) < 0.1) > 0.8


# --- in training ----------------------------------------------------------------------------


def test_alpha_zero_draws_nothing_and_trains_as_before(small_mnist):
    data = small_mnist.limit(300, 50)
    config = preset("fast").replace(epochs=1, batch_size=100)
    assert config.mixup == 0.0
    plain = Trainer(data, config)
    before = plain.noise.bit_generator.state
    list(plain.run())
    assert plain.noise.bit_generator.state == before
    mixed = Trainer(data, config.replace(mixup=0.4))
    list(mixed.run())
    assert mixed.noise.bit_generator.state != before
    assert not np.array_equal(mixed.net.W[0], plain.net.W[0])


def test_the_network_is_taught_the_blends_and_accuracy_counts_the_heavier_label(small_mnist, monkeypatch):
    """Every batch reaches backprop blended (targets of two classes summing to 1, images the
    same blend of the batch's images), the test set is evaluated as it is, and the training
    accuracy of an epoch counts each answer against the class that weighs more in its target."""
    data = small_mnist.limit(300, 50)
    trainer = Trainer(data, preset("fast").replace(epochs=1, batch_size=100, mixup=1.0))
    order = Trainer(data, trainer.config).rng.permutation(len(data.x_train))
    seen = []
    backprop = trainer.net.backprop

    def spy(x, targets, *rest):
        result = backprop(x, targets, *rest)
        seen.append((x.copy(), targets.copy(), result[3].argmax(axis=1)))
        return result

    monkeypatch.setattr(trainer.net, "backprop", spy)
    reports = list(trainer.run())
    assert len(seen) == 3
    correct = 0
    for k, (x, targets, answers) in enumerate(seen):
        originals = data.x_train[order[k * 100:(k + 1) * 100]]
        np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
        assert ((targets > 0).sum(axis=1) <= 2).all() and not np.array_equal(x, originals)
        heavier = targets.argmax(axis=1)  # lambda is never exactly 1/2 here
        lam = targets[np.arange(100), data.y_train[order[k * 100:(k + 1) * 100]]]
        assert (lam > 0).all()  # each image keeps some of itself
        correct += int((answers == heavier).sum())
    assert reports[-1].train_accuracy == correct / 300
    np.testing.assert_array_equal(trainer.test_probabilities, trainer.net.predict_proba(data.x_test))


@pytest.mark.parametrize("changes,message", [
    (dict(mixup=-0.1), "mixup's alpha must be a number from 0 to 100, got -0.1"),
    (dict(mixup=float("nan")), "mixup's alpha must be a number from 0 to 100, got nan"),
    (dict(mixup=101.0), "mixup's alpha must be a number from 0 to 100, got 101.0"),
    (dict(mixup=True), "mixup's alpha must be a number from 0 to 100, got True"),
])
def test_bad_alphas_are_one_sentence(changes, message):
    with pytest.raises(ConfigError, match=message):
        preset("fast").replace(**changes)


# --- 'best' for clothes ---------------------------------------------------------------------


def test_best_for_clothes_is_mixup_and_the_others_are_the_same_for_every_dataset():
    assert presets(True) is PRESETS and list(presets(False)) == list(PRESETS)
    assert preset("best") == PRESETS["best"] and PRESETS["best"].mixup == 0.0
    clothes = preset("best", digits=False)
    assert clothes is NOT_DIGITS["best"] and clothes.mixup == 0.4 and clothes.epochs == 48
    assert clothes.architecture == PRESETS["best"].architecture
    for name in ("classic", "fast", "watch"):
        assert preset(name, digits=False) == preset(name)
    with pytest.raises(ConfigError, match="unknown preset 'better'"):
        preset("better", digits=False)


def test_best_for_clothes_trains_with_mixup_and_leaves_the_images_unmoved(small_mnist):
    """On a dataset that is not digits 'best' (asked for by name, as the command line and the
    window do) draws mixup's lambdas and partners but no affine moves."""
    data = small_mnist.limit(256, 50)
    clothes = dataclasses.replace(data, name="fashion", class_names=DATASETS["fashion"].class_names)
    config = preset("best", clothes.digits).replace(sizes=(784, 32, 32, 10), epochs=1)
    trainer = Trainer(clothes, config)
    assert trainer.config.mixup == 0.4 and trainer.config.augment == "auto"
    list(trainer.run())
    assert trainer.epoch == 1 and 0.0 <= trainer.test_accuracy <= 1.0


def test_compare_reads_best_for_the_dataset_and_takes_mixup_as_a_change():
    from core.compare import settings
    assert settings("best").mixup == 0.0
    assert settings("best", digits=False) == preset("best", digits=False)
    assert settings("best:mixup=0.1", False, seed=3).replace(seed=0) == preset("best", False).replace(mixup=0.1)
