"""What the window says about itself: a plain-words explanation of every setting and every panel,
the first-run hint, Help → The maths (``core/MATHS.md`` rendered) and Help → About (versions,
and the system information to paste into a bug report).

The texts are here, together, so that they can be read and corrected in one place; the widgets
that show them are small: a "?" button on each panel's title bar, tooltips on the form.
"""
from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QFontInfo, QGuiApplication, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QSizePolicy,
    QStyle,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import app
from core.config import TrainConfig

MATHS = Path(__file__).resolve().parent.parent / "core" / "MATHS.md"

FIRST_RUN = ("◀ Press <b>Train</b>, then watch the cost fall and the tiles turn into strokes. "
             "Click a tile to inspect its neuron; each <b>?</b> explains its panel.")

# --- the settings, in plain words (tooltips of the form's rows) ----------------------------------

SETTINGS = {
    "preset": "A ready-made set of all the settings below. <b>watch</b> (the default): a modern "
              "small network whose first layer shows strokes within three epochs, about 97.6% right "
              "after 15. <b>fast</b>: the same network without weight decay and with a larger, faster "
              "falling learning rate, 98% by epoch 4, its tiles noisier. "
              "<b>classic</b>: the network this "
              "program grew from, built as in the 1990s — small, sigmoid, squared error, plain "
              "gradient descent — about 95%; its 20 first-layer neurons show clear strokes. "
              "<b>best</b>: two layers of 800 with dropout, moved and turned images and a one-cycle "
              "schedule, about 99.1% after 24 epochs (over three minutes); on clothes it leaves the "
              "images unmoved, blends them in pairs (mixup) and trains 48 epochs, about 91%. Edit "
              "any field and the preset becomes <i>custom</i>.",
    "sizes": "How many neurons each layer has, from the 784 pixels of the input to the 10 digits "
              "of the output, e.g. 784,256,128,10. More or wider hidden layers can learn more, "
              "and take longer. A change makes a new network: it applies on Reset.",
    "lr": "The learning rate, eta: how big a step each batch takes downhill on the cost. Too small "
          "and learning crawls; too large and the cost jumps about or explodes. It can be changed "
          "while training runs; the change is marked on the cost curve.",
    "epochs": "How many times to go through all the training images when you press Train. Train "
              "again to go on from where it stopped.",
    "hidden": "The function each hidden neuron applies to its weighted input z. <b>sigmoid</b> "
              "squashes z into 0…1 (the classic choice; it saturates and then learns slowly); "
              "<b>tanh</b> into −1…1; <b>relu</b> keeps z if positive, else 0 (fast to learn, but "
              "a neuron that is always 0 is dead).",
    "output": "What the ten output neurons do. <b>softmax</b> turns them into probabilities that "
              "add up to 1; <b>sigmoid</b> gives each digit its own 0…1 score.",
    "loss": "How wrong an answer counts. <b>mse</b>, squared error: the squared distance from the "
            "right answer (the classic choice; with sigmoids it learns slowly when very wrong). "
            "<b>ce</b>, cross-entropy: minus the log of the probability given to the right digit; "
            "very wrong answers cost a lot, so it learns fast. Use ce with softmax.",
    "optimizer": "How a batch's gradient becomes a step. <b>sgd</b>: the plain step, eta times the "
                 "gradient. <b>momentum</b>: the step keeps some of the last one, like a ball "
                 "rolling downhill. <b>adam</b>: each weight gets its own step size from the "
                 "running size of its gradients; usually fastest, with a small rate like 0.001.",
    "lr_decay": "After every epoch the learning rate is multiplied by this: 1 keeps it; 0.8 makes "
                "the steps smaller as the network settles, which steadies the last epochs. Used by "
                "the step schedule only.",
    "momentum": "mu, for the momentum optimiser only: how much of the last step each step keeps "
                "(0.9 is usual). The other optimisers ignore it.",
    "weight_decay": "lambda of an L2 penalty: every step also shrinks each weight a little towards "
                    "0, so no weight grows large without reason. It can help a network generalise; "
                    "0 turns it off.",
    "batch_size": "How many images are averaged for one step. Small batches: many noisy steps; "
                  "large batches: fewer, steadier steps, each costing more.",
    "schedule": "How the learning rate changes over a run. <b>step</b>: multiplied by the LR decay "
                "after every epoch. <b>cosine</b>: falls smoothly from the learning rate to about 0 "
                "at the last epoch. <b>onecycle</b>: rises from a 25th of it to the full rate over the "
                "first 30% of the run, then falls to almost 0. Train again and the schedule starts "
                "over, for the new epochs; changing the rate while training scales the whole curve.",
    "warmup": "Epochs at the start of a run over which the learning rate grows steadily from about 0 "
              "to its full value, so the first steps of a fresh network are small. 0 turns it off.",
    "dropout": "The chance that each hidden neuron is switched off for one training batch (the others "
               "count a little more to make up). The network cannot lean on any one neuron, which "
               "helps it generalise; it is never applied when testing. 0 turns it off; 0.2–0.5 is usual.",
    "augment": "Random changes to every training image, new each time it is seen, so the network "
               "learns digits rather than these very pictures. <b>affine</b>: moved a pixel or two, "
               "turned, resized and slanted a little. <b>elastic</b>: also bent, as a hand would. "
               "<b>auto</b>: affine for digits, nothing for clothes (a slanted coat is not how "
               "coats look). The test images are never changed.",
    "mixup": "Every training image is blended with another image of its batch, and what the network "
             "should answer with it: 70% a coat and 30% a shirt should be called 70% coat, 30% "
             "shirt. The share is drawn anew for each batch, mostly near all of one image; this "
             "alpha sets how often it is nearer half and half (0.4 in best for clothes). It keeps "
             "the network from being sure between the pictures it has seen. 0 turns it off.",
    "seed": "The number the random initial weights and the shuffling come from. The same seed and "
            "settings train the very same network; another seed, another start. A preset chosen keeps "
            "it. Applies on Reset.",
}


