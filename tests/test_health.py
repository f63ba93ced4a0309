"""core.health: dead and saturated units of hand-made networks, whose every unit's fate is set
by its weights; histograms over time checked against np.histogram of the moments' weights and
of the gradients Network.backprop gives, computed here on their own."""
import numpy as np
import pytest

import core.health
from core.data import one_hot
from core.health import (GRADIENT_SAMPLE, PER_DECADE, TAIL, WEIGHT_BINS, HealthCache, fixed_sample,
                         gradient_histograms, health, health_over, weight_histograms, weight_limit)
from core.history import History, Moment
from core.network import Network


def images(n, seed=0):
    return np.random.default_rng(seed).random((n, 784), dtype=np.float32)


def network(sizes, hidden, W, b):
    return Network(sizes, hidden, "softmax", "ce", W=W, b=b)


def moment(net, step, position):
    probabilities = np.full((5, 10), 0.1, np.float32)  # five test images: not used here
    return Moment.of(net, step, position, int(position), probabilities)


def history_of(nets):
    history = History(nets[0].architecture, np.arange(5))
    for k, net in enumerate(nets):
        history.add_moment(moment(net, 10 * k, k / 2))
    return history


def growing(sizes, hidden, count):
    """``count`` networks whose weights grow, so the newest has the largest in every layer."""
    nets = [trained_like(sizes, hidden, seed) for seed in range(count)]
    for k, net in enumerate(nets):
        net.W = [w * (1 + k) for w in net.W]
    return nets


def trained_like(sizes, hidden, seed):
    """A network with random weights and biases (some units dead or saturated by chance)."""
    net = Network.initialised(sizes, hidden, "softmax", "ce", seed=seed)
    rng = np.random.default_rng(seed + 100)
    for l, v in enumerate(net.b):
        net.b[l] = rng.normal(0.0, 1.0, v.shape).astype(np.float32)
    return net


# --- dead ReLUs -------------------------------------------------------------------------------


def test_dead_relus_are_the_units_at_zero_on_every_digit():
    """Layer 1 (6 units): units 0 and 1 have biases of -1000, dead; unit 2 is zero on every
    digit but one, so alive. Layer 2 (4 units): unit 0 gets no weights and a bias of -1, dead;
    the others get +1, alive (and stay so whatever layer 1 does)."""
    x = images(50)
    x[:, 0] = 0.0
    x[7, 0] = 1.0  # only digit 7 has pixel 0 lit
    W0 = np.random.default_rng(1).normal(0, 0.05, (784, 6)).astype(np.float32)
    b0 = np.ones(6, np.float32) * 5.0
    b0[[0, 1]] = -1000.0
    W0[:, 2] = 0.0
    W0[0, 2] = 1.0
    b0[2] = -0.5  # z = x[:, 0] - 0.5: above 0 for digit 7 only
    W1 = np.random.default_rng(2).normal(0, 0.05, (6, 4)).astype(np.float32)
    W1[:, 0] = 0.0
    b1 = np.array([-1.0, 1.0, 1.0, 1.0], np.float32)
    W2, b2 = np.zeros((4, 10), np.float32), np.zeros(10, np.float32)
    net = network((784, 6, 4, 10), "relu", [W0, W1, W2], [b0, b1, b2])
    h = health(net, x)
    np.testing.assert_array_equal(h.dead, [2 / 6, 1 / 4])
    assert np.isnan(h.saturated).all() and h.saturated.shape == (2,)
    assert health(net, np.delete(x, 7, axis=0)).dead[0] == 3 / 6  # without digit 7, unit 2 dies


# --- saturated sigmoid and tanh ---------------------------------------------------------------


def saturating_network(hidden, far, near):
    """784-6-10: unit j's z is the weight W[0][0, j] on the digits whose pixel 0 is lit, else 0."""
    W0 = np.zeros((784, 6), np.float32)
    W0[0] = [far, far, far, near[0], near[1], 0.0]
    return network((784, 6, 10), hidden, [W0, np.zeros((6, 10), np.float32)],
                   [np.zeros(6, np.float32), np.zeros(10, np.float32)])


@pytest.mark.parametrize("hidden, far, near", [("sigmoid", 100.0, (5.9, 6.1)), ("tanh", 50.0, (2.9, 3.1))])
def test_saturated_units_have_a_tiny_derivative_on_most_digits(hidden, far, near):
    """784-6-10 on ten digits: units 0-2 have a huge weight from pixel 0, units 3 and 4 one
    just inside and just outside the 1% bound (sigmoid: |z| = 5.99, tanh: |z| = 2.99), unit 5
    none. Saturated on a digit whose pixel 0 is lit: 0-2 and 4; on the sample, when lit on more
    than half of the digits."""
    x = np.zeros((10, 784), np.float32)
    x[:, 0] = 1.0
    net = saturating_network(hidden, far, near)
    h = health(net, x)
    assert h.saturated.tolist() == [4 / 6] and np.isnan(h.dead).all()
    x[5:, 0] = 0.0  # lit on half of the digits: saturated on half, which is not most
    assert health(net, x).saturated.tolist() == [0.0]
    x[5, 0] = 1.0  # on six of ten
    assert health(net, x).saturated.tolist() == [4 / 6]
    x[:6, 0] = -1.0  # the other side saturates as well
    assert health(net, x).saturated.tolist() == [4 / 6]


