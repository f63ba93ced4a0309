"""The maths of core.network: gradients checked by finite differences and against TensorFlow's
GradientTape, numerically safe activations, initialisation and the forward pass."""
import itertools

import numpy as np
import pytest

from core.errors import ConfigError
from core.network import (
    ACTIVATIONS,
    HIDDEN_ACTIVATIONS,
    LOSSES,
    OUTPUT_ACTIVATIONS,
    Network,
    dropout_masks,
    sigmoid,
    softmax,
)

COMBINATIONS = list(itertools.product(HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, LOSSES))
SIZES = (7, 6, 5, 4)  # small, with every layer a different width so a transposed shape fails


def small_problem(hidden, output, loss, seed=0, batch=5):
    """A float64 network with non-zero biases, a batch of inputs and one-hot targets."""
    rng = np.random.default_rng(seed)
    net = Network.initialised(SIZES, hidden, output, loss, seed=seed, dtype=np.float64)
    for b in net.b:
        b[:] = rng.normal(0.0, 0.5, size=b.shape)
    x = rng.uniform(0.0, 1.0, size=(batch, SIZES[0]))
    y = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], size=batch)]
    return net, x, y


def numerical_gradient(net, x, y, param, eps=1e-6):
    """dC/dp for every entry of ``param`` (an array of ``net``) by central differences."""
    grad = np.zeros_like(param)
    for i in np.ndindex(param.shape):
        saved = param[i]
        param[i] = saved + eps
        up = net.cost(x, y)
        param[i] = saved - eps
        down = net.cost(x, y)
        param[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a, b):
    return np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-12)


@pytest.mark.parametrize("hidden,output,loss", COMBINATIONS)
def test_backprop_matches_finite_differences(hidden, output, loss):
    net, x, y = small_problem(hidden, output, loss)
    cost, nabla_W, nabla_b, _ = net.backprop(x, y)
    assert cost == pytest.approx(net.cost(x, y))
    for l in range(net.n_layers):
        assert nabla_W[l].shape == net.W[l].shape and nabla_b[l].shape == net.b[l].shape
        assert relative_error(nabla_W[l], numerical_gradient(net, x, y, net.W[l])) < 1e-6, f"dC/dW[{l}]"
        assert relative_error(nabla_b[l], numerical_gradient(net, x, y, net.b[l])) < 1e-6, f"dC/db[{l}]"


# --- dropout ----------------------------------------------------------------------------------


def dropped_cost(net, x, y, masks):
    """The cost of the network with fixed dropout masks, written out independently of
    Network: a[l+1] = f(d[l] @ W[l] + b[l]), d[l] = m[l] * a[l] for the hidden layers."""
    d = x
    for l in range(net.n_layers):
        z = d @ net.W[l] + net.b[l]
        a = net.activation(l).forward(z.copy())
        d = a * masks[l + 1] if l + 1 < net.n_layers else a
    return net.loss.fn(d, y, net.output)