def preset_help(name: str, config: TrainConfig) -> str:
    """A preset's line in the picker: its settings in a few words."""
    return (f"{name}: {'-'.join(map(str, config.sizes))}, {config.hidden}, {config.output} output, "
            f"{config.loss} loss, {config.optimizer} at {config.lr:g}"
            + ("" if config.schedule == "step" else f" ({config.schedule})")
            + f", batches of {config.batch_size}, {config.epochs} epochs"
            + (f", dropout {config.dropout:g}" if config.dropout else "")
            + (f", {config.augment} augmentation" if config.augment != "none" else "")
            + (f", mixup {config.mixup:g}" if config.mixup else ""))


# --- the panels: what am I looking at, what to notice ------------------------------------------

PANELS = {
    "weights": (
        "Weights",
        "<p>Every weight of the network, blue for negative, red for positive, dark for about 0.</p>"
        "<p><b>Layer 1 ← input</b>: one tile per first-layer neuron, its 784 weights laid out as the "
        "28×28 pixels they come from. Red where ink excites the neuron, blue where ink inhibits it. "
        "At first the tiles are noise; as the network learns they grow strokes and blobs: the "
        "pieces of digits that neuron looks for. The arrows above turn the pages of a wide layer; "
        "<i>per-tile contrast</i> stretches each tile to its own largest weight (off: one scale "
        "for all, so tiles compare).</p>"
        "<p><b>Later layers</b>: each matrix is rows of inputs by columns of neurons.</p>"
        "<p>Click a tile or a column to inspect that neuron; the arrow keys move the selection.</p>"),
    "cost": (
        "Cost and accuracy",
        "<p><b>Cost</b> (top, log scale): how wrong the network is, on average. The faint line is "
        "each batch (smoothed); the dots are the whole training and test sets after each epoch. "
        "It should fall fast at first, then slowly.</p>"
        "<p><b>Accuracy</b> (bottom): the fraction of digits read right, training and test. A test "
        "curve that stops rising while training keeps rising means the network is learning its "
        "training images by heart (overfitting). With dropout, augmentation or mixup the "
        "training figures are of the batches as changed (a blended image is counted right if "
        "the class that weighs more in it is answered), so they can stay worse than the test's.</p>"
        "<p>Marks on the curve show where the learning rate was changed and where training was "
        "paused. The orange line is the moment the timeline shows. View → Loss along the way "
        "shows the cost on the straight line from the initial weights to the moment's.</p>"),
    "flow": (
        "Gradient flow",
        "<p>How strongly each layer is being taught, batch by batch (log scale, one line per "
        "layer): the size of its gradient dC/dW, of its error delta, or of the step its weights "
        "took relative to the weights themselves.</p>"
        "<p>In the sigmoid network (<b>classic</b>) every layer back towards the input gets a "
        "gradient four times smaller or less (the sigmoid's slope is at most 1/4), so its first "
        "layer learns orders of magnitude more slowly: the vanishing gradient. In <b>fast</b> "
        "(ReLU) the lines stay close. A step about a thousandth of the weights (the dashed line) "
        "is the usual sign of a good learning rate.</p>"),
    "health": (
        "Neuron health",
        "<p><b>Top</b>: in each hidden layer, the share of neurons that no longer answer. A ReLU "
        "neuron is <i>dead</i> when it gives 0 for every one of 1,000 test digits: it has no "
        "gradient, so it never learns again. A sigmoid or tanh neuron is <i>saturated</i> when "
        "its slope is under 1% of its steepest for most digits: it barely learns.</p>"
        "<p><b>Bottom</b>: how a layer's weights (or its gradients, on a log scale) are spread, "
        "moment by moment: each column is one moment's histogram, brighter where more values "
        "fall. Watch the weights spread out from their start as the network learns.</p>"),
    "activations": (
        "Activations",
        "<p>One test digit (left) going through the network: each bar is one neuron's activation, "
        "layer by layer, and the last bars are the ten outputs, the network's answer.</p>"
        "<p>Watch how few neurons of a layer answer strongly, and how the output bar of the true "
        "digit grows as training goes on. <i>Next mistake</i> jumps to a digit the network gets "
        "wrong. Click a bar to inspect that neuron.</p>"),
    "diagram": (
        "Network diagram",
        "<p>The network as 3Blue1Brown draws it: the digit on the left, each layer a column of "
        "neurons lit by their activation, the ten outputs on the right with the answer marked.</p>"
        "<p>A line is one weight's contribution, weight × the activation coming in: red pushes "
        "the neuron up, blue down, wider and brighter the larger. A wide layer shows its 16 most "
        "active neurons for this digit (\"+240 more\" under it) and the strongest lines into each. "
        "Watch which pixels drive which neurons, and how the picture sharpens as training goes "
        "on. Click a neuron to inspect it: its own lines stand out.</p>"),
    "layermap": (
        "What a layer sees",
        "<p>2,000 test digits, 200 of each, as points: where each lands in a layer's activations, "
        "flattened to two dimensions (the two directions in which the points spread most, PCA). "
        "The colour is the true digit.</p>"
        "<p>Before training the colours are mixed: the layer cannot tell the digits apart. As it "
        "learns, the digits pull apart into clusters; digits whose clusters touch are those it "
        "confuses. Scrub the timeline to watch it happen; choose another layer above the map; "
        "click a point to look at that digit.</p>"),
    "evaluation": (
        "Confusion and mistakes",
        "<p>The <b>confusion matrix</b>: a row for each true digit, a column for each answer; the "
        "diagonal counts the digits read right, everything else is a mistake. A bright cell off "
        "the diagonal is a pair the network mixes up (4 and 9, 3 and 5 ...). Beside it, each "
        "digit's precision (of the answers \"7\", how many were 7) and recall (of the real 7s, "
        "how many were found).</p>"
        "<p>Click a cell to see those mistakes; click a mistake to look at it in the activations "
        "panel.</p>"),
    "inspector": (
        "Neuron inspector",
        "<p>One neuron, chosen by clicking a tile or a bar: the weights coming into it (for a deeper "
        "neuron, also what they add up to on the pixels), its bias, its activation for the digit "
        "shown, and the test digits that excite it most.</p>"
        "<p>Those digits show what the neuron has come to detect. A neuron whose activation is "
        "0 for every digit is dead: it no longer learns.</p>"),
    "pad": (
        "Drawing pad",
        "<p>Draw a digit with the mouse (or write several side by side for a number): the network "
        "reads it as you draw, and again as it trains.</p>"
        "<p>The strip below shows how your drawing is made to look like MNIST's digits: its ink "
        "box, scaled to 20 pixels, centred by its centre of mass in 28×28. That small picture is "
        "what the network sees. File → Open image reads a photo of a digit the same way.</p>"),
    "probes": (
        "Probes",
        "<p>A few images followed over the whole of training: twelve test digits at first, six "
        "easy and six hard. Each cell shows the picture, what the network reads it as now and "
        "how sure it is, and under that the probability it gave the right answer at every "
        "moment of the history: watch a hard digit flip from wrong to right. A green tick marks "
        "the moment it became right and stayed right; a red frame, a probe read wrong.</p>"
        "<p>Click a probe to look at it in every panel. <b>Pin digit</b> follows the test digit "
        "shown, <b>Pin drawing</b> your drawing. <b>Teach drawing</b> adds the drawing, as the "
        "label chosen, to the training data (with eight slightly moved copies): train on and "
        "watch its probability rise. With two runs compared, each probe shows both.</p>"),
    "augmented": (
        "What it is fed",
        "<p>A few training images as they are stored (top) and as the network is fed them "
        "(below), with the augmentation of the settings (More settings ▸ Augmentation): every "
        "image of every batch is moved, turned, scaled and sheared anew at random (and bent, "
        "with <b>elastic</b>), so the network cannot learn the exact pixels and must learn the "
        "digit. With <b>mixup</b> (More settings ▸ Mixup alpha) each image is then blended with "
        "another of its batch, and so is what it should be called: the share shown is the one "
        "a batch drew. The test images are never changed.</p>"),
    "second": (
        "Second run",
        "<p>The run compared with this one (Training ▸ Compare with): its weights, confusion "
        "matrix and gradient flow, at the same point of training as the moment shown, and how it "
        "reads the input the other panels show. Both runs have the same seed, so they train on "
        "the same images in the same order; the cost plot draws its curves in purple.</p>"),
    "training": (
        "Training",
        "<p>The settings of the network and of its training; hover over a setting for what it "
        "does. <b>Train</b> goes on training the current network; <b>Reset</b> starts a new one "
        "from the seed. Settings marked • apply only when you press Train or Reset.</p>"),
}


