"""The optimisers take the same steps as Keras's, on the same parameters and gradients."""
import numpy as np
import pytest

from core.optim import make_optimizer

STEPS = 4


def random_problem(seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(3,)).astype(np.float32)]
    grads = [[rng.normal(size=p.shape).astype(np.float32) for p in params] for _ in range(STEPS)]
    return params, grads


def ours(name, params, grads, lr, weight_decay=0.0):
    params = [p.copy() for p in params]
    optimizer = make_optimizer(name, weight_decay=weight_decay, momentum=0.9)
    for step in grads:
        optimizer.step(params, [g.copy() for g in step], lr, decay=[True, False])
    return params


def keras(name, params, grads, lr):
    import tensorflow as tf  # the independent oracle; imported only here

    optimizer = {"sgd": lambda: tf.keras.optimizers.SGD(lr),
                 "momentum": lambda: tf.keras.optimizers.SGD(lr, momentum=0.9),
                 "adam": lambda: tf.keras.optimizers.Adam(lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7)}[name]()
    variables = [tf.Variable(p) for p in params]
    for step in grads:
        optimizer.apply_gradients(zip([tf.constant(g) for g in step], variables))
    return [v.numpy() for v in variables]


@pytest.mark.parametrize("name,lr", [("sgd", 0.5), ("momentum", 0.1), ("adam", 0.01)])
def test_steps_match_keras(name, lr):
    params, grads = random_problem()
    for mine, theirs in zip(ours(name, params, grads, lr), keras(name, params, grads, lr)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_weight_decay_adds_lambda_w_to_the_weights_gradient_only(name):
    params, grads = random_problem(seed=1)
    lam, first = 0.1, grads[0]
    decayed = [first[0] + lam * params[0], first[1]]  # the biases (index 1) are not decayed
    got = ours(name, params, [first], 0.1, weight_decay=lam)
    want = ours(name, params, [decayed], 0.1)
    for mine, theirs in zip(got, want):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)
    assert not np.allclose(got[0], ours(name, params, [first], 0.1)[0])
