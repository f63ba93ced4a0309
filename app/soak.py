"""A long training in the window, watched for leaks: ``python -m app.soak [--epochs 50] [--limit N]``.

The ``fast`` preset trains in an offscreen window with every panel live: a neuron is selected (the
inspector and its search for exciting images), a 7 is drawn on the pad (it predicts again with
each snapshot), a cell of the confusion matrix is selected (its gallery follows each epoch's
evaluation). After each epoch the soak samples the window's resident memory (VmRSS) and the
training process's (``core.child``; 0 if training runs on a thread), the bytes
the run's history holds (it grows by design: a moment of the weights per epoch), the number of
graphics items in every pyqtgraph scene of the window, and now and then the number of objects
Python's garbage collector tracks. It prints a table every 5 epochs and a summary; the targets are
that the window's memory less the history, and the training process's memory, each grow by
less than 10% from epoch 5 to the last, and that the number of items does not change. Exit code 1 if a target fails.
"""
from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as main.py trains
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from core.commandline import Parser

SEVEN = [(70, 70), (120, 66), (175, 64), (210, 66), (196, 110), (172, 160), (152, 205), (140, 235)]
MEMORY_TARGET = 0.10  # growth of RSS from the baseline epoch to the last
BASELINE_EPOCH = 5
OBJECTS_EVERY = 5  # epochs between two counts of gc.get_objects() (a count takes milliseconds)
POLL_MS = 20


@dataclass(frozen=True)
class Sample:
    epoch: int
    seconds: float  # since training started
    rss: int  # bytes resident
    child_rss: int  # bytes resident in the training process (0: none)
    history: int  # bytes the run's history holds (core.history.History.nbytes)
    items: int  # QGraphicsItems in every scene of the window
    objects: int | None  # objects tracked by the garbage collector, or None when not counted


def rss_bytes(pid: int | str = "self") -> int:
    """The current resident set size of this process or of process ``pid`` (not the peak)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def child_rss_bytes(window) -> int:
    child = window.trainer_process
    return rss_bytes(child.pid) if child is not None and child.alive else 0


def graphics_items(window) -> int:
    """The items in every distinct scene of the window's graphics views."""
    from PySide6.QtWidgets import QGraphicsView
    scenes = {id(view.scene()): view.scene() for view in window.findChildren(QGraphicsView)
              if view.scene() is not None}
    return sum(len(scene.items()) for scene in scenes.values())


def soak(epochs: int = 50, limit: int | None = None, preset_name: str = "fast", settings_dir=None,
         report=print) -> list[Sample]:
    """Train ``epochs`` epochs of ``preset_name`` in a new window and sample after each epoch.
    Needs a QApplication; makes one if there is none. Returns the samples, one per epoch."""
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.screenshot import wait_for
    from app.window import MainWindow
    from core.config import preset

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (alive until we return)
    folder = Path(settings_dir or tempfile.mkdtemp())
    window = MainWindow(QSettings(str(folder / "soak.ini"), QSettings.IniFormat), limit=limit)
    window.confirm_discard = False
    window.resize(1600, 1000)
    window.show()
    if window.data is None and not wait_for(window.data_ready, 120_000):
        raise RuntimeError("MNIST could not be loaded for the soak")
    window.form.set_config(preset(preset_name).replace(epochs=epochs))
    window.reset()
    window.select_neuron(1, 0)
    window.pad.stroke(SEVEN)
    window.evaluation.select_cell(7, 7)

    samples: list[Sample] = []
    start = time.monotonic()

    def sample() -> None:
        while len(samples) < len(window.history.epochs):  # epochs that arrived in the same frame share figures
            epoch = len(samples) + 1
            objects = len(gc.get_objects()) if epoch % OBJECTS_EVERY == 0 or epoch == 1 else None
            samples.append(Sample(epoch, time.monotonic() - start, rss_bytes(), child_rss_bytes(window),
                                  window.history.nbytes, graphics_items(window), objects))
            if epoch % 5 == 0 or epoch == epochs:
                report(_row(samples[-1], samples[0]))

    report(f"soak: '{preset_name}' for {epochs} epochs on {len(window.data.x_train):,} training images, "
           f"offscreen, every panel live")
    report(f"{'epoch':>5} {'seconds':>8} {'RSS MB':>8} {'vs ep.1':>8} {'history':>8} {'child MB':>9} "
           f"{'items':>6} {'gc objects':>11}")
    poll = QTimer()
    poll.setInterval(POLL_MS)
    poll.timeout.connect(sample)
    failures = []
    window.run_ended.connect(failures.append)
    poll.start()
    window.train()
    if not wait_for(window.run_ended, 60 * 60 * 1000):
        poll.stop()
        window.close()
        raise RuntimeError("the soak's training did not end within an hour")
    poll.stop()
    sample()  # the last epochs, drawn when the run ended
    window.close()
    if failures and failures[0]:
        raise RuntimeError(f"training failed: {failures[0]}")
    return samples


