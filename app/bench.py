"""How fluid the window stays while it trains, in figures: ``python -m app.bench``.

The measurements, in one run, with the BLAS thread count printed:

1. Launch to first paint: a fresh ``python`` process is started and reports when the main
   window receives its first paint event; the time is counted from just before the process was
   spawned, so the interpreter's start and every import are included (median of several).
2. GUI lateness while ``fast`` trains on the full MNIST in the window: a 10 ms ``QTimer``
   probe records how late each of its ticks fires; the median, p99 and max are printed, with
   how often each group of panels was repainted.
3. Training throughput in the window against headless: samples per second of the same
   training (same preset, seed, data, threads) through ``core.train.Trainer`` alone and in
   the window with every panel live, in alternating rounds; the ratio of the medians is
   printed. 2 and 3 are measured side by side with the trainer in a process of its own (the
   default) and on a thread
   (``--thread``), and for the process also: the child's start until it is ready, Train
   pressed until the first batch is in the mailbox, and Stop pressed mid-epoch until the run
   is over (median and max of several). Then the lateness with two runs live: ``fast`` and
   ``classic`` side by side, each in a process of its own, the probe strip and the second
   run's dock in front (target p99 <= 16 ms).
4. Drawing-pad latency while ``fast`` trains: mouse moves are posted to the pad's canvas every
   5 ms (faster than any screen refreshes), tracing loops; the pad records, for each change of
   its canvas, the milliseconds until the probability bars show its prediction.
5. A run's history: ``fast`` trained ``--history-epochs`` epochs headless through
   ``core.history.record``; the history's bytes in memory and its ``brain.npz``'s on disk.
6. Scrubbing: that file opened in the window, a neuron inspected, and moments chosen as the
   timeline does (in order, then at random): the milliseconds from the choice until every panel
   on screen is fed and painted (median, p99, max; a panel behind another's tab is drawn when it
   comes to the front), and apart from that the search for the test digits that excite the
   neuron at a past moment, which waits until the moment shown rests.
7. The views inside the network, in that window at 1280x720, each on the front of its tabs:
   for every moment of the file, the milliseconds until the panel is fed that moment (and the
   digit shown) and has repainted: the network diagram, the layer map, the gradient flow, the
   neuron health (after the time it takes to examine every moment, which its timer spreads).
8. Scrubbing while training: lateness and throughput as in 2 and 3 while the timeline jumps to
   a random past moment ten times a second (and back to live now and then).

Runs offscreen (``QT_QPA_PLATFORM=offscreen``) unless a display is set.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as main.py trains
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

from core.commandline import Parser  # noqa: E402

PROBE_MS = 10


def build_parser():
    parser = Parser(prog="python -m app.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs of 'fast' to train (default 3)")
    parser.add_argument("--launches", type=int, default=5, help="launches timed (default 5)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of headless, process and thread training compared (default 3)")
    parser.add_argument("--history-epochs", type=int, default=15,
                        help="epochs of 'fast' whose history is measured and scrubbed (default 15)")
    parser.add_argument("--first-paint-probe", type=float, help=argparse.SUPPRESS)  # internal
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.first_paint_probe is not None:
        return first_paint_probe(args.first_paint_probe)
    if min(args.epochs, args.launches, args.history_epochs, args.rounds) < 1:
        print("error: --epochs, --launches, --history-epochs and --rounds must be at least 1",
              file=sys.stderr)
        return 2
    print_setup()
    bench_launch(args.launches)
    bench_training(args.epochs, args.rounds)
    bench_compared(args.epochs)
    bench_control()
    bench_pad(args.epochs)
    path = bench_history(args.history_epochs)
    bench_scrub(path)
    bench_views(path)
    bench_training(args.epochs, args.rounds, scrub=True)
    return 0


def print_setup() -> None:
    from threadpoolctl import threadpool_info
    pools = ", ".join(f"{p['internal_api']} {p.get('version')} ({p.get('architecture')}), "
                      f"{p['num_threads']} threads" for p in threadpool_info())
    print(f"setup: {os.cpu_count()} CPUs, {pools}, QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


# --- 1. launch to first paint -------------------------------------------------------------------


def bench_launch(launches: int) -> None:
    seconds = []
    for _ in range(launches):
        start = time.time()
        result = subprocess.run([sys.executable, "-m", "app.bench", "--first-paint-probe", repr(start)],
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise SystemExit(f"the launch probe failed: {result.stderr.strip()}")
        seconds.append(float(result.stdout.strip().splitlines()[-1]))
    print(f"\nlaunch to first painted window ({launches} launches): median {statistics.median(seconds):.3f} s, "
          f"min {min(seconds):.3f} s, max {max(seconds):.3f} s  (target <= 1 s)", flush=True)


def first_paint_probe(started: float) -> int:
    """Open the window as main.py does and print the seconds from ``started`` to its first paint."""
    from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app import theme
    app = QApplication(sys.argv[:1])
    theme.configure()
    import tempfile

    from app.window import MainWindow
    folder = tempfile.mkdtemp()
    window = MainWindow(QSettings(os.path.join(folder, "s.ini"), QSettings.IniFormat))
    window.confirm_discard = False

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Paint:
                print(f"{time.time() - started:.4f}", flush=True)
                QTimer.singleShot(0, app.quit)
                obj.removeEventFilter(self)
            return False

    spy = FirstPaint()
    window.installEventFilter(spy)
    window.show()
    app.exec()
    window.close()
    return 0


# --- 2 and 3. lateness and throughput ---------------------------------------------------------------


def bench_training(epochs: int, rounds: int, scrub: bool = False) -> None:
    """Lateness in one run of each kind with the probe running; throughput in runs without it
    (a 10 ms probe wakes the GUI thread a hundred times a second and would itself take the GIL
    from a worker thread). Throughput is measured in ``rounds`` rounds, each training headless,
    then in a window with a process, then in a window with a thread, so slow drift of the
    machine (whose epochs vary by several per cent from one to the next) favours none; the
    ratio of the medians of all epochs is printed, with the range of the rounds' ratios. With
    ``scrub``, the timeline jumps to a random moment ten times a second meanwhile."""
    from PySide6.QtWidgets import QApplication

    from app import theme
    from core.config import preset
    from core.data import load_mnist
    from core.train import EpochReport, Trainer

    config = preset("fast").replace(epochs=epochs)
    data = load_mnist()
    _qt_app = QApplication.instance() or QApplication(sys.argv[:1])  # alive until we return
    theme.configure()

    lateness = {process: train_in_window(config, probe=True, scrub=scrub, process=process)
                for process in (True, False)}
    speeds = {"headless": [], True: [], False: []}
    ratios = {True: [], False: []}
    for _ in range(rounds):
        head = [r.samples_per_sec for r in Trainer(data, config).run() if isinstance(r, EpochReport)]
        speeds["headless"] += head
        for process in (True, False):
            _, in_window, _ = train_in_window(config, probe=False, scrub=scrub, process=process)
            speeds[process] += in_window
            ratios[process].append(statistics.median(in_window) / statistics.median(head))

    what = "while the timeline jumps to a random moment 10 times a second" if scrub else \
        "every panel live"
    head = statistics.median(speeds["headless"])
    print(f"\n'fast' trained {epochs} epochs in the window, {what} ({rounds} rounds of headless, "
          f"process, thread):")
    for process in (True, False):
        late, _, rates = lateness[process]
        late = np.array(late)
        win = statistics.median(speeds[process])
        print(f"  {'in a process' if process else 'on a thread '}: GUI lateness ({len(late)} ticks of a "
              f"{PROBE_MS} ms timer) median {np.median(late):.1f} ms, p99 {np.percentile(late, 99):.1f} ms, "
              f"max {late.max():.1f} ms; panels repainted {rates}; throughput headless {head:,.0f} "
              f"samples/s, in the window {win:,.0f} -> {win / head:.0%} of headless (rounds "
              f"{min(ratios[process]):.0%}-{max(ratios[process]):.0%})", flush=True)
    print("  (targets with a process: throughput >= 95% of headless, p99 <= 10 ms, max <= 30 ms, "
          "every panel >= 25 Hz)", flush=True)


def bench_compared(epochs: int) -> None:
    """GUI lateness with two runs live: 'fast' and 'classic' trained side by side (each in a
    process of its own), every panel live, the probe strip and the second run's dock in front."""
    from PySide6.QtWidgets import QApplication

    from app import theme
    from core.config import preset

    _qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    theme.configure()
    late, speeds, rates = train_in_window(preset("fast").replace(epochs=epochs), probe=True,
                                          compare="classic")
    print(f"\n'fast' and 'classic' trained {epochs} epochs side by side in the window, each in a "
          f"process of its own: GUI lateness ({len(late)} ticks of a {PROBE_MS} ms timer) "
          f"{spread(late)}; panels repainted {rates}; fast {statistics.median(speeds):,.0f} "
          f"samples/s (target: p99 <= 16 ms)", flush=True)


