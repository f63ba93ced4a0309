"""The weights panel: tiles, pages, contrast, heatmaps, clicks and the selection, fed with
synthetic snapshots."""
import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRect, QRectF, QSettings, Qt
from shiboken6 import isValid

from app import theme
from app.panels.weights import MIN_TILE, WeightsPanel
from core.network import Network
from core.train import Snapshot
from tests.qt_helpers import click_pixel, move_mouse

CLASSIC = (784, 20, 20, 20, 10)
FAST = (784, 256, 128, 10)
STEP = 29  # a 28-pixel tile and its 1-pixel gap
OFFSCREEN_SHOW = "This plugin does not support propagateSizeHints"  # offscreen Qt, on show()
# The panel's size in the window at 1280x720 as it first opens, with the first-run hint
# (measured: app.layout.default_layout, then show); 328 pixels high before the toolbar came.
IN_SMALL_WINDOW = (500, 214)


def snapshot(sizes=CLASSIC, seed=0):
    return Snapshot.of(Network.initialised(sizes, seed=seed))


def numbered(sizes=FAST):
    """A snapshot whose first layer's neuron k has every weight equal to k + 1: a tile names
    its neuron (with the shared scale)."""
    net = Network.initialised(sizes, seed=0)
    net.W[0][:] = np.arange(1, sizes[1] + 1, dtype=np.float32)
    return Snapshot.of(net)


@pytest.fixture
def panel(qtbot):
    theme.configure()
    panel = WeightsPanel()
    qtbot.addWidget(panel)
    return panel


def show_at(panel, qtbot, size, snap):
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_snapshot(snap)
    return panel


@pytest.fixture
def shown(panel, qtbot):
    """The panel on (an offscreen) screen, showing the classic network."""
    return show_at(panel, qtbot, (900, 600), snapshot())


@pytest.fixture
def paged(panel, qtbot):
    """The panel at its size in a 1280x720 window, showing 'fast' with numbered tiles, on one
    colour scale for all."""
    show_at(panel, qtbot, IN_SMALL_WINDOW, numbered())
    panel.set_per_tile_contrast(False)
    qtbot.waitUntil(lambda: panel.pages > 1)
    return panel


def cells(panel):
    """The page's tiles as the grid image shows them: (rows*cols, 28, 28), NaN where empty."""
    rows, cols = panel.page_shape
    image = panel.grid_image.image
    assert image.shape == (rows * STEP - 1, cols * STEP - 1)
    padded = np.pad(image, ((0, 1), (0, 1)), constant_values=np.nan)
    return padded.reshape(rows, STEP, cols, STEP)[:, :28, :, :28].transpose(0, 2, 1, 3).reshape(-1, 28, 28)


