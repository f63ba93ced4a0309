"""The probe strip and the second run's curves on the cost plot, fed synthetic data."""
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from app.panels.cost import CostPanel
from app.panels.probes import ProbesPanel, RunLine
from core.config import preset
from core.history import History, record
from core.probes import Probe
from core.train import Trainer
from tests.test_window import themed  # noqa: F401 (the session's theme)


def _probes(k=4):
    rng = np.random.default_rng(0)
    return tuple(Probe.of(rng.random(784), j % 10, f"test digit {j}", j) for j in range(k))


def _outputs(M, k, right_from):
    """(M, k, 10): probe j answers class j from moment right_from[j] on, class 9 before."""
    out = np.full((M, k, 10), 0.01, np.float32)
    for j in range(k):
        out[:right_from[j], j, 9] = 0.9
        out[right_from[j]:, j, j] = 0.9
    return out


@pytest.fixture
def panel(qtbot):
    panel = ProbesPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 240)
    panel.show()
    return panel


def test_cells_read_each_run_at_its_moment_or_now(panel):
    """Each run's answer is its row at the cursor's moment, or the present (the live outputs,
    else the last moment) when the cursor is live; settled is where a probe stays right."""
    probes = _probes()
    panel.set_probes(probes)
    a = RunLine("A", "#ffffff", _outputs(5, 4, [0, 2, 4, 5]))
    live = _outputs(1, 4, [0, 0, 0, 0])[0]
    b = RunLine("B", "#bb9af7", _outputs(5, 4, [1, 1, 1, 1]), live)
    panel.set_runs((a, b), (2, None))
    cells = panel.cells
    np.testing.assert_array_equal(cells.answers(a)[0], [0, 1, 9, 9])  # moment 2
    np.testing.assert_array_equal(cells.answers(b)[0], [0, 1, 2, 3])  # now, live
    np.testing.assert_array_equal(cells.settled(a), [0, 2, 4, -1])
    np.testing.assert_array_equal(cells.settled(b), [1, 1, 1, 1])  # the live point keeps them right
    image = panel.grab().toImage()
    assert image.width() > 0 and not image.isNull()


def test_a_cell_clicked_is_chosen_and_the_remove_button_follows(qtbot, panel):
    panel.set_probes(_probes(8))
    assert not panel.remove_button.isEnabled()
    centre = panel.cells.cell_rect(7).center()
    with qtbot.waitSignal(panel.probe_chosen) as chosen:
        qtbot.mouseClick(panel.cells, Qt.LeftButton, pos=QPoint(centre.x(), centre.y()))
    assert chosen.args == [7] and panel.cells.chosen == 7 and panel.remove_button.isEnabled()
    with qtbot.waitSignal(panel.remove_probe) as removed:
        panel.remove_button.click()
    assert removed.args == [7]


def test_the_teach_button_sends_the_label_and_taught_drawings_are_listed(qtbot, panel):
    panel.label_box.setValue(3)
    with qtbot.waitSignal(panel.teach) as taught:
        panel.teach_button.click()
    assert taught.args == [3]
    assert not panel.forget_button.isEnabled() and panel.taught_box.currentText() == "nothing taught"
    panel.set_taught((Probe.of(np.zeros(784), 3, "drawing taught as 3"),))
    assert panel.forget_button.isEnabled() and panel.taught_box.currentText() == "taught 1: 3"


def test_the_second_runs_curves_are_drawn_over_the_first(qtbot, small_mnist):
    """Overlay.add draws a history's smoothed batches and its epochs in the second colour, the
    legend names both runs; clear() takes it all away and hides the legend."""
    cost = CostPanel()
    qtbot.addWidget(cost)
    config = preset("fast").replace(epochs=2, batch_size=100)
    trainer = Trainer(small_mnist.limit(500, 100), config)
    history = History(config.architecture, small_mnist.y_test[:100])
    for _ in record(trainer, history):
        pass
    cost.other.clear("A: one — B: two")
    cost.other.add(history, trainer.batches_per_epoch)
    x, y = cost.other.test_accuracy_curve.getData()
    np.testing.assert_array_equal(x, [1, 2])
    np.testing.assert_allclose(y, [e.test_accuracy for e in history.epochs])
    assert len(cost.other.batch_curve.getData()[0]) == len(history.steps)
    assert not cost.legend.isHidden() and "B: two" in cost.legend.text()
    cost.other.add(history, trainer.batches_per_epoch)  # nothing new: nothing added
    assert len(cost.other.batch_curve.getData()[0]) == len(history.steps)
    assert cost.other._cost_tip(2.0).startswith("B, epoch 2 — cost ")
    cost.other.clear()
    x, _ = cost.other.test_accuracy_curve.getData()
    assert cost.legend.isHidden() and (x is None or len(x) == 0)