def spread(ms) -> str:
    """Median, p99 and max of milliseconds."""
    ms = np.asarray(ms)
    return f"median {np.median(ms):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms, max {ms.max():.1f} ms"


def train_in_window(config, probe: bool, scrub: bool = False, process: bool = True,
                    compare: str | None = None):
    """Train ``config`` in a fresh window with a neuron inspected: (the probe's lateness in ms,
    samples per second of each epoch, how often each group of panels was repainted). With
    ``scrub``, a timer picks a random moment of the history every 100 ms, and live every
    tenth time. With ``compare``, that preset trains beside it (and the time is until both end)."""
    import tempfile

    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer

    from app.screenshot import wait_for
    from app.window import MainWindow

    window = MainWindow(QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat),
                        process=process)
    window.confirm_discard = False
    window.resize(1600, 1000)
    window.show()
    if window.data is None:
        wait_for(window.data_ready)
    if window.trainer_process is not None:
        wait_ready(window.trainer_process)
    window.form.set_config(config)
    window.select_neuron(1, 0)  # the inspector live too
    if compare is not None:
        window.compare_with(compare)
        wait_ready(window.comparison.process)
        window.probes_dock.raise_()
        window.second_dock.raise_()
    counts = count_draws(window)

    lateness, clock, last = [], QElapsedTimer(), [0]

    def tick():
        now = clock.nsecsElapsed()
        if last[0]:
            lateness.append((now - last[0]) / 1e6 - PROBE_MS)
        last[0] = now

    timer = QTimer()
    timer.setInterval(PROBE_MS)
    timer.timeout.connect(tick)
    rng = np.random.default_rng(0)
    jumps = [0]

    def jump():
        jumps[0] += 1
        n = len(window.history)
        # as the timeline does when the user chooses a moment
        window.timeline.moment_chosen.emit(None if jumps[0] % 10 == 0 or n == 0 else int(rng.integers(n)))

    scrubber = QTimer()
    scrubber.setInterval(100)
    scrubber.timeout.connect(jump)
    clock.start()
    if probe:
        timer.start()
    start = time.perf_counter()
    window.train()
    if scrub:
        scrubber.start()
    wait_for(window.run_ended)
    if compare is not None and window.comparison.training is not None:
        wait_for(window.comparison.ended)
    seconds = time.perf_counter() - start
    timer.stop()
    scrubber.stop()
    speeds = [r.samples_per_sec for r in window.history.epochs]
    window.close()
    rates = ", ".join(f"{name} {n / seconds:.0f} Hz" for name, n in counts.items())
    return lateness, speeds, rates