def tile_pixels(panel) -> tuple[float, float]:
    """Width and height on screen, in pixels, of one 28x28 tile of the grid."""
    rect = panel.grid_image.mapRectToScene(QRectF(0, 0, 28, 28))  # the view does not scale the scene
    return rect.width(), rect.height()


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
@pytest.mark.parametrize("sizes", [CLASSIC, FAST, (784, 10, 10), (784, 30, 16, 10)])
def test_each_page_holds_the_next_neurons_tiles_in_order(panel, qtbot, sizes):
    """Page after page, the grid holds the first layer's tiles in order, each 28x28 with 1-pixel
    NaN gaps and empty cells after the last: every neuron once, in its own tile."""
    show_at(panel, qtbot, IN_SMALL_WINDOW, numbered(sizes))
    panel.set_per_tile_contrast(False)
    seen = []
    for page in range(panel.pages):
        panel.set_page(page)
        for k, cell in enumerate(cells(panel)):
            if np.isnan(cell).all():
                seen.append(None)
            else:
                assert (cell == cell[0, 0]).all()
                seen.append(int(cell[0, 0]) - 1)
    assert [k for k in seen if k is not None] == list(range(sizes[1]))
    assert all(k is None for k in seen[sizes[1]:])  # empty cells only at the end
    assert np.isnan(panel.grid_image.image[28, :]).all()  # the gap below the first row of tiles


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
@pytest.mark.parametrize("size", [IN_SMALL_WINDOW, (500, 328), (900, 600), (500, 800), (1200, 700)])
@pytest.mark.parametrize("sizes", [CLASSIC, FAST])
def test_tiles_are_at_least_MIN_TILE_pixels_and_fill_the_view(panel, qtbot, size, sizes):
    """At the panel's size in a 1280x720 window and larger, wide or tall, each tile is at least
    MIN_TILE (40) screen pixels square; and the page holds as many as fit: one more row or column
    would make them smaller than that (or the layer fits already)."""
    show_at(panel, qtbot, size, snapshot(sizes))
    width, height = tile_pixels(panel)
    assert width >= MIN_TILE and height >= MIN_TILE, (width, height)
    rows, cols = panel.page_shape
    box = panel.grid_box
    if panel.pages > 1:
        one_more_row = box.height() / (1.04 * ((rows + 1) * STEP - 1)) * 28
        one_more_col = box.width() / (1.04 * ((cols + 1) * STEP - 1)) * 28
        assert one_more_row < MIN_TILE and one_more_col < MIN_TILE
    else:
        assert rows * cols >= sizes[1]


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_in_a_1280x720_window_the_first_layer_tiles_are_at_least_40_pixels(qtbot, tmp_path, small_mnist):
    """The window as it first opens on a 1280x720 screen (the default layout), its default
    network: the tiles of the first layer are at least 40 pixels square."""
    from app import layout
    from app.window import MainWindow
    theme.configure()
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat), data=small_mnist)
    qtbot.addWidget(window)
    layout.default_layout(window, QRect(0, 0, 1280, 720))
    window.show()
    qtbot.waitExposed(window)
    weights = window.weights
    def big_enough():  # once the layout's posted events have sized the grid's view
        width, height = tile_pixels(weights) if weights.grid_image.image is not None else (0, 0)
        assert width >= 40 and height >= 40, (width, height, weights.size())

    qtbot.waitUntil(big_enough, timeout=2000)
    window.close()


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_the_arrows_turn_the_pages_and_say_which_neurons_are_shown(paged, qtbot):
    """The arrows turn one page on or back; the label names the page's neurons; the first page
    has no way back and the last none on."""
    per_page = np.prod(paged.page_shape)
    assert paged.page == 0 and not paged.previous_page.isEnabled()
    assert paged.page_label.text() == f"neurons 0–{per_page - 1} of 256"
    qtbot.mouseClick(paged.next_page, Qt.MouseButton.LeftButton)
    assert paged.page == 1
    assert paged.page_label.text() == f"neurons {per_page}–{2 * per_page - 1} of 256"
    assert cells(paged)[0][0, 0] == per_page + 1  # neuron per_page, numbered from 1
    qtbot.mouseClick(paged.previous_page, Qt.MouseButton.LeftButton)
    assert paged.page == 0
    paged.set_page(10_000)  # clamped
    assert paged.page == paged.pages - 1 and not paged.next_page.isEnabled()
    assert paged.page_label.text() == f"neurons {paged.page * per_page}–255 of 256"


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_a_layer_that_fits_is_one_page_without_arrows(shown):
    """Classic's 20 tiles in a large panel: one page, no arrows, the label says how many."""
    assert shown.pages == 1
    assert not shown.previous_page.isVisible() and not shown.next_page.isVisible()
    assert shown.page_label.text() == "20 neurons"


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_per_tile_contrast_stretches_each_tile_to_its_own_largest_weight(panel, qtbot):
    """With per-tile contrast (on at first) each tile shows w / max|w| of its own weights, the
    levels are (-1, 1); without, the weights themselves on the layer's shared round scale (the
    same on every page), and the colour bar follows."""
    snap = snapshot(FAST)
    show_at(panel, qtbot, IN_SMALL_WINDOW, snap)
    assert panel.per_tile.isChecked()
    n = int(np.prod(panel.page_shape))
    W = snap.W[0][:, :n].T.reshape(n, 28, 28)
    np.testing.assert_allclose(cells(panel)[:n], W / np.abs(W).max(axis=(1, 2), keepdims=True), rtol=1e-6)
    assert panel.grid_image.getLevels() == pytest.approx((-1.0, 1.0))
    assert tuple(panel.colour_bar.levels()) == pytest.approx((-1.0, 1.0))
    panel.per_tile.click()
    np.testing.assert_array_equal(cells(panel)[:n], W)
    levels = theme.symmetric_levels(snap.W[0])
    assert tuple(panel.grid_image.getLevels()) == levels == tuple(panel.colour_bar.levels())
    panel.set_page(3)
    assert tuple(panel.grid_image.getLevels()) == levels


