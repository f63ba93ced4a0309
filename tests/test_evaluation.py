"""core.evaluation: the test set's answers after an epoch, built from constructed outputs."""
import numpy as np
import pytest

from core.evaluation import Evaluation
from core.metrics import confusion_matrix


def outputs(answers, confidences, k=10):
    """Output rows (N, k) whose argmax is ``answers`` with value ``confidences``, the rest lower."""
    n = len(answers)
    p = np.full((n, k), 0.01, dtype=np.float32)
    p[np.arange(n), answers] = confidences
    return p


LABELS = np.array([4, 4, 4, 9, 9, 1, 4, 7], dtype=np.uint8)
ANSWERS = np.array([4, 9, 9, 9, 4, 1, 9, 1])
SURE = np.array([0.9, 0.6, 0.8, 0.7, 0.95, 0.5, 0.8, 0.3], dtype=np.float32)


@pytest.fixture
def ev():
    return Evaluation.of(outputs(ANSWERS, SURE), LABELS, epoch=3)


def test_counts_are_the_confusion_matrix_and_add_up_to_n(ev):
    """counts[i, j] = images of digit i predicted as j, rows true; they add up to N."""
    assert ev.counts.shape == (10, 10)
    assert ev.counts.sum() == len(LABELS)
    assert ev.counts[4, 9] == 3 and ev.counts[4, 4] == 1 and ev.counts[9, 4] == 1 and ev.counts[7, 1] == 1
    np.testing.assert_array_equal(ev.counts, confusion_matrix(LABELS, ANSWERS))


def test_fields_are_read_only_copies(ev):
    """Labels, predictions and confidence as documented; every array read-only, none shared."""
    labels = LABELS.copy()
    e = Evaluation.of(outputs(ANSWERS, SURE), labels)
    labels[0] = 0
    assert e.labels[0] == 4
    np.testing.assert_array_equal(ev.predicted, ANSWERS)
    np.testing.assert_array_equal(ev.confidence, SURE)
    assert ev.labels.dtype == np.uint8 and ev.confidence.dtype == np.float32 and ev.epoch == 3
    for a in (ev.labels, ev.predicted, ev.confidence, ev.counts):
        assert not a.flags.writeable


def test_accuracy_and_per_digit_accuracy(ev):
    """Accuracy is the fraction right; per digit, the recall of each true digit (0 with none)."""
    assert ev.accuracy == pytest.approx(3 / 8)
    expected = np.zeros(10)
    expected[4], expected[9], expected[1], expected[7] = 1 / 4, 1 / 2, 1.0, 0.0
    np.testing.assert_allclose(ev.per_digit_accuracy, expected)


def test_precision_and_recall_by_hand(ev):
    """Counted from LABELS and ANSWERS by hand. Answered 4: images 0 (a 4) and 4 (a 9) -> 1/2;
    answered 9: images 1, 2, 6 (4s) and 3 (a 9) -> 1/4; answered 1: images 5 (a 1) and 7 (a 7)
    -> 1/2. Of the 4s, image 0 of 0, 1, 2, 6 -> 1/4; of the 9s, 3 of 3, 4 -> 1/2; the 1 -> 1;
    the 7 -> 0. A digit never answered has no precision, one never shown no recall (NaN)."""
    nan = np.nan
    precision = [nan, 1 / 2, nan, nan, 1 / 2, nan, nan, nan, nan, 1 / 4]
    recall = [nan, 1.0, nan, nan, 1 / 4, nan, nan, 0.0, nan, 1 / 2]
    np.testing.assert_allclose(ev.precision, precision)  # NaNs compare equal
    np.testing.assert_allclose(ev.recall, recall)


def test_cell_is_most_confident_first_ties_in_index_order(ev):
    """cell(4, 9): images 1, 2, 6 (confidence 0.6, 0.8, 0.8) -> 2, 6, 1; an empty cell is empty."""
    np.testing.assert_array_equal(ev.cell(4, 9), [2, 6, 1])
    np.testing.assert_array_equal(ev.cell(4, 4), [0])
    assert len(ev.cell(0, 3)) == 0
    with pytest.raises(ValueError, match="0 to 9, got \\(10, 0\\)"):
        ev.cell(10, 0)


def test_mistakes_are_most_confident_wrong_answer_first(ev):
    """Every wrong prediction, ordered by the confidence in the wrong answer."""
    np.testing.assert_array_equal(ev.mistakes(), [4, 2, 6, 1, 7])


def test_samples_are_clipped_to_the_test_set(ev):
    np.testing.assert_array_equal(ev.samples(0, 3), [0, 1, 2])
    np.testing.assert_array_equal(ev.samples(6, 32), [6, 7])
    assert len(ev.samples(20, 5)) == 0


def test_bad_inputs_are_named():
    p = outputs(ANSWERS, SURE)
    with pytest.raises(ValueError, match="8 rows of probabilities but labels of shape \\(7,\\)"):
        Evaluation.of(p, LABELS[:7])
    with pytest.raises(ValueError, match="must be \\(N, classes\\)"):
        Evaluation.of(p[0], LABELS)
    with pytest.raises(ValueError, match="labels must be 0 to 9, got 1 to 12"):
        Evaluation.of(p, np.where(LABELS == 9, 12, LABELS))


def test_empty_test_set():
    e = Evaluation.of(np.zeros((0, 10), dtype=np.float32), np.zeros(0, dtype=np.uint8))
    assert e.accuracy == 0.0 and e.counts.sum() == 0 and len(e.mistakes()) == 0


def test_ten_thousand_images_match_the_metrics():
    """On the size of MNIST's test set, counts equal core.metrics.confusion_matrix."""
    rng = np.random.default_rng(0)
    p = rng.random((10_000, 10), dtype=np.float32)
    y = rng.integers(0, 10, 10_000).astype(np.uint8)
    e = Evaluation.of(p, y)
    np.testing.assert_array_equal(e.counts, confusion_matrix(y, p.argmax(axis=1)))
    assert np.all(np.diff(e.confidence[e.mistakes()]) <= 0)