def count_draws(window) -> dict[str, int]:
    """How often the window draws each group of panels from now on (filled as it draws)."""
    counts = {"cost": 0, "weights": 0, "activations": 0}

    def counted(name, draw):
        def wrapper(*args):
            counts[name] += 1
            return draw(*args)
        return wrapper

    window._draw_cost = counted("cost", window._draw_cost)
    window._draw_weights = counted("weights", window._draw_weights)
    window._draw_activations = counted("activations", window._draw_activations)
    return counts


def wait_ready(child, timeout: float = 60.0) -> None:
    """Until the training process has said it is ready (it says so once, first)."""
    child.start()  # waits for the window's start on its thread, if one is under way
    deadline = time.monotonic() + timeout
    while child.ready_seconds is None and time.monotonic() < deadline:
        child.receive(0.1, 1 << 16)


# --- the training process: start, Train, Stop ------------------------------------------------------


def bench_control(repeats: int = 7) -> None:
    """The child's start, Train to the first batch and Stop to the end of the run, in a window
    training 'fast' on the full MNIST."""
    import tempfile

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app import theme
    from app.screenshot import wait_for
    from app.window import MainWindow
    from core.config import preset

    app = QApplication.instance() or QApplication(sys.argv[:1])
    theme.configure()
    starts, firsts, stops = [], [], []
    for _ in range(repeats):
        window = MainWindow(QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat))
        window.confirm_discard = False
        window.show()
        if window.data is None:
            wait_for(window.data_ready)
        wait_ready(window.trainer_process)
        starts.append(window.trainer_process.ready_seconds)
        window.form.set_config(preset("fast").replace(epochs=50))
        first = []
        post = window.mailbox.post_batches

        def noted(*args, post=post, first=first):
            if not first:
                first.append(time.perf_counter())
            post(*args)

        window.mailbox.post_batches = noted  # called on the worker's thread, as the child's first batch arrives
        pressed = time.perf_counter()
        window.train()
        while not first:
            app.processEvents()
        firsts.append(first[0] - pressed)
        deadline = time.perf_counter() + 0.3 + 0.2 * np.random.default_rng(len(stops)).random()
        while time.perf_counter() < deadline:  # somewhere inside the first epoch
            app.processEvents()
        pressed = time.perf_counter()
        window.stop()
        wait_for(window.run_ended)
        stops.append(time.perf_counter() - pressed)
        window.close()

    def line(values):
        ms = np.array(values) * 1000
        return f"median {np.median(ms):.0f} ms, max {ms.max():.0f} ms"

    print(f"\nthe training process ({repeats} windows): start until ready {line(starts)}; Train "
          f"pressed until the first batch arrives {line(firsts)} (target <= 300 ms); Stop pressed "
          f"mid-epoch until the run is over {line(stops)} (target <= 100 ms)", flush=True)


