"""The weights panel: tiles, heatmaps, clicks and the selection, fed with synthetic snapshots."""
import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF
from shiboken6 import isValid

from app import theme
from app.panels.weights import WeightsPanel
from core.network import Network
from core.train import Snapshot
from tests.qt_helpers import click_pixel, move_mouse

CLASSIC = (784, 20, 20, 20, 10)
FAST = (784, 256, 128, 10)
STEP = 29  # a 28-pixel tile and its 1-pixel gap
OFFSCREEN_SHOW = "This plugin does not support propagateSizeHints"  # offscreen Qt, on show()


def snapshot(sizes=CLASSIC, seed=0):
    return Snapshot.of(Network.initialised(sizes, seed=seed))


@pytest.fixture
def panel(qtbot):
    theme.configure()
    panel = WeightsPanel()
    qtbot.addWidget(panel)
    return panel


@pytest.fixture
def shown(panel, qtbot):
    """The panel on (an offscreen) screen, showing the classic network."""
    panel.resize(900, 600)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_snapshot(snapshot())
    return panel


@pytest.mark.parametrize("sizes, rows, cols",
                         [(CLASSIC, 4, 5), (FAST, 16, 16), ((784, 10, 10), 3, 4)])
def test_grid_has_one_tile_per_first_layer_neuron(panel, sizes, rows, cols):
    """The first layer's n neurons are drawn as a near-square grid of 28x28 tiles, 1-pixel gaps."""
    snap = snapshot(sizes)
    panel.show_snapshot(snap)
    image = panel.grid_image.image
    assert image.shape == (rows * STEP - 1, cols * STEP - 1)
    np.testing.assert_array_equal(image[:28, STEP:STEP + 28], snap.W[0][:, 1].reshape(28, 28))
    assert np.isnan(image[28, :]).all()  # the gap below the first row of tiles


def test_levels_are_symmetric_about_zero(panel):
    """Every image's colour levels are (-m, m), m the largest |weight| of its matrix rounded up
    to a round number (less than 25% above it), and the colour bar shows the tile grid's."""
    snap = snapshot(FAST)
    panel.show_snapshot(snap)

    def assert_round_levels(levels, W):
        low, high = levels
        m = float(np.abs(W).max())
        assert low == -high and m <= high < 1.25 * m
        assert high / 10.0 ** np.floor(np.log10(high)) in theme.NICE

    assert_round_levels(panel.grid_image.getLevels(), snap.W[0])
    assert tuple(panel.colour_bar.levels()) == tuple(panel.grid_image.getLevels())
    for l, image in enumerate(panel.matrix_images, start=1):
        assert_round_levels(image.getLevels(), snap.W[l])


def test_deeper_matrices_are_drawn_as_they_are(panel):
    """W[1], W[2], ... are drawn unchanged, rows = the layer they read from, columns = the next."""
    snap = snapshot(CLASSIC)
    panel.show_snapshot(snap)
    assert len(panel.matrix_images) == 3
    for l, image in enumerate(panel.matrix_images, start=1):
        np.testing.assert_array_equal(image.image, snap.W[l])


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
@pytest.mark.parametrize("k", [0, 7, 19])
def test_clicking_a_tile_names_its_neuron(shown, qtbot, k):
    """A left click on tile k of the grid emits neuron_clicked(1, k)."""
    r, c = divmod(k, 5)
    with qtbot.waitSignal(shown.neuron_clicked, timeout=1000) as signal:
        click_pixel(qtbot, shown.graphics, shown.grid_image, c * STEP + 14, r * STEP + 14)
    assert signal.args == [1, k]


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_clicking_a_gap_names_no_neuron(shown, qtbot):
    """A click on the gap between two tiles emits nothing."""
    with qtbot.assertNotEmitted(shown.neuron_clicked, wait=100):
        click_pixel(qtbot, shown.graphics, shown.grid_image, STEP - 0.5, 10)


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_clicking_a_matrix_column_names_the_neuron_it_feeds(shown, qtbot):
    """A click on column j of W[l] (the incoming weights of neuron j of layer l+1) emits
    neuron_clicked(l + 1, j)."""
    image = shown.matrix_images[2]  # W[3]: 20 x 10, into the output layer 4
    with qtbot.waitSignal(shown.neuron_clicked, timeout=1000) as signal:
        click_pixel(qtbot, shown.graphics, image, 6.5, 12.5)
    assert signal.args == [4, 6]