def panel_help_html(name: str) -> str:
    title, body = PANELS[name]
    return f"<h3>{title}</h3>{body}"


# --- widgets --------------------------------------------------------------------------------------

class HelpButton(QToolButton):
    """A "?" that says what a panel shows, in a box that stays open beside the window."""

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.setText("?")
        self.setAutoRaise(True)
        self.setToolTip(f"What am I looking at? ({PANELS[name][0]})")
        self.setFocusPolicy(Qt.NoFocus)  # a click, not a stop of Tab
        self.clicked.connect(self.explain)
        self.box: QMessageBox | None = None

    def explain(self) -> None:
        if self.box is None:
            self.box = QMessageBox(QMessageBox.Information, PANELS[self.name][0],
                                   panel_help_html(self.name), QMessageBox.Close, self.window())
            self.box.setTextFormat(Qt.RichText)
            self.box.setModal(False)
        self.box.show()
        self.box.raise_()


class DockTitle(QWidget):
    """A dock's title bar with a "?" beside the float and close buttons. Mouse presses on the
    title itself are left to the dock, so it is dragged and double-clicked as usual."""

    def __init__(self, dock: QDockWidget, name: str):
        super().__init__(dock)
        self.dock = dock
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 1, 2, 1)
        row.setSpacing(0)
        self.label = QLabel(dock.windowTitle())
        self.label.setAttribute(Qt.WA_TransparentForMouseEvents)
        row.addWidget(self.label, 1)
        self.help_button = HelpButton(name, self)
        row.addWidget(self.help_button)
        style = self.style()
        for icon, tip, slot in ((QStyle.SP_TitleBarNormalButton, "Float or dock this panel",
                                 lambda: dock.setFloating(not dock.isFloating())),
                                (QStyle.SP_TitleBarCloseButton, "Hide this panel (View shows it again)",
                                 dock.close)):
            button = QToolButton(self)
            button.setIcon(style.standardIcon(icon))
            button.setAutoRaise(True)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.NoFocus)
            button.setIconSize(QSize(12, 12))
            button.clicked.connect(slot)
            row.addWidget(button)
        dock.windowTitleChanged.connect(self.label.setText)