def test_a_network_without_hidden_layers_has_no_health():
    net = network((784, 10), "relu", [np.zeros((784, 10), np.float32)], [np.zeros(10, np.float32)])
    h = health(net, images(3))
    assert h.dead.shape == (0,) and h.saturated.shape == (0,)


def test_health_over_a_history_is_each_moments_own():
    """Moment k has k of layer 1's 8 units killed by their biases, the others kept alive by
    theirs (and the weights pass through float16, as a Moment stores them)."""
    x = images(40)
    nets = []
    for k in range(4):
        net = Network.initialised((784, 8, 6, 10), "relu", "softmax", "ce", seed=k)
        net.b[0][:] = 10.0
        net.b[0][:k] = -1e3
        nets.append(net)
    history = history_of(nets)
    over = health_over(history, x)
    assert over.dead.shape == (4, 2) and over.saturated.shape == (4, 2)
    np.testing.assert_array_equal(over.dead[:, 0], np.arange(4) / 8)
    np.testing.assert_array_equal(over.positions, [0.0, 0.5, 1.0, 1.5])
    for i in range(4):
        np.testing.assert_array_equal(over.dead[i], health(history.snapshot(i).network(), x).dead)
    assert np.isnan(over.saturated).all()


def test_the_fixed_sample_is_balanced_and_the_same_every_time():
    labels = np.random.default_rng(0).integers(0, 10, 10_000)
    a, b = fixed_sample(labels), fixed_sample(labels.copy())
    np.testing.assert_array_equal(a, b)
    assert len(a) == 1000 and np.bincount(labels[a]).tolist() == [100] * 10
    assert (np.diff(a) > 0).all()


# --- histograms -------------------------------------------------------------------------------


def test_weight_limit_rounds_up_to_1_2_or_5_times_a_power_of_ten():
    cases = {0.246: 0.5, 0.5: 0.5, 0.51: 1.0, 1.0: 1.0, 1.01: 2.0, 0.0012: 0.002, 37.0: 50.0,
             0.1: 0.1, 0.0: 1.0, float("nan"): 1.0}
    assert {v: weight_limit(v) for v in cases} == pytest.approx(cases)


def test_weight_histograms_count_every_weight_in_edges_shared_by_all_moments():
    nets = [trained_like((784, 16, 12, 10), "relu", seed) for seed in range(3)]
    nets[2].W[1] *= 7.0  # the range grows: the last moment sets it for all
    history = history_of(nets)
    for l, (n_in, n_out) in enumerate([(784, 16), (16, 12), (12, 10)]):
        h = weight_histograms(history, l)
        largest = max(np.abs(m.W[l].astype(np.float64)).max() for m in history.moments)
        assert h.edges[0] == -h.edges[-1] and h.edges[-1] == weight_limit(largest) >= largest
        assert h.counts.shape == (3, WEIGHT_BINS) and len(h.edges) == WEIGHT_BINS + 1
        assert h.counts.sum(axis=1).tolist() == [n_in * n_out] * 3 and not h.log
        for i in range(3):
            w = history.snapshot(i).W[l]  # float32, from the moment's float16
            np.testing.assert_array_equal(h.counts[i], np.histogram(w, h.edges)[0])


def test_gradient_histograms_bin_log10_of_the_backprop_gradient():
    """Against Network.backprop on the same digits, binned here by np.histogram: every moment
    in the same edges (tenths of whole decades), the largest gradient below the top, at most
    TAIL of them below the bottom, and zeros apart: pixel 0, blank in every digit, gives W[0]
    a zero row."""
    x = images(30)
    x[:, 0] = 0.0
    labels = np.arange(30) % 10
    nets = [trained_like((784, 16, 12, 10), "relu", seed) for seed in range(3)]
    history = history_of(nets)
    for l in range(3):
        h = gradient_histograms(history, l, x, labels)
        assert h.log and len(h.edges) - 1 == h.counts.shape[1] and h.counts.shape[0] == 3
        assert h.counts.shape[1] % PER_DECADE == 0 and h.edges[0] == pytest.approx(round(h.edges[0]))
        np.testing.assert_allclose(np.diff(h.edges), 1 / PER_DECADE)
        logs = []
        for i in range(3):
            _, nabla_W, _, _ = history.snapshot(i).network().backprop(x, one_hot(labels))
            g = nabla_W[l]
            v = np.log10(np.abs(g[g != 0]).astype(np.float64))
            logs.append(v)
            np.testing.assert_array_equal(h.counts[i], np.histogram(v, h.edges)[0])
            assert h.zeros[i] == np.count_nonzero(g == 0)
            assert h.below[i] == np.count_nonzero(v < h.edges[0])
            assert h.counts[i].sum() + h.zeros[i] + h.below[i] == g.size
        pooled = np.concatenate(logs)
        assert pooled.max() < h.edges[-1] <= pooled.max() + 1
        assert np.mean(pooled < h.edges[0]) <= TAIL < np.mean(pooled < h.edges[0] + 1)
    assert (gradient_histograms(history, 0, x, labels).zeros >= 16).all()  # pixel 0's row