def bench_pad(epochs: int) -> None:
    import math
    import tempfile

    from PySide6.QtCore import QCoreApplication, QEvent, QPointF, QSettings, Qt, QTimer
    from PySide6.QtGui import QMouseEvent

    from app.screenshot import wait_for
    from app.window import MainWindow
    from core.config import preset

    window = MainWindow(QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat))
    window.confirm_discard = False
    window.resize(1600, 1000)
    window.show()
    if window.data is None:
        wait_for(window.data_ready)
    window.form.set_config(preset("fast").replace(epochs=epochs))
    canvas = window.pad.canvas
    side = min(canvas.width(), canvas.height())
    k = [0]

    def send(kind, button, buttons, t):
        centre, radius = side / 2, side * 0.3
        point = QPointF(centre + radius * math.cos(t), centre + radius * math.sin(t) * 1.3)
        QCoreApplication.postEvent(canvas, QMouseEvent(kind, point, canvas.mapToGlobal(point), button,
                                                       buttons, Qt.KeyboardModifier.NoModifier))

    def move():
        k[0] += 1
        t = k[0] * 0.05
        if k[0] % 150 == 1:  # a new loop: lift the pen, clear, press again
            send(QEvent.Type.MouseButtonRelease, Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton, t)
            window.pad.clear()
            send(QEvent.Type.MouseButtonPress, Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, t)
        send(QEvent.Type.MouseMove, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, t)

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(move)
    window.train()
    timer.start()
    wait_for(window.run_ended)
    timer.stop()
    latencies = window.pad.latencies_ms
    window.close()
    print(f"\ndrawing pad while 'fast' trains {epochs} epochs: {k[0]} mouse moves posted every 5 ms, "
          f"{len(latencies)} predictions shown; mouse move to updated bars: median "
          f"{np.median(latencies):.1f} ms, p99 {np.percentile(latencies, 99):.1f} ms, max "
          f"{latencies.max():.1f} ms  (target p99 <= 16 ms)", flush=True)


# --- 5. a run's history ----------------------------------------------------------------------


def bench_history(epochs: int) -> str:
    """Train 'fast' headless with its history recorded; print its size; the saved file's path."""
    import tempfile

    from core.config import preset
    from core.data import load_mnist
    from core.history import History, record
    from core.model_io import save_model
    from core.train import Trainer

    config = preset("fast").replace(epochs=epochs)
    data = load_mnist()
    trainer = Trainer(data, config)
    history = History(config.architecture, data.y_test)
    start = time.perf_counter()
    for _ in record(trainer, history):
        pass
    seconds = time.perf_counter() - start
    path = os.path.join(tempfile.mkdtemp(), "brain.npz")
    save_model(path, trainer.net, {"epochs": trainer.epoch, "step": trainer.step,
                                   "test_accuracy": trainer.test_accuracy,
                                   "config": config.as_dict()}, history=history)
    print(f"\nhistory of 'fast' after {epochs} epochs ({seconds:.1f} s to train and record): "
          f"{len(history)} moments, {len(history.steps):,} batches; {history.nbytes / 2**20:.1f} MB "
          f"in memory (target <= 64 MB), {os.path.getsize(path) / 2**20:.1f} MB on disk "
          f"(target <= 32 MB)", flush=True)
    return path