def add_help(dock: QDockWidget, name: str) -> HelpButton:
    """Give ``dock`` a title bar with a "?" that explains panel ``name``."""
    title = DockTitle(dock, name)
    dock.setTitleBarWidget(title)
    return title.help_button


class CornerHelp(HelpButton):
    """A "?" in the top right corner of a widget that has no title bar (the central weights
    panel), kept there as the widget is resized."""

    def __init__(self, name: str, parent: QWidget):
        super().__init__(name, parent)
        parent.installEventFilter(self)
        self._place()

    def eventFilter(self, obj, event) -> bool:
        if event.type() == event.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        self.adjustSize()
        self.move(self.parentWidget().width() - self.width() - 4, 2)
        self.raise_()


class FirstRunHint(QWidget):
    """The first run's pointer at Train, with a close button; ``dismissed`` when closed. It
    takes the toolbar's free width (asking for little, so the toolbar never moves it into its
    overflow menu), its words clipped if the window is narrow; the tooltip has them all."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.setToolTip(FIRST_RUN)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 0, 4, 0)
        self.label = QLabel(FIRST_RUN)
        self.label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.label.setStyleSheet("color: #f0a35e;")
        row.addWidget(self.label, 1)
        close = QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide this hint")
        close.clicked.connect(self.dismissed)
        row.addWidget(close)

    def sizeHint(self) -> QSize:
        return QSize(120, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(60, super().minimumSizeHint().height())


class MathsDialog(QDialog):
    """Help → The maths: ``core/MATHS.md`` rendered (Qt reads Markdown: headings, tables, code
    blocks in a monospaced font, so the formulas, written in Unicode, read as in the file)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("The maths of the network")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)
        self.browser.setMarkdown(maths_markdown())
        _monospace_code(self.browser, monospace())
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        column = QVBoxLayout(self)
        column.addWidget(self.browser)
        column.addWidget(buttons)
        screen = (parent.screen() if parent is not None else
                  QGuiApplication.primaryScreen()).availableGeometry()
        self.resize(min(900, screen.width() - 40), min(800, screen.height() - 60))