def test_a_network_of_zeros_has_only_zero_gradients():
    net = Network((784, 4, 10), "relu", "softmax", "ce")
    h = gradient_histograms(history_of([net]), 0, images(5), np.arange(5))
    assert h.zeros.tolist() == [784 * 4] and h.counts.sum() == 0 and h.below.tolist() == [0]


def test_histograms_of_a_layer_that_is_not_there_are_refused():
    history = history_of([Network.initialised((784, 4, 10), "relu", "softmax", "ce")])
    with pytest.raises(ValueError, match="0 to 1, got 2"):
        weight_histograms(history, 2)


# --- the cache --------------------------------------------------------------------------------


@pytest.fixture
def sample():
    x = images(300, seed=3)
    return x, np.arange(300) % 10


def assert_same(a, b):
    for name in a.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_the_cache_gives_what_the_functions_give(sample):
    """On its gradient sample (GRADIENT_SAMPLE of the 300, balanced), moment by moment."""
    x, labels = sample
    cache = HealthCache(x, labels)
    assert len(cache.x_gradient) == GRADIENT_SAMPLE
    assert np.bincount(cache.labels_gradient).tolist() == [25] * 10
    nets = [trained_like((784, 16, 12, 10), "relu", seed) for seed in range(4)]
    nets[1].b[0][:5] = -1e3
    history = history_of(nets)
    assert cache.update(history) == 0 and cache.pending(history) == 0
    assert_same(cache.health_over(history), health_over(history, x))
    for l in range(3):
        assert_same(cache.weight_histograms(history, l), weight_histograms(history, l))
        assert_same(cache.gradient_histograms(history, l),
                    gradient_histograms(history, l, cache.x_gradient, cache.labels_gradient))


def test_the_cache_works_a_little_at_a_time_and_never_twice(sample, monkeypatch):
    """One piece per update: the newest moment first; a moment examined is not examined again,
    a new one costs one examination, and weights binned for a range that then grew are binned
    again; before the end the readers show what is done (NaN, zero counts). (The newest
    network's weights are the largest, so its ranges serve all.)"""
    x, labels = sample
    cache = HealthCache(x, labels)
    history = history_of(growing((784, 16, 12, 10), "sigmoid", 3))
    calls = []
    real = Network.backprop
    monkeypatch.setattr(Network, "backprop", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert cache.pending(history) == 3
    assert cache.update(history, limit=1) == 2
    over = cache.health_over(history)
    assert np.isnan(over.saturated[:2]).all() and np.isfinite(over.saturated[2]).all()
    assert cache.weight_histograms(history, 0).counts[:2].sum() == 0
    assert cache.update(history, limit=1) == 1 and cache.update(history, limit=1) == 0
    assert len(calls) == 3 and cache.update(history) == 0 and len(calls) == 3

    bigger = trained_like((784, 16, 12, 10), "sigmoid", 9)
    bigger.W[0] *= 20.0  # a wider range for W[0] (W[1], W[2] no larger than the newest's)
    history.add_moment(moment(bigger, 40, 2.0))
    assert cache.pending(history) == 1
    assert cache.update(history, limit=1) == 3  # examined; the three older ones now stale
    assert cache.weight_histograms(history, 0).counts[:3].sum() == 0
    assert cache.update(history) == 0 and len(calls) == 4
    assert_same(cache.weight_histograms(history, 0), weight_histograms(history, 0))
    assert_same(cache.health_over(history), health_over(history, x))


def test_the_cache_forgets_moments_let_go_and_other_histories(sample):
    x, labels = sample
    cache = HealthCache(x, labels)
    nets = growing((784, 8, 10), "tanh", 3)
    history = history_of(nets)
    cache.update(history)
    history.moments = history.moments[::2]  # thinned; the newest, whose weights set the ranges, stays
    assert cache.pending(history) == 0 and cache.health_over(history).saturated.shape == (2, 1)
    assert len(cache._examined) == 2
    other = history_of(nets[:1])
    assert cache.pending(other) == 1  # the same step 0, but another history


def test_health_of_one_moment_is_computed_when_asked(sample):
    x, labels = sample
    cache = HealthCache(x, labels)
    net = trained_like((784, 8, 10), "relu", 0)
    net.b[0][:3] = -1e3
    history = history_of([trained_like((784, 8, 10), "relu", 1), net])
    assert cache.moment_health(history, 1).dead.tolist() == [3 / 8]
    assert cache.pending(history) == 1


def test_the_benchmark_runs(monkeypatch, capsys):
    """python -m core.health, on a small stand-in for 'fast' (the figures are the real one's)."""
    from core import config
    small = config.TrainConfig(sizes=(784, 16, 10), hidden="relu", output="softmax", loss="ce",
                               optimizer="adam", lr=1e-3, batch_size=500, epochs=1)
    monkeypatch.setitem(config.PRESETS, "fast", small)
    core.health._benchmark(moments=6)
    assert "6 moments of 'fast'" in capsys.readouterr().out
