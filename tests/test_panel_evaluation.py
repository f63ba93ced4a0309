"""EvaluationPanel: the confusion matrix, the accuracy per digit and the gallery of test digits,
fed with synthetic evaluations; no training."""
import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetricsF

from app import theme
from app.panels.evaluation import (
    COUNT_MIN_PX,
    GALLERY_MAX,
    THUMBNAIL_MIN_PX,
    TILE_HEIGHT,
    EvaluationPanel,
    gallery_grid,
)
from core.evaluation import Evaluation
from tests.qt_helpers import click_pixel

N = 300
STEP_X, STEP_Y = 29, TILE_HEIGHT + 1  # a thumbnail and its gap, across and down


def images(n=N, seed=0):
    x = np.random.default_rng(seed).random((n, 784), dtype=np.float32)
    x.flags.writeable = False
    return x


def evaluation(seed=0, epoch=1, n=N):
    """About 70% right; the wrong answers mostly 4 -> 9 and 3 -> 5, confidences all different."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    answers = labels.copy()
    wrong = rng.random(n) < 0.3
    answers[wrong] = rng.integers(0, 10, wrong.sum())
    answers[(labels == 4) & (rng.random(n) < 0.6)] = 9
    p = rng.random((n, 10), dtype=np.float32) * 0.5
    p[np.arange(n), answers] = 0.5 + 0.5 * rng.random(n, dtype=np.float32)
    return Evaluation.of(p, labels, epoch)


@pytest.fixture
def panel(qtbot):
    theme.configure()
    p = EvaluationPanel()
    qtbot.addWidget(p)
    p.set_images(images())
    return p


@pytest.fixture
def shown(panel, qtbot):
    """On an (offscreen) screen at the size of its dock, with an evaluation."""
    panel.resize(900, 420)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_evaluation(evaluation())
    return panel


def shown_counts(panel):
    return panel.counts_item.texts()


def test_counts_written_in_the_cells_are_the_matrix(panel):
    """Cell (i, j) of the heatmap says counts[i, j]; the right and wrong images hold the
    diagonal and the rest, NaN elsewhere."""
    ev = evaluation()
    panel.show_evaluation(ev)
    assert shown_counts(panel) == [[str(c) for c in row] for row in ev.counts]
    right, wrong = panel.right_image.image, panel.matrix_image.image
    np.testing.assert_array_equal(np.diag(right), np.diag(ev.counts))
    assert np.isnan(np.diag(wrong)).all() and np.isnan(right[0, 1])
    assert wrong[4, 9] == ev.counts[4, 9]


def test_recall_beside_the_rows_and_precision_under_the_columns(panel):
    """The recall column is the diagonal over each row's sum, the precision row the diagonal
    over each column's sum (computed here from the counts), written as percentages."""
    ev = evaluation()
    panel.show_evaluation(ev)
    counts = ev.counts.astype(float)
    recall = np.diag(counts) / counts.sum(axis=1)
    precision = np.diag(counts) / counts.sum(axis=0)
    np.testing.assert_allclose(panel.recall_image.image[:, 0], recall)
    np.testing.assert_allclose(panel.precision_image.image[0, :], precision)
    assert panel.counts_item.rates() == ([f"{100 * r:.1f}" for r in recall],
                                         [f"{100 * p:.1f}" for p in precision])


def test_a_digit_never_answered_has_no_precision(panel):
    """Precision of an answer never given is undefined: a dash, not 0."""
    labels = np.arange(N) % 10
    p = np.zeros((N, 10), dtype=np.float32)
    p[np.arange(N), np.where(labels == 3, 5, labels)] = 1.0  # every 3 read as 5: never a 3
    panel.show_evaluation(Evaluation.of(p, labels, 1))
    recall, precision = panel.counts_item.rates()
    assert precision[3] == "–" and recall[3] == "0.0" and recall[5] == "100"


def laid_out(qtbot, panel, size):
    """Shown at this size, once the matrix has taken the width its height needs (a layout
    pass after the first) and the gallery its grid."""
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.matrix_view.width() == panel.matrix_view.wanted, timeout=2000)


def thousands(n_right=9999):
    """An evaluation with n_right right answers of every digit and a few confusions."""
    labels = np.repeat(np.arange(10), n_right + 3)
    answers = labels.copy()
    wrong = np.arange(len(labels)) % (n_right + 3) >= n_right  # the last three of each digit
    answers[wrong] = (labels[wrong] + 1) % 10
    p = np.zeros((len(labels), 10), dtype=np.float32)
    p[np.arange(len(labels)), answers] = 1.0
    return Evaluation.of(p, labels, 1)


