"""core.projection: PCA of a layer's activations, one frame across moments, the fixed sample.
Oracles: NumPy's SVD of the centred data, activations written out with explicit formulas."""
import numpy as np
import pytest

from core.network import Network
from core.projection import (
    Frame,
    LayerMap,
    aligned,
    layer_activations,
    principal_axes,
    sample,
)

SIZES = (784, 24, 16, 10)


def anisotropic(n=500, d=12, seed=0):
    """Rows with clearly separated variances along random directions (no ties between the
    second and third), shifted off the origin so centring matters."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.normal(size=(d, d)))
    scales = np.linspace(6.0, 0.5, d)
    return (rng.normal(size=(n, d)) * scales) @ basis.T + rng.normal(size=d) * 5


def svd_axes(a):
    """The oracle: the first two right singular vectors of the centred data."""
    _, _, Vt = np.linalg.svd(np.asarray(a, np.float64) - np.asarray(a, np.float64).mean(axis=0),
                             full_matrices=False)
    return Vt[:2].T


def test_principal_axes_match_the_svd_of_the_centred_data_up_to_sign():
    for a in (anisotropic(), anisotropic(seed=1).astype(np.float32)):
        V, oracle = principal_axes(a), svd_axes(a)
        assert V.shape == (a.shape[1], 2)
        np.testing.assert_allclose(np.abs(np.sum(V * oracle, axis=0)), 1.0, atol=1e-5)
        centred = a - a.mean(axis=0)
        y, y_oracle = centred @ V, centred @ oracle
        signs = np.sign(np.sum(y * y_oracle, axis=0))
        np.testing.assert_allclose(y, y_oracle * signs, rtol=1e-4, atol=1e-3)


def test_principal_axes_of_real_activations_match_the_svd(fast_net, mnist):
    """'fast''s first layer (n = 256) on 2,000 test digits, float32 throughout."""
    a = layer_activations(fast_net, mnist.x_test[:2000], 1)
    V, oracle = principal_axes(a), svd_axes(a)
    np.testing.assert_allclose(np.abs(np.sum(V * oracle, axis=0)), 1.0, atol=1e-4)


def test_each_axis_points_where_its_loadings_sum_positive():
    V = principal_axes(-anisotropic())
    assert (V.sum(axis=0) > 0).all()
    np.testing.assert_allclose(V.T @ V, np.eye(2), atol=1e-10)


def test_alignment_undoes_a_sign_flip_and_a_turn_of_the_axes():
    a = anisotropic()
    V = principal_axes(a)
    for change in (np.diag([-1.0, 1.0]), np.diag([1.0, -1.0]), -np.eye(2),
                   np.array([[0.6, -0.8], [0.8, 0.6]]), np.array([[0.0, 1.0], [1.0, 0.0]])):
        np.testing.assert_allclose(aligned(V @ change, V, a), V, atol=1e-10)


def test_a_new_frame_does_not_flip_the_picture_whatever_signs_eigh_returns(monkeypatch):
    """Refitting on data whose own axes come out with other signs (or swapped) gives the same
    frame: it is turned to what the old axes showed."""
    import core.projection as projection
    old = Frame.fitted_on(anisotropic(), layer=1, step=0)
    new = anisotropic(seed=3)  # other data: the old axes show too little of it
    refit = old.refreshed(new, step=10)
    assert (refit.step, refit.fitted) == (10, 10)
    plain = projection.principal_axes
    for change in (np.diag([-1.0, 1.0]), -np.eye(2), np.array([[0.0, 1.0], [1.0, 0.0]])):
        monkeypatch.setattr(projection, "principal_axes", lambda a, k=2: plain(a, k) @ change)
        np.testing.assert_allclose(old.refreshed(new, step=10).axes, refit.axes, atol=1e-10)


def test_a_frame_is_kept_while_it_shows_most_of_the_variance():
    a = anisotropic()
    frame = Frame.fitted_on(a, layer=1, step=0)
    nearby = a + np.random.default_rng(9).normal(scale=0.05, size=a.shape)
    kept = frame.refreshed(nearby, step=5)
    assert (kept.step, kept.fitted) == (5, 0) and kept.axes is frame.axes


def relu_forward(net, x):
    """The oracle for layer_activations: the layers written out, in float64."""
    a = [np.asarray(x, np.float64)]
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        z = a[-1] @ W.astype(np.float64) + b
        if l < len(net.W) - 1:
            a.append(np.maximum(z, 0.0))
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a.append(e / e.sum(axis=1, keepdims=True))
    return a


def test_layer_activations_are_the_layers_of_the_forward_pass():
    net = Network.initialised(SIZES, "relu", "softmax", "ce", seed=0)
    x = np.random.default_rng(0).random((50, 784), dtype=np.float32)
    oracle = relu_forward(net, x)
    for layer in range(0, 4):
        np.testing.assert_allclose(layer_activations(net, x, layer), oracle[layer], rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="layer must be 0 to 3, got 4"):
        layer_activations(net, x, 4)


