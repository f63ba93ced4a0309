"""Probes followed over training, and drawings taught to the network."""
import numpy as np
import pytest

from core.config import preset
from core.errors import ModelFileError
from core.history import History, record
from core.model_io import load_run, save_model
from core.probes import (COPIES, DEFAULT_PROBES, MAX_PROBES, Probe, Timeline, default_probes,
                         probe_outputs, settled, taught_set, teaching_copies)
from core.train import Trainer


def _trained(data, config, probes=(), taught=()):
    trainer = Trainer(data, config)
    history = History(config.architecture, data.y_test)
    history.probes, history.taught = tuple(probes), tuple(taught)
    for _ in record(trainer, history):
        pass
    return trainer, history


def test_the_default_probes_are_twelve_fixed_test_digits(mnist):
    probes = default_probes(mnist.x_test, mnist.y_test)
    assert len(probes) == MAX_PROBES == len(set(DEFAULT_PROBES))
    assert [p.label for p in probes] == [int(mnist.y_test[i]) for i in DEFAULT_PROBES]
    np.testing.assert_array_equal(probes[7].image, mnist.x_test[DEFAULT_PROBES[7]])
    assert len(default_probes(mnist.x_test[:100], mnist.y_test[:100])) == 7  # those it holds


def test_a_timeline_is_what_each_snapshot_answers(small_mnist):
    """The outputs the timeline gives for every moment equal a forward pass of that moment's
    weights, recomputed here; a moment added later costs only itself."""
    probes = default_probes(small_mnist.x_test, small_mnist.y_test)
    config = preset("fast").replace(epochs=2, batch_size=100)
    trainer, history = _trained(small_mnist, config)
    timeline = Timeline(probes)
    outputs = timeline.outputs(history)
    assert outputs.shape == (len(history), len(probes), 10)
    x = np.stack([p.image for p in probes])
    for i in range(len(history)):
        expected = history.snapshot(i).network().predict_proba(x)
        np.testing.assert_allclose(outputs[i], expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(outputs[-1], probe_outputs(trainer.snapshot(), x), atol=2e-3)  # float16
    computed = {step: row for step, row in timeline._rows.items()}
    trainer.extend(config.replace(epochs=1))
    for _ in record(trainer, history):  # one more epoch: one more moment
        pass
    assert timeline.outputs(history).shape[0] == len(history) == len(computed) + 1
    assert all(timeline._rows[step] is row for step, row in computed.items())  # not made again


def test_settled_is_where_a_probe_became_and_stayed_right():
    labels = np.array([3, 3, 3, 3, -1])
    predicted = np.array([[0, 3, 0, 1, 3],
                          [3, 3, 3, 1, 3],
                          [0, 3, 3, 1, 3],
                          [3, 3, 3, 3, 3]])
    np.testing.assert_array_equal(settled(predicted, labels), [3, 0, 1, 3, -1])
    np.testing.assert_array_equal(settled(predicted[:3], labels), [-1, 0, 1, -1, -1])
    np.testing.assert_array_equal(settled(np.empty((0, 5), int), labels), [-1] * 5)


def test_probes_taught_drawings_and_initial_weights_round_trip(small_mnist, tmp_path):
    probes = default_probes(small_mnist.x_test, small_mnist.y_test)[:5] + (
        Probe.of(np.full(784, 0.5), -1, "drawing"),)
    taught = (Probe.of(small_mnist.x_test[0], 5, "drawing taught as 5"),)
    config = preset("classic").replace(epochs=1)
    trainer, history = _trained(small_mnist.limit(300, 100), config, probes, taught)
    path = tmp_path / "run.npz"
    save_model(path, trainer.net, {"config": config.as_dict()}, history)
    _, _, again = load_run(path)
    assert [(p.label, p.name) for p in again.probes] == [(p.label, p.name) for p in probes]
    for p, q in zip(probes + taught, again.probes + again.taught):
        np.testing.assert_array_equal(p.image, q.image)
    assert [p.label for p in again.taught] == [5]
    for w, v in zip(history.initial.W + history.initial.b, again.initial.W + again.initial.b):
        assert w.tobytes() == v.tobytes()


@pytest.mark.parametrize("key, value, words", [
    ("history_probe_images", np.full((2, 784), 2.0, np.float32), "outside 0 to 1"),
    ("history_probe_images", np.zeros((13, 784), np.float32), "1 to 12 images"),
    ("history_probe_labels", np.array([11, 0]), "classes from -1 to 9"),
    ("history_probe_names", np.array(["a"]), "name its 2 probes"),
    ("history_taught_labels", np.array([-1]), "classes from 0 to 9"),
    ("history_initial_W0", np.full((784, 20), np.nan, np.float32), "NaN"),
    ("history_initial_b1", None, "lacks history_initial_b1"),
])
def test_damaged_probes_or_initial_weights_refuse_the_file(small_mnist, tmp_path, key, value, words):
    probes = default_probes(small_mnist.x_test, small_mnist.y_test)[:2]
    taught = (Probe.of(small_mnist.x_test[0], 5, "drawing taught as 5"),)
    config = preset("classic").replace(epochs=1)
    trainer, history = _trained(small_mnist.limit(100, 50), config, probes, taught)
    arrays = {**{f"W{l}": w for l, w in enumerate(trainer.net.W)},
              **{f"b{l}": v for l, v in enumerate(trainer.net.b)}, **history.to_arrays()}
    if value is None:
        del arrays[key]
    else:
        arrays[key] = value
    with pytest.raises(ModelFileError, match=words):
        History.from_arrays(arrays, config.architecture, "model 'x.npz'")


def test_teaching_copies_are_the_drawing_moved_a_little(mnist):
    image = mnist.x_test[0]
    copies = teaching_copies(image, np.random.default_rng(0))
    assert copies.shape == (COPIES + 1, 784) and copies.dtype == np.float32
    np.testing.assert_array_equal(copies[0], image)
    assert all(not np.array_equal(c, image) for c in copies[1:])
    ink = image.sum()
    assert all(abs(c.sum() - ink) < 0.25 * ink for c in copies[1:])  # still the same stroke
    x1, y1 = taught_set((Probe.of(image, 7, "a"),), seed=3)
    x2, _ = taught_set((Probe.of(image, 7, "a"),), seed=3)
    np.testing.assert_array_equal(x1, x2)
    assert list(y1) == [7] * (COPIES + 1)


def test_a_taught_drawing_is_read_better_after_a_short_training(mnist):
    """A test 7 taught as a 1 (a label it plainly is not) is read as a 1 after half an epoch of
    training on 5,000 images, and its probability of 1 rises far above an untaught run's."""
    data = mnist.limit(5000, 500)
    image = mnist.x_test[0]  # a 7
    config = preset("fast").replace(epochs=1)
    runs = {}
    for teach in (False, True):
        trainer = Trainer(data, config)
        if teach:
            trainer.teach(*taught_set((Probe.of(image, 1, "drawing"),)))
        for report in trainer.run():
            if getattr(report, "batch", 0) == 20:
                break
        runs[teach] = trainer.net.predict_proba(image[np.newaxis])[0]
    assert runs[False].argmax() == 7 and runs[False][1] < 0.05
    assert runs[True].argmax() == 1 and runs[True][1] > 0.5


def test_the_taught_images_go_to_the_child_and_back(small_mnist):
    """Trainer.state carries the taught images; restore takes them and refuses bad ones."""
    config = preset("fast").replace(epochs=1, batch_size=100)
    trainer = Trainer(small_mnist, config)
    trainer.teach(*taught_set((Probe.of(small_mnist.x_test[0], 4, "d"),)))
    fields, arrays = trainer.state()
    other = Trainer.from_state(small_mnist, fields, arrays)
    np.testing.assert_array_equal(other.taught[0], trainer.taught[0])
    assert other.taught_per_batch == 100 // 16
    with pytest.raises(ValueError, match="taught images"):
        Trainer.from_state(small_mnist, fields, {**arrays, "taught_y": np.full(9, 12, np.uint8)})
    for t in (trainer, other):
        for report in t.run():
            if report.step == 3:
                break
    for w1, w2 in zip(trainer.net.W, other.net.W):
        assert w1.tobytes() == w2.tobytes()