def _row(s: Sample, first: Sample) -> str:
    objects = f"{s.objects:,}" if s.objects is not None else ""
    return (f"{s.epoch:>5} {s.seconds:>8.1f} {s.rss / 2**20:>8.1f} {s.rss / first.rss - 1:>+8.1%} "
            f"{s.history / 2**20:>8.1f} {s.child_rss / 2**20:>9.1f} {s.items:>6} {objects:>11}")


def verdict(samples: list[Sample], baseline_epoch: int = BASELINE_EPOCH,
            memory_target: float = MEMORY_TARGET) -> tuple[bool, str]:
    """(targets met?, a summary in a few lines) comparing ``baseline_epoch`` with the last."""
    base, last = samples[min(baseline_epoch, len(samples)) - 1], samples[-1]
    growth = (last.rss - last.history) / (base.rss - base.history) - 1
    child_growth = last.child_rss / base.child_rss - 1 if base.child_rss else 0.0
    memory_ok = growth < memory_target and child_growth < memory_target
    items_ok = last.items == base.items
    objects = [s for s in samples if s.objects is not None]
    lines = [
        (f"RSS after epoch {base.epoch}: {base.rss / 2**20:.1f} MB, after epoch {last.epoch}: "
         f"{last.rss / 2**20:.1f} MB, of which the history {base.history / 2**20:.1f} and "
         f"{last.history / 2**20:.1f} MB -> growth less the history {growth:+.1%}  (target < "
         f"{memory_target:.0%}: {'met' if growth < memory_target else 'FAILED'})"),
        (f"training process RSS after epoch {base.epoch}: {base.child_rss / 2**20:.1f} MB, after "
         f"epoch {last.epoch}: {last.child_rss / 2**20:.1f} MB -> {child_growth:+.1%}  (target < "
         f"{memory_target:.0%}: {'met' if child_growth < memory_target else 'FAILED'})"),
        (f"graphics items after epoch {base.epoch}: {base.items}, after epoch {last.epoch}: {last.items}  "
         f"(target: equal: {'met' if items_ok else 'FAILED'}; min {min(s.items for s in samples)}, "
         f"max {max(s.items for s in samples)} over all epochs)"),
    ]
    if len(objects) >= 2:
        lines.append(f"objects tracked by gc: {objects[0].objects:,} after epoch {objects[0].epoch}, "
                     f"{objects[-1].objects:,} after epoch {objects[-1].epoch}")
    return memory_ok and items_ok, "\n".join(lines)


def build_parser():
    parser = Parser(prog="python -m app.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50, help="epochs to train (default 50)")
    parser.add_argument("--limit", type=int, help="train and test on only this many images")
    parser.add_argument("--preset", default="fast", help="the preset to train (default fast)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.epochs < BASELINE_EPOCH + 1:
        print(f"error: --epochs must be at least {BASELINE_EPOCH + 1}, got {args.epochs}", file=sys.stderr)
        return 2
    if args.limit is not None and args.limit < 1:
        print(f"error: --limit must be at least 1, got {args.limit}", file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    from app import theme
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841
    theme.configure()
    samples = soak(args.epochs, args.limit, args.preset)
    ok, summary = verdict(samples)
    print(summary, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