def test_sample_takes_as_many_of_each_class_from_the_whole_set(mnist):
    labels = mnist.y_test
    idx = sample(labels)
    assert len(idx) == 2000 and (np.diff(idx) > 0).all()
    assert np.bincount(labels[idx], minlength=10).tolist() == [200] * 10
    assert idx.max() > 5000  # from the second half too, not the first 2,000
    np.testing.assert_array_equal(idx, sample(labels))  # the same every time


def test_a_small_class_gives_all_it_has_and_the_others_share_the_rest():
    labels = np.array([0] * 3 + [1] * 50 + [2] * 50)
    idx = sample(labels, n=33)
    assert len(idx) == 33 and len(set(idx)) == 33
    assert np.bincount(labels[idx]).tolist() == [3, 15, 15]
    np.testing.assert_array_equal(sample(labels, n=200), np.arange(103))  # all when fewer


def interpolated(a, b, t):
    """A network on the straight line between two of the same architecture."""
    W = [(1 - t) * u + t * v for u, v in zip(a.W, b.W)]
    bs = [(1 - t) * u + t * v for u, v in zip(a.b, b.b)]
    return Network(a.sizes, a.hidden.name, a.output.name, a.loss.name, W, bs)


def test_pictures_move_little_when_the_weights_move_little():
    """Twenty small steps between two networks: each picture differs from the one before by a
    small fraction of its radius, in whichever order the moments are shown, and showing a moment
    again gives the same picture."""
    x = np.random.default_rng(1).random((400, 784), dtype=np.float32)
    start = Network.initialised(SIZES, "relu", "softmax", "ce", seed=0)
    end = Network.initialised(SIZES, "relu", "softmax", "ce", seed=1)
    nets = [interpolated(start, end, t) for t in np.linspace(0.0, 0.2, 21)]
    layers = LayerMap(x)
    live = [layers.picture(net, step, 2).points for step, net in enumerate(nets)]
    steps = [np.sqrt(np.mean(np.sum((q - p) ** 2, axis=1))) for p, q in zip(live, live[1:])]
    # a flipped axis would move the points by about 1.4 (sqrt 2 times the radius)
    assert max(steps) < 0.2, steps
    back = [layers.picture(net, step, 2).points for step, net in reversed(list(enumerate(nets)))][::-1]
    again = [layers.picture(net, step, 2).points for step, net in enumerate(nets)]
    np.testing.assert_array_equal(back, again)  # after the newest, the path does not matter


def test_earlier_moments_are_drawn_in_the_axes_of_the_most_trained():
    x = anisotropic(n=300, d=784, seed=2).astype(np.float32) * 0.01 + 0.5
    early = Network.initialised(SIZES, "relu", "softmax", "ce", seed=0)
    late = Network.initialised(SIZES, "relu", "softmax", "ce", seed=5)
    layers = LayerMap(x)
    layers.picture(late, 100, 1)
    p = layers.picture(early, 0, 1)
    assert (p.step, p.axes_step) == (0, 100) and layers.reference_step == 100
    a = layer_activations(early, x, 1)
    oracle_axes = svd_axes(layer_activations(late, x, 1))
    y = (a - a.mean(axis=0)) @ oracle_axes
    y /= np.sqrt(np.mean(np.sum(y ** 2, axis=1)))
    R, *_ = np.linalg.lstsq(y, p.points.astype(np.float64), rcond=None)  # up to a turn or mirror
    np.testing.assert_allclose(R.T @ R, np.eye(2), atol=1e-3)
    np.testing.assert_allclose(y @ R, p.points, atol=2e-3)
    np.testing.assert_allclose(p.place(a[:5]), p.points[:5], atol=1e-5)
    layers.forget()
    assert layers.picture(early, 0, 1).axes_step == 0


def test_activations_that_overflowed_give_a_picture_marked_not_finite():
    net = Network.initialised(SIZES, "relu", "softmax", "ce", seed=0)
    net.W[0][:] = np.float32(3e38)
    p = LayerMap(np.ones((20, 784), np.float32)).picture(net, 0, 1)
    assert not p.finite and np.isnan(p.points).all()


def test_a_diverging_network_keeps_the_last_frame_instead_of_failing(mnist):
    """Activations finite but near float32's limit (a network about to diverge) overflow the
    scatter matrix, where NumPy's eigen-decomposition fails: the map keeps its axes."""
    from core.config import TrainConfig
    from core.projection import LayerMap
    from core.train import Trainer
    data = mnist.limit(500, 500)
    net = Trainer(data, TrainConfig(sizes=(784, 16, 10), hidden="relu", output="softmax", loss="ce")).net
    layer_map = LayerMap(data.x_test)
    before = layer_map.picture(net, 0, 1)
    net.W[0][...] = 1e18
    after = layer_map.picture(net, 5, 1)
    assert after is not None and before is not None