# --- 6. scrubbing -------------------------------------------------------------------------------


def window_with(path: str, width: int, height: int):
    """(the QApplication, a window of width x height with the model file ``path`` open)."""
    import tempfile

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app import theme
    from app.screenshot import wait_for
    from app.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    theme.configure()
    window = MainWindow(QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat))
    window.confirm_discard = False
    window.resize(width, height)
    window.show()
    if window.data is None:
        wait_for(window.data_ready)
    if not window.open_model(path):
        raise SystemExit(f"the window could not open {path}")
    return app, window


def bench_scrub(path: str, steps: int = 300) -> None:
    app, window = window_with(path, 1600, 1000)
    window.select_neuron(1, 0)
    window.inspector_dock.raise_()  # on a small screen it shares its place with the pad
    app.processEvents()
    n = len(window.history)
    rng = np.random.default_rng(0)
    order = [*range(n), *(int(i) for i in rng.integers(n, size=steps - n))]
    times = []
    for i in order:
        start = time.perf_counter()
        window.show_moment(i)
        window.repaint()  # paint every panel now, as the next frame would
        app.processEvents()
        times.append((time.perf_counter() - start) * 1000)
    searches = []
    for i in range(n):
        window.show_moment(i)
        start = time.perf_counter()
        window.finish_pending()  # the search the window makes once a moment rests
        searches.append((time.perf_counter() - start) * 1000)
    window.close()
    print(f"\nscrubbing {n} moments of {path}: {len(times)} steps, in order then at random, each "
          f"until every panel is fed and painted: {spread(times)}  (target p99 <= 50 ms); the "
          f"inspector's search for exciting digits once a moment rests: median "
          f"{np.median(searches):.1f} ms", flush=True)


def bench_views(path: str) -> None:
    app, window = window_with(path, 1280, 720)
    history, data = window.history, window.data
    views = {"network diagram": (window.diagram_dock, lambda i, x, y: (
                 window.diagram.show_snapshot(history.snapshot(i)), window.diagram.show_input(x, y))),
             "layer map": (window.layermap_dock, lambda i, x, y: window.layermap.show_snapshot(history.snapshot(i))),
             "gradient flow": (window.flow_dock, lambda i, x, y: window.flow.show_position(
                 history.moments[i].position)),
             "neuron health": (window.health_dock, lambda i, x, y: window.health.show_moment(i))}
    print(f"\nthe views inside the network, {len(history)} moments of {path}, each fed a moment and a "
          f"test digit and repainted, at 1280x720:")
    window.health_dock.raise_()
    app.processEvents()
    start = time.perf_counter()
    window.health.finish()  # what its timer does a moment a tick when the tab first comes forward
    print(f"  neuron health, every moment examined: {time.perf_counter() - start:.2f} s "
          f"({(time.perf_counter() - start) / len(history) * 1000:.1f} ms a moment, a timer tick each)")
    for name, (dock, feed) in views.items():
        dock.raise_()
        app.processEvents()
        panel = dock.widget()
        times = []
        for rounds in range(3):
            for i in range(len(history)):
                digit = (7 * i + rounds) % len(data.x_test)
                start = time.perf_counter()
                feed(i, data.x_test[digit], int(data.y_test[digit]))
                panel.repaint()
                times.append((time.perf_counter() - start) * 1000)
        t = np.array(times)
        print(f"  {name:16s} ({panel.width()}x{panel.height()}): median {np.median(t):.1f} ms, p99 "
              f"{np.percentile(t, 99):.1f} ms, max {t.max():.1f} ms", flush=True)
    print("  (target for the diagram: <= 10 ms)")
    window.close()


if __name__ == "__main__":
    sys.exit(main())