@pytest.mark.parametrize("size", [(704, 370), (1000, 500)])
def test_four_digit_counts_fit_their_cells(qtbot, size):
    """At the dock's size of the window's first start (1600x1000 screens: about 704x370) and
    larger, counts of 9999 are written, each narrower than its cell on screen, measured with the
    font they are painted in, so no count runs into its neighbour."""
    theme.configure()
    panel = EvaluationPanel()
    qtbot.addWidget(panel)
    laid_out(qtbot, panel, size)
    ev = thousands()
    panel.show_evaluation(ev)
    assert panel.counts_item.texts()[4][4] == "9999"
    cell = panel.cell_px()
    px = panel.counts_item.font_px(cell)
    assert px >= COUNT_MIN_PX  # drawn
    metrics = QFontMetricsF(panel.counts_item.font(px))
    widest = max([t for row in panel.counts_item.texts() for t in row]
                 + [t for rates in panel.counts_item.rates() for t in rates], key=metrics.horizontalAdvance)
    assert widest == "9999"
    assert metrics.horizontalAdvance("9999") < cell


def test_the_axes_have_names_and_digits_but_no_tick_marks(panel):
    """No tick marks beside the first column or under the last row (one read as a minus sign,
    "-15"); the digits, and the rates' names, are the labels."""
    plot = panel.matrix_plot
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        assert axis.style["tickLength"] == 0 and axis.style["tickAlpha"] == 0
        labels = [label for _, label in axis._tickLevels[0]]
        assert labels[:10] == [str(d) for d in range(10)]
    assert plot.getAxis("left")._tickLevels[0][10][1] == "precision"
    assert plot.getAxis("right").labelText == "recall"


@pytest.mark.parametrize("size", [(563, 270), (704, 370), (1000, 500)])
def test_thumbnails_are_at_least_40_px_with_their_captions(qtbot, size):
    """At the dock's size on a 1280x720 screen and larger, each thumbnail is at least
    THUMBNAIL_MIN_PX wide on screen, and its captions are shown, no wider than it."""
    theme.configure()
    panel = EvaluationPanel()
    qtbot.addWidget(panel)
    panel.set_images(images())
    laid_out(qtbot, panel, size)
    panel.show_evaluation(evaluation())
    panel.set_mode("mistakes")
    view, image = panel.gallery_view, panel.gallery_image
    on_screen = view.mapFromScene(image.mapToScene(QRectF(0, 0, 28, 28))).boundingRect()
    assert on_screen.width() >= THUMBNAIL_MIN_PX
    k = len(panel.gallery_indices)
    assert k == min(panel.gallery_capacity, len(panel.evaluation.mistakes())) and k >= 12
    for caption in panel.thumbnail_captions[:k] + panel.confidence_captions[:k]:
        assert caption.isVisible() and caption.toPlainText()
        width = view.mapFromScene(caption.sceneBoundingRect()).boundingRect().width()
        assert width <= on_screen.width()
    assert not panel.thumbnail_captions[k].isVisible() if k < GALLERY_MAX else True


def test_the_gallery_grid_holds_every_thumbnail_if_they_fit_and_as_many_as_fit_if_not():
    """48 thumbnails in a large view, as large as they go; in a small one, only those that fit
    at 40 px (a 28 x 48-pixel tile: 1.43 screen pixels a pixel, 41.4 x 70 with its gap)."""
    columns, rows = gallery_grid(1000, 1000)
    assert columns * rows >= GALLERY_MAX
    assert gallery_grid(100, 100) == (2, 1)
    assert gallery_grid(10, 10) == (1, 1)
    assert gallery_grid(300, 300) == (7, 4)


@pytest.mark.parametrize("cell", [(4, 9), (3, 3), (0, 7)])
def test_clicking_a_cell_shows_exactly_its_digits(shown, qtbot, cell):
    """A click on cell (i, j) selects it, outlines it, and fills the gallery with cell(i, j)."""
    i, j = cell
    ev = shown.evaluation
    click_pixel(qtbot, shown.matrix_view, shown.matrix_image, j + 0.5, i + 0.5)
    assert shown.selected_cell == (i, j) and shown.mode == "cell"
    np.testing.assert_array_equal(shown.gallery_indices, ev.cell(i, j)[:shown.gallery_capacity])
    assert shown.matrix_image.outline.isVisible()
    n = len(ev.cell(i, j))
    assert shown.gallery_caption.text().startswith(f"true {i}, predicted {j}: {n} image")