def test_levels_are_symmetric_about_zero(panel):
    """Every image's colour levels are (-m, m), m the largest |weight| of its matrix rounded up
    to a round number (less than 25% above it), and the colour bar shows the tile grid's (on the
    shared scale)."""
    snap = snapshot(FAST)
    panel.set_per_tile_contrast(False)
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
    r, c = divmod(k, shown.page_shape[1])
    with qtbot.waitSignal(shown.neuron_clicked, timeout=1000) as signal:
        click_pixel(qtbot, shown.graphics, shown.grid_image, c * STEP + 14, r * STEP + 14)
    assert signal.args == [1, k]


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_clicking_a_tile_of_a_later_page_names_its_neuron(paged, qtbot):
    """On page p, the tile in row r, column c is neuron p * (tiles a page) + r * columns + c."""
    rows, cols = paged.page_shape
    paged.set_page(2)
    r, c = rows - 1, cols - 1
    with qtbot.waitSignal(paged.neuron_clicked, timeout=1000) as signal:
        click_pixel(qtbot, paged.graphics, paged.grid_image, c * STEP + 14, r * STEP + 14)
    assert signal.args == [1, 2 * rows * cols + r * cols + c]


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_clicking_an_empty_cell_of_the_last_page_names_no_neuron(paged, qtbot):
    """The last page's cells after neuron 255 are empty: a click there emits nothing."""
    rows, cols = paged.page_shape
    paged.set_page(paged.pages - 1)
    assert 256 % (rows * cols) != 0  # the last page is not full at this size
    with qtbot.assertNotEmitted(paged.neuron_clicked, wait=100):
        click_pixel(qtbot, paged.graphics, paged.grid_image, (cols - 1) * STEP + 14, (rows - 1) * STEP + 14)


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
    panel.set_selection(1, 7)
    per_page, cols = np.prod(panel.page_shape), panel.page_shape[1]
    r, c = divmod(7 % per_page, cols)
    outline = panel.selected_outline
    assert outline.parentItem() is panel.grid_image
    assert outline.rect() == QRectF(c * STEP - 0.5, r * STEP - 0.5, STEP, STEP)
    panel.set_selection(3, 4)
    outline = panel.selected_outline
    assert outline.parentItem() is panel.matrix_images[1]
    assert outline.rect() == QRectF(4, 0, 1, 20)
    panel.set_selection(None, None)
    assert panel.selected_outline is None


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_the_selected_outline_follows_the_pages(paged, qtbot):
    """A first-layer neuron selected on another page brings its page, outlined at its place;
    turned away from, the page takes the outline along, and it comes back with it. The same
    selection set again (the window does it every frame) does not turn the page back."""
    rows, cols = paged.page_shape
    per_page = rows * cols
    k = 3 * per_page + cols + 1  # page 3, row 1, column 1
    paged.set_selection(1, k)
    assert paged.page == 3
    assert paged.selected_outline.rect() == QRectF(1 * STEP - 0.5, 1 * STEP - 0.5, STEP, STEP)
    qtbot.mouseClick(paged.next_page, Qt.MouseButton.LeftButton)
    assert paged.selected_outline is None
    paged.set_selection(1, k)  # as the window's next frame does
    assert paged.page == 4 and paged.selected_outline is None
    qtbot.mouseClick(paged.previous_page, Qt.MouseButton.LeftButton)
    assert paged.selected_outline.rect() == QRectF(1 * STEP - 0.5, 1 * STEP - 0.5, STEP, STEP)
    paged.set_selection(2, 5)  # a deeper neuron: the page stays
    assert paged.page == 3 and paged.selected_outline.parentItem() is paged.matrix_images[0]


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_a_resize_keeps_the_selected_neuron_in_sight(paged, qtbot):
    """Resized, the panel lays out pages of another shape and shows the one that holds the
    selected neuron, outlined."""
    paged.set_selection(1, 200)
    shape = paged.page_shape
    paged.resize(1200, 700)
    qtbot.waitUntil(lambda: paged.page_shape != shape)
    rows, cols = paged.page_shape
    r, c = divmod(200 - paged.page * rows * cols, cols)
    assert 0 <= r < rows
    assert paged.selected_outline.rect() == QRectF(c * STEP - 0.5, r * STEP - 0.5, STEP, STEP)
    assert cells(paged)[r * cols + c][0, 0] == 201  # neuron 200's tile, numbered from 1


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
    """Snapshots of the same layer sizes, pages turned, contrast switched: they only feed the
    images, the items stay the very same."""
    panel.show_snapshot(snapshot(FAST, seed=1))
    images = panel.matrix_images
    scene_items = len(panel.graphics.scene().items())
    for seed in range(2, 12):
        panel.show_snapshot(snapshot(FAST, seed=seed))
        panel.set_page(seed % 3)
        panel.set_per_tile_contrast(seed % 2 == 0)
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
    rows, cols = panel.page_shape
    assert panel.grid_image.image.shape == (rows * STEP - 1, cols * STEP - 1)
    assert panel.page == 0 and panel.pages == -(-256 // (rows * cols))


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
    r, c = divmod(6, shown.page_shape[1])
    point = image.mapToScene(QPointF(c * STEP + 9.5, r * STEP + 5.5))
    qtbot.waitUntil(lambda: move_mouse(shown.graphics, point) and image.toolTip() != "")
    assert image.toolTip() == f"layer 1, neuron 6\nweight from pixel (row 5, column 9): {w:+.4f}"


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_hovering_a_tile_of_a_later_page_names_its_neuron(paged, qtbot):
    """On page 1 the first tile is neuron (tiles a page), and its weight is that neuron's."""
    per_page = int(np.prod(paged.page_shape))
    paged.set_page(1)
    image = paged.grid_image
    point = image.mapToScene(QPointF(9.5, 5.5))
    qtbot.waitUntil(lambda: move_mouse(paged.graphics, point) and image.toolTip() != "")
    assert image.toolTip() == (f"layer 1, neuron {per_page}\n"
                               f"weight from pixel (row 5, column 9): {per_page + 1:+.4f}")




@pytest.mark.parametrize("largest, level", [(0.0759, 0.08), (0.3, 0.3), (1.0, 1.0), (1.01, 1.25),
                                            (7.0, 8.0), (9.5, 10.0), (0.0, 1.0), (np.nan, 1.0)])
def test_colour_levels_are_round_so_the_scale_holds_still_while_training(largest, level):
    values = np.array([0.0, -largest, largest / 2])
    assert theme.symmetric_levels(values) == pytest.approx((-level, level))