def test_selection_outlines_a_tile_or_a_column(panel):
    """set_selection outlines tile k of layer 1, or column j of the matrix into a deeper layer;
    (None, None) hides the outline."""
    panel.show_snapshot(snapshot(CLASSIC))
    panel.set_selection(1, 7)  # row 1, column 2 of the 4x5 grid
    outline = panel.selected_outline
    assert outline.parentItem() is panel.grid_image
    assert outline.rect() == QRectF(2 * STEP - 0.5, 1 * STEP - 0.5, STEP, STEP)
    panel.set_selection(3, 4)
    outline = panel.selected_outline
    assert outline.parentItem() is panel.matrix_images[1]
    assert outline.rect() == QRectF(4, 0, 1, 20)
    panel.set_selection(None, None)
    assert panel.selected_outline is None


def test_selection_stays_as_snapshots_change(panel):
    """A selection made before any snapshot appears with the first, stays through the next ones,
    and disappears if the new architecture has no such neuron."""
    panel.set_selection(2, 15)
    panel.show_snapshot(snapshot(CLASSIC, seed=1))
    panel.show_snapshot(snapshot(CLASSIC, seed=2))
    assert panel.selected_outline.parentItem() is panel.matrix_images[0]
    panel.show_snapshot(snapshot((784, 30, 16, 10)))
    assert panel.selected_outline.parentItem() is panel.matrix_images[0]
    panel.show_snapshot(snapshot((784, 30, 12, 10)))
    assert panel.selected_outline is None  # layer 2 has 12 neurons, not 16


def test_same_architecture_keeps_every_item(panel):
    """Snapshots of the same layer sizes only feed the images: the items stay the very same."""
    panel.show_snapshot(snapshot(CLASSIC, seed=1))
    images = panel.matrix_images
    scene_items = len(panel.graphics.scene().items())
    for seed in range(2, 12):
        panel.show_snapshot(snapshot(CLASSIC, seed=seed))
    assert all(a is b for a, b in zip(panel.matrix_images, images))
    assert len(panel.graphics.scene().items()) == scene_items


def test_architecture_change_rebuilds_the_deeper_matrices(panel):
    """New layer sizes bring one new heatmap per deeper matrix, the old ones leave the scene."""
    panel.show_snapshot(snapshot(CLASSIC))
    old = panel.matrix_images
    panel.show_snapshot(snapshot(FAST))
    assert len(panel.matrix_images) == 2
    assert not any(new is image for new in panel.matrix_images for image in old)
    assert all(not isValid(image) or image.scene() is None for image in old)
    assert panel.grid_image.image.shape == (16 * STEP - 1, 16 * STEP - 1)


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_a_tall_panel_puts_the_matrices_below_the_grid(shown, qtbot):
    """Wide, the matrices stand in a column right of the tile grid; made taller than wide, the
    panel moves the very same items into a row below it, and back again."""
    images = shown.matrix_images

    def placement():
        grid = shown.grid_box.sceneBoundingRect()
        boxes = [image.getViewBox().sceneBoundingRect() for image in shown.matrix_images]
        if all(b.left() >= grid.right() for b in boxes):
            return "beside"
        if all(b.top() >= grid.bottom() for b in boxes):
            return "below"
        return "overlapping"

    qtbot.waitUntil(lambda: placement() == "beside")
    shown.resize(500, 800)
    qtbot.waitUntil(lambda: placement() == "below")
    shown.resize(900, 600)
    qtbot.waitUntil(lambda: placement() == "beside")
    assert all(a is b for a, b in zip(shown.matrix_images, images))


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_hovering_a_tile_names_neuron_and_weight(shown, qtbot):
    """Hovering pixel (row 5, column 9) of tile 6 shows that neuron and the weight of that pixel."""
    image = shown.grid_image
    w = float(snapshot().W[0][5 * 28 + 9, 6])  # the snapshot `shown` shows
    point = image.mapToScene(QPointF(1 * STEP + 9.5, 1 * STEP + 5.5))
    qtbot.waitUntil(lambda: move_mouse(shown.graphics, point) and image.toolTip() != "")
    assert image.toolTip() == f"layer 1, neuron 6\nweight from pixel (row 5, column 9): {w:+.4f}"




@pytest.mark.parametrize("largest, level", [(0.0759, 0.08), (0.3, 0.3), (1.0, 1.0), (1.01, 1.25),
                                            (7.0, 8.0), (9.5, 10.0), (0.0, 1.0), (np.nan, 1.0)])
def test_colour_levels_are_round_so_the_scale_holds_still_while_training(largest, level):
    values = np.array([0.0, -largest, largest / 2])
    assert theme.symmetric_levels(values) == pytest.approx((-level, level))