def maths_markdown() -> str:
    try:
        return MATHS.read_text(encoding="utf-8")
    except OSError as exc:
        return f"# The maths\n\n`core/MATHS.md` cannot be read here ({exc.strerror})."


def monospace() -> QFont:
    """The system's fixed-pitch font, or, where that name resolves to a font that does not say
    it is fixed-pitch (here "monospace" became Noto Sans Mono), one that does, DejaVu Sans Mono
    first (it has every symbol MATHS.md uses: ⊙ Σ ∂ σ √ ᵀ)."""
    font = QFontDatabase.systemFont(QFontDatabase.FixedFont)
    if QFontInfo(font).fixedPitch():
        return font
    fixed = [f for f in QFontDatabase.families() if QFontDatabase.isFixedPitch(f)]
    for family in ("DejaVu Sans Mono", *fixed):
        candidate = QFont(family, font.pointSize())
        if QFontInfo(candidate).fixedPitch():
            return candidate
    return font


def _monospace_code(browser: QTextBrowser, mono: QFont) -> None:
    """Qt gives Markdown's code (blocks and `spans`) the system's fixed font by name, which
    may resolve to a font that is not fixed-pitch; give it ``mono``, so the aligned formulas
    stay aligned."""
    system = QFontDatabase.systemFont(QFontDatabase.FixedFont).family()
    document = browser.document()
    cursor = QTextCursor(document)
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            f = fragment.charFormat()
            if fragment.isValid() and (f.fontFixedPitch() or system in (f.fontFamilies() or [])):
                cursor.setPosition(fragment.position())
                cursor.setPosition(fragment.position() + fragment.length(), QTextCursor.KeepAnchor)
                f.setFontFamilies([mono.family()])
                cursor.setCharFormat(f)
            it += 1
        block = block.next()