def numerical_dropped_gradient(net, x, y, masks, param, eps=1e-6):
    grad = np.zeros_like(param)
    for i in np.ndindex(param.shape):
        saved = param[i]
        param[i] = saved + eps
        up = dropped_cost(net, x, y, masks)
        param[i] = saved - eps
        down = dropped_cost(net, x, y, masks)
        param[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("hidden,output,loss", COMBINATIONS)
def test_backprop_with_dropout_matches_finite_differences_under_a_fixed_mask(hidden, output, loss):
    """BP2 multiplies by the mask the forward pass used; f'(z) is taken before the mask (a
    sigmoid's a (1 - a) of the scaled output would be wrong)."""
    net, x, y = small_problem(hidden, output, loss, seed=2)
    masks = dropout_masks(net.sizes, len(x), 0.4, np.random.default_rng(3), np.float64)
    assert all((m == 0).any() and (m > 1).any() for m in masks[1:])  # some dropped, some kept
    cost, nabla_W, nabla_b, _ = net.backprop(x, y, masks=masks)
    assert cost == pytest.approx(dropped_cost(net, x, y, masks))
    assert cost != pytest.approx(net.cost(x, y))  # the masks did something
    for l in range(net.n_layers):
        numerical_W = numerical_dropped_gradient(net, x, y, masks, net.W[l])
        assert relative_error(nabla_W[l], numerical_W) < 1e-6, f"dC/dW[{l}]"
        numerical_b = numerical_dropped_gradient(net, x, y, masks, net.b[l])
        assert relative_error(nabla_b[l], numerical_b) < 1e-6, f"dC/db[{l}]"


def test_dropouts_expected_activation_is_preserved():
    """Inverted dropout: each hidden output is kept with probability 1 - p and scaled by
    1 / (1 - p), so over many masks d = m a averages to a; the input is never dropped."""
    p, rng = 0.3, np.random.default_rng(0)
    masks = dropout_masks((784, 500, 300, 10), 400, p, rng)
    assert masks[0] is None and [m.shape for m in masks[1:]] == [(400, 500), (400, 300)]
    for m in masks[1:]:
        assert m.dtype == np.float32
        assert set(np.unique(m)) == {0.0, np.float32(1 / (1 - p))}
        assert (m == 0).mean() == pytest.approx(p, abs=0.01)
        assert m.mean() == pytest.approx(1.0, abs=0.01)
    net = Network.initialised((784, 64, 10), "relu", "softmax", "ce", seed=1)
    x = rng.random((1, 784), dtype=np.float32)
    a = net.forward(x)[1][0]  # (64,): one image's hidden outputs, no dropout
    dropped = np.stack([a * dropout_masks(net.sizes, 1, p, rng)[1][0] for _ in range(20_000)])
    np.testing.assert_allclose(dropped.mean(axis=0), a, rtol=0.05, atol=1e-3 * a.max())


def test_masks_of_ones_change_nothing():
    net, x, y = small_problem("tanh", "softmax", "ce")
    ones = [None] + [np.ones((len(x), n)) for n in net.sizes[1:-1]]
    plain, masked = net.backprop(x, y), net.backprop(x, y, masks=ones)
    assert plain[0] == masked[0]
    for g, h in zip(plain[1] + plain[2], masked[1] + masked[2]):
        np.testing.assert_array_equal(g, h)


def tensorflow_gradients(net, x, y):
    """The same network and cost written in TensorFlow, differentiated by GradientTape."""
    import tensorflow as tf  # the independent oracle; imported only here

    functions = {"sigmoid": tf.sigmoid, "tanh": tf.tanh, "relu": tf.nn.relu, "softmax": tf.nn.softmax}
    W = [tf.Variable(w) for w in net.W]
    b = [tf.Variable(v) for v in net.b]
    with tf.GradientTape() as tape:
        a = tf.constant(x)
        for l in range(net.n_layers):
            a = functions[net.activation(l).name](a @ W[l] + b[l])
        if net.loss.name == "mse":
            per_sample = 0.5 * tf.reduce_sum((a - y) ** 2, axis=1)
        elif net.output.name == "softmax":
            per_sample = -tf.reduce_sum(y * tf.math.log(a), axis=1)
        else:
            per_sample = -tf.reduce_sum(y * tf.math.log(a) + (1 - y) * tf.math.log(1 - a), axis=1)
        cost = tf.reduce_mean(per_sample)
    grads = tape.gradient(cost, W + b)
    return float(cost), [g.numpy() for g in grads]


@pytest.mark.parametrize("hidden,output,loss", COMBINATIONS)
def test_backprop_matches_tensorflow(hidden, output, loss):
    net, x, y = small_problem(hidden, output, loss, seed=1, batch=8)
    cost, nabla_W, nabla_b, _ = net.backprop(x, y)
    tf_cost, tf_grads = tensorflow_gradients(net, x, y)
    assert cost == pytest.approx(tf_cost, rel=1e-10)
    for ours, theirs in zip(nabla_W + nabla_b, tf_grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-12)


def test_softmax_of_huge_logits_is_finite():
    z = np.array([[1e4, 0.0, -1e4], [1e30, 1e30, -1e30], [-1e4, -1e4, -1e4]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is right
        a = softmax(z.copy())
    assert np.isfinite(a).all()
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(a[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(a[2], [1 / 3] * 3, rtol=1e-6)


def test_sigmoid_of_huge_inputs_does_not_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is right
        a = sigmoid(np.array([-1e6, -100.0, 0.0, 100.0, 1e6], dtype=np.float32))
    np.testing.assert_allclose(a, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-7)


def test_cross_entropy_of_a_certain_wrong_answer_is_finite():
    a = np.array([[1.0, 0.0]], dtype=np.float32)
    y = np.array([[0.0, 1.0]], dtype=np.float32)
    for output in OUTPUT_ACTIVATIONS:
        cost = LOSSES["ce"].fn(a, y, ACTIVATIONS[output])
        assert np.isfinite(cost) and cost > 50


def test_forward_returns_every_layer():
    net = Network.initialised((784, 30, 20, 10), "relu", "softmax", "ce", seed=3)
    x = np.random.default_rng(0).uniform(size=(4, 784)).astype(np.float32)
    activations = net.forward(x)
    assert [a.shape for a in activations] == [(4, 784), (4, 30), (4, 20), (4, 10)]
    assert all(a.dtype == np.float32 for a in activations)
    assert (activations[1] >= 0).all()
    np.testing.assert_allclose(activations[-1].sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(net.predict(x), activations[-1].argmax(axis=1))


def test_forward_names_a_wrong_input_width():
    net = Network.initialised((784, 20, 10), seed=0)
    with pytest.raises(ConfigError, match=r"expects inputs of shape \(B, 784\), got \(2, 100\)"):
        net.forward(np.zeros((2, 100)))


def test_initialisation_is_seeded_and_scaled_for_the_activation():
    a = Network.initialised((784, 256, 10), "relu", "softmax", "ce", seed=7)
    b = Network.initialised((784, 256, 10), "relu", "softmax", "ce", seed=7)
    c = Network.initialised((784, 256, 10), "relu", "softmax", "ce", seed=8)
    np.testing.assert_array_equal(a.W[0], b.W[0])
    assert not np.array_equal(a.W[0], c.W[0])
    assert a.W[0].std() == pytest.approx(np.sqrt(2 / 784), rel=0.05)  # He before ReLU
    glorot = Network.initialised((784, 256, 10), "sigmoid", seed=7)
    limit = np.sqrt(6 / (784 + 256))
    assert np.abs(glorot.W[0]).max() <= limit
    assert glorot.W[0].std() == pytest.approx(limit / np.sqrt(3), rel=0.05)  # uniform's std
    assert all((v == 0).all() for v in a.b)


@pytest.mark.parametrize("kwargs,message", [
    (dict(sizes=(784,)), "at least an input and an output layer"),
    (dict(sizes=(784, 0, 10)), "positive whole numbers"),
    (dict(sizes=(784, 10), hidden="softmax"), "unknown hidden activation 'softmax'"),
    (dict(sizes=(784, 10), output="relu"), "unknown output activation 'relu'"),
    (dict(sizes=(784, 10), loss="hinge"), "unknown loss 'hinge'"),
])
def test_impossible_networks_are_refused_with_a_sentence(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Network(**kwargs)


@pytest.mark.parametrize("hidden", ["sigmoid", "relu"])
def test_switching_a_neuron_off_answers_as_zeroing_its_outgoing_weights(hidden):
    """Forcing a[l][j] = 0 is the network without the weights W[l][j, :] that carry it on; forcing
    it to v is that network with v W[l][j, :] added to the next layer's biases."""
    net = Network.initialised((784, 12, 8, 10), hidden, "softmax", "ce", seed=3)
    x = np.random.default_rng(4).random((300, 784), dtype=np.float32)
    for layer, neuron, value in ((1, 5, 0.0), (2, 0, 0.0), (1, 7, 0.8)):
        forced = Network(net.sizes, hidden, "softmax", "ce", net.W, net.b, forced=[(layer, neuron, value)])
        W, b = [w.copy() for w in net.W], [v.copy() for v in net.b]
        b[layer] += value * W[layer][neuron]
        W[layer][neuron] = 0.0
        rewired = Network(net.sizes, hidden, "softmax", "ce", W, b)
        np.testing.assert_allclose(forced.predict_proba(x), rewired.predict_proba(x), rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(forced.predict(x), rewired.predict(x))
        assert (forced.forward(x)[layer][:, neuron] == value).all()
        assert not np.array_equal(forced.predict_proba(x), net.predict_proba(x))
    several = Network(net.sizes, hidden, "softmax", "ce", net.W, net.b, forced=[(1, 0, 0.0), (1, 3, 0.0), (2, 1, 1.0)])
    a = several.forward(x)
    assert (a[1][:, [0, 3]] == 0).all() and (a[2][:, 1] == 1).all()


@pytest.mark.parametrize("forced, phrase", [([(0, 3, 0.0)], "layer 0"), ([(3, 0, 0.0)], "layer 3"),
                                            ([(1, 12, 0.0)], "neuron 12"), ([(1, 0, np.nan)], "nan")])
def test_only_hidden_neurons_that_exist_can_be_forced(forced, phrase):
    with pytest.raises(ConfigError, match=phrase):
        Network((784, 12, 8, 10), "relu", "softmax", "ce", forced=forced)