def test_clicking_a_thumbnail_chooses_its_test_digit(shown, qtbot):
    """A click on thumbnail k (row-major in a grid GALLERY_COLUMNS wide) emits its test index."""
    shown.set_mode("mistakes")
    k = shown.gallery_columns + 3  # second row, fourth column
    expected = int(shown.gallery_indices[k])
    with qtbot.waitSignal(shown.digit_chosen, timeout=1000) as signal:
        click_pixel(qtbot, shown.gallery_view, shown.gallery_image, 3 * STEP_X + 14, STEP_Y + 14)
    assert signal.args == [expected]


def test_mistakes_mode_is_the_surest_wrong_answers_first(panel):
    """Mistakes: every shown digit is wrong, in the order of Evaluation.mistakes, each framed
    and captioned true→predicted with the confidence."""
    ev = evaluation()
    panel.show_evaluation(ev)
    panel.set_mode("mistakes")
    indices = panel.gallery_indices
    np.testing.assert_array_equal(indices, ev.mistakes()[:panel.gallery_capacity])
    assert np.all(np.diff(ev.confidence[indices]) <= 0)
    first = indices[0]
    assert panel.thumbnail_captions[0].toPlainText() == f"{ev.labels[first]}→{ev.predicted[first]}"
    assert panel.confidence_captions[0].toPlainText() == f"{ev.confidence[first]:.0%}"


def test_samples_mode_marks_the_mistakes(panel):
    """Samples: the first test digits; a right one is captioned with its digit, a wrong one
    true→predicted with a red frame."""
    ev = evaluation()
    panel.show_evaluation(ev)
    panel.set_mode("samples")
    np.testing.assert_array_equal(panel.gallery_indices, np.arange(panel.gallery_capacity))
    for k in range(panel.gallery_capacity):
        true, predicted = ev.labels[k], ev.predicted[k]
        caption = panel.thumbnail_captions[k].toPlainText()
        assert caption == (str(true) if true == predicted else f"{true}→{predicted}")
        assert panel._mistake_frames[k].isVisible() == (true != predicted)


def test_gallery_image_is_the_tiled_thumbnails(panel):
    """The gallery is one image: thumbnail k is x_test[gallery_indices[k]] as 28x28."""
    panel.show_evaluation(evaluation())
    panel.set_mode("mistakes")
    x, k = images(), 5
    index = panel.gallery_indices[k]
    np.testing.assert_array_equal(panel.gallery_image.image[:28, k * STEP_X:k * STEP_X + 28],
                                  x[index].reshape(28, 28))


def test_a_new_evaluation_keeps_the_mode_and_the_cell(panel):
    """After the next epoch the cell stays selected and the gallery shows its new digits."""
    panel.show_evaluation(evaluation(seed=0, epoch=1))
    panel.select_cell(4, 9)
    later = evaluation(seed=1, epoch=2)
    panel.show_evaluation(later)
    assert panel.mode == "cell" and panel.selected_cell == (4, 9)
    np.testing.assert_array_equal(panel.gallery_indices, later.cell(4, 9)[:panel.gallery_capacity])
    assert shown_counts(panel) == [[str(c) for c in row] for row in later.counts]
    panel.set_mode("mistakes")
    panel.show_evaluation(evaluation(seed=2, epoch=3))
    assert panel.mode == "mistakes" and panel.selected_cell == (4, 9)


def test_items_are_created_once(panel):
    """Evaluations only feed the items: the scenes hold as many items after ten as after one."""
    panel.show_evaluation(evaluation(seed=0))
    scenes = (panel.matrix_view.scene(), panel.gallery_view.scene())
    before = [len(s.items()) for s in scenes]
    for seed in range(1, 11):
        panel.show_evaluation(evaluation(seed=seed))
        panel.set_mode(("samples", "mistakes", "cell")[seed % 3])
    assert [len(s.items()) for s in scenes] == before


def test_clear_forgets_the_evaluation_and_the_cell(panel):
    panel.show_evaluation(evaluation())
    panel.select_cell(4, 9)
    panel.clear()
    assert panel.evaluation is None and panel.selected_cell is None
    assert len(panel.gallery_indices) == 0
    assert shown_counts(panel) == [[""] * 10] * 10
    assert not panel.matrix_image.outline.isVisible()


def test_cell_mode_without_a_cell_asks_for_a_click(panel):
    panel.show_evaluation(evaluation())
    panel.set_mode("cell")
    assert len(panel.gallery_indices) == 0
    assert "click a cell" in panel.gallery_caption.text()


def test_an_evaluation_of_other_images_is_refused(panel):
    with pytest.raises(ValueError, match="evaluation is of 50 test digits, the panel has 300"):
        panel.show_evaluation(evaluation(n=50))