def system_info() -> str:
    """The program's and its libraries' versions and the machine, as plain text to paste."""
    import numpy as np
    import PySide6
    import pyqtgraph
    from PySide6.QtCore import qVersion
    lines = [f"watch-it-learn {app.__version__}",
             f"Python {platform.python_version()} ({platform.python_implementation()}) on "
             f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs",
             f"NumPy {np.__version__}, BLAS {_blas()}",
             f"PySide6 {PySide6.__version__}, Qt {qVersion()}, platform "
             f"{QGuiApplication.platformName()}",
             f"pyqtgraph {pyqtgraph.__version__}"]
    try:
        import PIL
        lines.append(f"Pillow {PIL.__version__}")
    except ImportError:
        lines.append("Pillow not installed (the time-lapse needs it)")
    screen = QGuiApplication.primaryScreen()
    if screen is not None:
        size = screen.size()
        lines.append(f"screen {size.width()}x{size.height()} at {screen.devicePixelRatio():g}x")
    blas_env = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_"))}
    if blas_env:
        lines.append("environment " + " ".join(f"{k}={v}" for k, v in sorted(blas_env.items())))
    lines.append(f"executable {sys.executable}")
    return "\n".join(lines)


def _blas() -> str:
    import numpy as np
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # an older NumPy, or a build that does not say
        return "unknown"


class AboutDialog(QDialog):
    """Help → About: what the program is, the versions, and a button that copies them (as
    napari does), to paste into a question or a bug report."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About watch-it-learn")
        self.info = system_info()
        text = QLabel("<h3>watch-it-learn " + app.__version__ + "</h3><p>A multilayer perceptron "
                      "written from scratch in NumPy learns to read handwritten digits (MNIST), "
                      "and you watch it happen: every weight, activation and mistake, at any "
                      "moment of its training.</p><p>Inspired by 3Blue1Brown's series on neural "
                      "networks. The equations the code implements are in Help → The maths.</p>")
        text.setWordWrap(True)
        details = QPlainTextEdit(self.info)
        details.setReadOnly(True)
        details.setFont(monospace())
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.copy_button = buttons.addButton("Copy system information", QDialogButtonBox.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.close)
        column = QVBoxLayout(self)
        column.addWidget(text)
        column.addWidget(details)
        column.addWidget(buttons)
        self.resize(620, 420)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.info)
        self.copy_button.setText("Copied")
