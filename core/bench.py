"""How fast the network trains and answers, in figures: ``python -m core.bench`` (``--help``).

One run measures, on the full MNIST, in this order:

1. The setup: Python, NumPy, the BLAS library NumPy calls (from ``threadpoolctl``) with its
   version, core type and threads, and the OPENBLAS_* variables that override its detection.
   BLAS threads are fixed with ``threadpool_limits(--threads)`` for the whole run, TensorFlow's
   with ``tf.config.threading`` right after it is imported, before any operation runs. One
   thread by default, as main.py trains: with two, OpenBLAS gains a quarter on an idle machine
   but loses up to fifty times when another process wants a core.
2. One training epoch of the ``classic`` and ``fast`` presets through ``core.train.Trainer``:
   the batches only (shuffle, forward, backprop, optimiser step, the Trainer's bookkeeping),
   timed with ``time.perf_counter`` from the start of the epoch to its last ``BatchReport``.
   The test-set evaluation that the Trainer runs before its ``EpochReport`` is timed apart.
   The first epoch is shown on its own (it warms caches and allocates buffers), then the
   median, min and max of ``--epochs`` more.
3. What recording the gradient flow (``core.train.FLOW_FIELDS``) costs: epochs of each preset
   with it recorded as the Trainer does, of every batch, and never, taken in turn.
4. Wall time from the start of a fresh ``fast`` training to 98% test accuracy, each epoch's
   evaluation included, within the preset's epochs.
5. The latency of classifying one image, ``net.predict_proba(x[i:i+1])``, for the two trained
   networks: median and 99th percentile of ``--calls`` calls, after a few warm-up calls.
6. Unless ``--no-keras``: the ``fast`` network again in tf.keras, with the same layers, loss,
   Adam constants, batch size, float32 and initial weights (the Trainer builds ours, Keras gets
   its weights), and the same learning rate per epoch (the preset multiplies it by ``lr_decay``
   after each epoch, which changes no epoch's cost). Each epoch is one ``model.fit(...,
   epochs=1, shuffle=True, verbose=0)``, timed as a whole, the first apart; one-image latency is
   a direct call ``model(x, training=False)``. Keras's median epoch divided by ours is the
   headline: above 1 means NumPy is faster.

The machine may be busy with other work: the load average is printed at the start and at the
end, and the min/max spread of the epochs shows how steady the figures are.
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.commandline import Parser, guarded, positive_int
from core.compare import train_together
from core.config import PRESETS, TrainConfig
from core.data import Dataset, load_mnist, one_hot
from core.errors import UserError
from core.network import Network
from core.optim import Adam
from core.train import BatchReport, EpochReport, Trainer

TARGET_ACCURACY = 0.98
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
WARMUP_CALLS = 50  # one-image predictions run before the timed ones
NOISY_SPREAD = 1.5  # slowest / fastest timed epoch above which the figures are flagged as noisy


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # each figure shows as soon as it is measured
    return guarded(lambda: run(args) or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m core.bench",
                     description="Time training and one-image inference of the NumPy network on "
                     "MNIST, and of the same network in tf.keras.")
    parser.add_argument("--threads", type=positive_int, default=1, metavar="N",
                        help="BLAS and TensorFlow threads (default: %(default)s, as main.py trains)")
    parser.add_argument("--epochs", type=positive_int, default=5, metavar="N",
                        help="epochs timed after the first, for each network (default: %(default)s)")
    parser.add_argument("--calls", type=positive_int, default=2000, metavar="N",
                        help="one-image predictions timed for each network (default: %(default)s)")
    parser.add_argument("--no-keras", dest="keras", action="store_false",
                        help="skip the comparison with tf.keras (and the import of TensorFlow)")
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="use only the first N training and test images (a quick look)")
    return parser


def run(args: argparse.Namespace) -> None:
    if args.keras and importlib.util.find_spec("tensorflow") is None:
        raise UserError("TensorFlow is not installed; install it or pass --no-keras")
    from threadpoolctl import (  # core itself needs only NumPy
        threadpool_info,
        threadpool_limits,
    )

    default_pools = threadpool_info()
    with threadpool_limits(args.threads):
        print_setup(default_pools, threadpool_info(), args.threads)
        data = load_mnist().limit(args.limit, args.limit)
        print(f"  data: {len(data.x_train)} training and {len(data.x_test)} test images "
              f"from {data.source}")
        classic_times, classic_net = bench_training(data, "classic", args.epochs)
        fast_times, fast_net = bench_training(data, "fast", args.epochs)
        flow_costs = {name: bench_flow(data, name, args.epochs) for name in ("classic", "fast")}
        bench_together(data, args.epochs)
        to_target = bench_time_to_accuracy(data, PRESETS["fast"], TARGET_ACCURACY)
        fast_latency = bench_latency({"classic": classic_net, "fast": fast_net}, data.x_test,
                                     args.calls)["fast"]
        keras = None
        if args.keras:
            keras = bench_keras(data, PRESETS["fast"], args.epochs, args.calls, args.threads)
        print_summary(classic_times, fast_times, to_target, fast_latency, keras, flow_costs)


# --- setup ------------------------------------------------------------------------------------


def print_setup(default_pools: list[dict], pools: list[dict], threads: int) -> None:
    print("setup")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, {cpu_name()}, "
          f"{os.cpu_count()} CPUs, load average {load_average()}")
    print("  " + "  ".join(f"{name}={os.environ.get(name, '(unset)')}" for name in OPENBLAS_VARIABLES))
    for default, pool in zip(default_pools, pools):
        print(f"  {describe_pool(pool)}: {default['num_threads']} threads by default")
    print(f"  threads fixed for this run: {threads}, with threadpool_limits (the pools now report "
          f"{', '.join(str(p['num_threads']) for p in pools) or 'nothing: none was found'})")
    if any(name in os.environ for name in OPENBLAS_VARIABLES):
        print(f"  note: {' and '.join(OPENBLAS_VARIABLES)} override OpenBLAS's own choice of kernels; "
              f"for the fair figure run: env -u {' -u '.join(OPENBLAS_VARIABLES)} python -m core.bench")


def describe_pool(pool: dict) -> str:
    """One thread pool of threadpoolctl, e.g. 'blas: openblas 0.3.31, core type Haswell, ...'."""
    core_type = f", core type {pool['architecture']}" if pool.get("architecture") else ""
    return (f"{pool['user_api']}: {pool['internal_api']} {pool.get('version') or '(version unknown)'}"
            f"{core_type}, {pool.get('threading_layer', 'unknown')} threading "
            f"({Path(pool['filepath']).name})")


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- our training -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EpochTimes:
    """Seconds per training epoch: the first apart (it warms up), then the others."""
    first: float
    rest: tuple[float, ...]
    samples: int  # trained per epoch

    @property
    def median(self) -> float:
        return statistics.median(self.rest)

    @property
    def spread(self) -> float:
        """The slowest timed epoch over the fastest: near 1 on a quiet machine."""
        return max(self.rest) / min(self.rest)

    @property
    def noisy(self) -> bool:
        return self.spread > NOISY_SPREAD


def print_times(times: EpochTimes) -> None:
    print(f"  training   first epoch {times.first:.3f} s; next {len(times.rest)}: median "
          f"{times.median:.3f} s (min {min(times.rest):.3f}, max {max(times.rest):.3f}), "
          f"{times.samples / times.median:,.0f} samples/s")
    print(f"  all epochs {' '.join(f'{s:.3f}' for s in (times.first, *times.rest))} s")
    if times.noisy:
        print(f"  NOISY: the slowest timed epoch took {times.spread:.1f}x the fastest (another "
              f"process on the CPUs? see the load average); compare the fastest epochs too")


def bench_training(data: Dataset, name: str, n_timed: int) -> tuple[EpochTimes, Network]:
    """Train 1 + n_timed epochs of the preset ``name`` and time each; the times and the trained
    network."""
    config = PRESETS[name].replace(epochs=1 + n_timed)
    print(f"\n{name}: {describe_config(config)}, {math.ceil(len(data.x_train) / config.batch_size)} "
          f"batches per epoch")
    trainer = Trainer(data, config)
    reports = trainer.run()
    trained, evaluated = [], []
    for _ in range(config.epochs):
        train_seconds, eval_seconds, report = train_one_epoch(reports)
        trained.append(train_seconds)
        evaluated.append(eval_seconds)
    times = EpochTimes(trained[0], tuple(trained[1:]), len(data.x_train))
    print_times(times)
    print(f"  evaluation of the test set after each epoch: median {statistics.median(evaluated):.3f} s "
          f"(not in the figures above); test accuracy after {report.epoch} epochs "
          f"{report.test_accuracy:.4f}")
    return times, trainer.net


class _FlowEvery(Trainer):
    """A Trainer that records the gradient flow of every ``every``-th batch (None: never)."""

    def __init__(self, data: Dataset, config: TrainConfig, every: int | None):
        super().__init__(data, config)
        self._every = every

    @property
    def flow_every(self) -> int:
        return self._every if self._every is not None else 2**62


def bench_flow(data: Dataset, name: str, n_timed: int) -> float:
    """What recording the gradient flow costs: epochs of the preset ``name`` with the flow
    recorded as the Trainer does, of every batch, and never, taken in turn (one epoch of each
    per round, after a first round untimed), which a busy machine blurs by several per cent;
    then the flow of one batch sized alone against that batch's backprop and step. The cost as
    recorded: that fraction, over the batches between two recorded."""
    config = PRESETS[name].replace(epochs=1 + n_timed)
    every = Trainer(data, config).flow_every
    variants = {"never": None, "as recorded": every, "every batch": 1}
    runs = {label: _FlowEvery(data, config, k).run() for label, k in variants.items()}
    times: dict[str, list[float]] = {label: [] for label in variants}
    for _ in range(config.epochs):
        for label, reports in runs.items():
            times[label].append(train_one_epoch(reports)[0])
    median = {label: statistics.median(t[1:]) for label, t in times.items()}
    base = median["never"]
    print(f"\ngradient flow recorded, {name}: every {every} batch{'es' if every > 1 else ''} "
          f"(Trainer.flow_every); median epoch of {n_timed}, taken in turn")
    for label, seconds in median.items():
        extra = "" if label == "never" else f"  {100 * (seconds / base - 1):+.1f}%"
        print(f"  {label:12s} {seconds:.3f} s{extra}")
    flow, batch = time_flow_of_one_batch(data, config)
    print(f"  one batch's flow sized alone: {flow * 1e6:.0f} µs, against {batch * 1e6:.0f} µs of its "
          f"backprop and step ({100 * flow / batch:.1f}%; recorded every {every}: "
          f"{100 * flow / batch / every:.1f}%), medians of 200")
    return flow / batch / every


def bench_together(data: Dataset, n_timed: int) -> float:
    """Two runs trained together, step-locked (``core.compare.train_together``: what
    ``main.py compare classic fast`` does), against the same two trained alone: an epoch of
    classic alone, one of fast alone, and one of both together, in turn, after a first round
    untimed; medians of wall time. The ratio of together to the sum should be 1."""
    configs = [PRESETS[name].replace(epochs=1 + n_timed) for name in ("classic", "fast")]
    alone = [Trainer(data, config).run() for config in configs]
    together = train_together([Trainer(data, config) for config in configs])
    times: dict[str, list[float]] = {"classic": [], "fast": [], "together": []}
    for _ in range(1 + n_timed):
        for name, reports in zip(("classic", "fast"), alone):
            start = time.perf_counter()
            next(r for r in reports if isinstance(r, EpochReport))
            times[name].append(time.perf_counter() - start)
        start = time.perf_counter()
        ends = 0
        while ends < 2:
            ends += isinstance(next(together)[1], EpochReport)
        times["together"].append(time.perf_counter() - start)
    median = {name: statistics.median(t[1:]) for name, t in times.items()}
    ratio = median["together"] / (median["classic"] + median["fast"])
    print(f"\ntwo runs step-locked (classic and fast), median epoch of {n_timed}, taken in turn:")
    print(f"  classic alone {median['classic']:.3f} s, fast alone {median['fast']:.3f} s, "
          f"together {median['together']:.3f} s: {ratio:.3f} x the sum")
    return ratio


def time_flow_of_one_batch(data: Dataset, config: TrainConfig) -> tuple[float, float]:
    """(seconds to size one batch's gradient flow, seconds of that batch's backprop and
    optimiser step), medians of 200 of each: what the epochs above show within their noise."""
    trainer = Trainer(data, config)
    B = config.batch_size
    x, y = data.x_train[:B], one_hot(data.y_train[:B])
    flows, batches = [], []
    for _ in range(200):
        start = time.perf_counter()
        deltas = [None] * trainer.net.n_layers
        cost, nabla_W, nabla_b, _ = trainer.net.backprop(x, y, deltas)
        sized = time.perf_counter()
        flow = trainer._flow(nabla_W, deltas)
        sized = time.perf_counter() - sized
        changes = trainer.optimizer.step(trainer._params, nabla_W + nabla_b, trainer.lr, trainer._decay)
        after = time.perf_counter()
        flow[2] = trainer._update_ratios(changes)
        sized += time.perf_counter() - after
        batches.append(time.perf_counter() - start - sized)
        flows.append(sized)
    return statistics.median(flows), statistics.median(batches)


def describe_config(config: TrainConfig) -> str:
    return (f"{'-'.join(map(str, config.sizes))} {config.hidden}/{config.output}, {config.loss}, "
            f"{config.optimizer} lr {config.lr:g} (x{config.lr_decay:g} per epoch), "
            f"batch {config.batch_size}")


def train_one_epoch(reports: Iterator[BatchReport | EpochReport]) -> tuple[float, float, EpochReport]:
    """Advance a ``Trainer.run()`` by one epoch: (seconds of its batches, seconds of the test-set
    evaluation that follows them, the epoch's report)."""
    start = time.perf_counter()
    for report in reports:
        if isinstance(report, BatchReport) and report.batch == report.batches:
            break
    trained = time.perf_counter()
    report = next(reports)  # the Trainer evaluates on the test set before it yields this
    return trained - start, time.perf_counter() - trained, report


def bench_time_to_accuracy(data: Dataset, config: TrainConfig, target: float) -> float | None:
    """Seconds from a fresh Trainer to ``target`` test accuracy, or None if it is not reached."""
    print(f"\ntime to {target:.0%} test accuracy, fast preset, up to {config.epochs} epochs "
          f"(wall time, evaluation included)")
    start = time.perf_counter()
    for report in Trainer(data, config).run():
        if isinstance(report, EpochReport):
            elapsed = time.perf_counter() - start
            print(f"  epoch {report.epoch:>2}: test accuracy {report.test_accuracy:.4f} at {elapsed:.2f} s")
            if report.test_accuracy >= target:
                print(f"  reached {target:.0%} at epoch {report.epoch}, {elapsed:.2f} s after the start")
                return elapsed
    print(f"  did not reach {target:.0%} in {config.epochs} epochs")
    return None


# --- one-image latency ------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    median: float  # seconds
    p99: float

    def summary(self) -> str:
        return f"median {self.median * 1e6:,.0f} µs, p99 {self.p99 * 1e6:,.0f} µs"


def bench_latency(nets: dict[str, Network], images: np.ndarray, calls: int) -> dict[str, Latency]:
    print(f"\none-image latency, predict_proba(x[i:i+1]), {calls} calls on the trained networks")
    latencies = {}
    for name, net in nets.items():
        latencies[name] = measure_latency(net.predict_proba, images, calls)
        print(f"  {name:8s} {latencies[name].summary()}")
    return latencies


def measure_latency(predict: Callable[[np.ndarray], object], images: np.ndarray, calls: int) -> Latency:
    """Time ``predict(images[i:i+1])`` for ``calls`` images in turn (the slice is taken before
    the clock starts)."""
    for k in range(WARMUP_CALLS):
        predict(one_image(images, k))
    seconds = []
    for k in range(calls):
        x = one_image(images, k)
        start = time.perf_counter()
        predict(x)
        seconds.append(time.perf_counter() - start)
    return Latency(statistics.median(seconds), percentile(seconds, 99))


def one_image(images: np.ndarray, k: int) -> np.ndarray:
    """The k-th image, counting round the array, as a batch of one: (1, 784)."""
    i = k % len(images)
    return images[i:i + 1]


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-th percentile: the smallest value with at least q% of values at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(q / 100 * len(ordered)) - 1, 0)]


# --- the same network in tf.keras -------------------------------------------------------------


@dataclass(frozen=True)
class KerasFigures:
    epochs: EpochTimes
    latency: Latency


def bench_keras(data: Dataset, config: TrainConfig, n_timed: int, calls: int,
                threads: int) -> KerasFigures:
    print("\nkeras: the fast network in tf.keras, same run")
    tf = import_tensorflow(threads)
    ours = Trainer(data, config).net  # the seed of the config gives our timed run's first weights
    model = keras_twin(tf, ours, config)
    print(f"  model: {describe_keras(model)}; batch {config.batch_size}; the learning rate is "
          f"multiplied by {config.lr_decay:g} after each epoch, as ours is")
    probe = data.x_test[:256]
    gap = np.abs(model(probe, training=False).numpy() - ours.predict_proba(probe)).max()
    print(f"  same initial weights as ours: max |p_keras - p_numpy| over {len(probe)} test images "
          f"= {gap:.1e}")
    times = time_keras_epochs(model, data, config, n_timed)
    print_times(times)
    accuracy = model.evaluate(data.x_test, one_hot(data.y_test), batch_size=1024, verbose=0,
                              return_dict=True)["accuracy"]
    print(f"  test accuracy after {1 + n_timed} epochs {accuracy:.4f} (not timed)")
    latency = measure_latency(lambda x: model(x, training=False).numpy(), data.x_test, calls)
    print(f"  one-image latency, model(x, training=False).numpy(): {latency.summary()}")
    return KerasFigures(times, latency)


def import_tensorflow(threads: int):
    """TensorFlow, its thread pools fixed to ``threads`` before any operation runs."""
    start = time.perf_counter()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # its start-up chatter, not our figures
    import tensorflow as tf  # seconds and hundreds of MB: only when Keras is compared
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    print(f"  tensorflow {tf.__version__}, keras {tf.keras.__version__} (imported in "
          f"{time.perf_counter() - start:.1f} s), intra-op threads "
          f"{tf.config.threading.get_intra_op_parallelism_threads()}, inter-op threads "
          f"{tf.config.threading.get_inter_op_parallelism_threads()}, floatx {tf.keras.config.floatx()}")
    return tf


def keras_twin(tf, net: Network, config: TrainConfig):
    """A compiled tf.keras model with ``net``'s layers and weights, trained as ``config`` says."""
    if (config.optimizer, config.output, config.loss) != ("adam", "softmax", "ce"):
        raise ValueError(f"the Keras twin is built for Adam and softmax with cross-entropy, got "
                         f"{config.optimizer}, {config.output} and {config.loss}")
    keras = tf.keras
    layers = [keras.Input((net.sizes[0],))]
    layers += [keras.layers.Dense(n_out, activation=net.activation(l).name)
               for l, n_out in enumerate(net.sizes[1:])]
    model = keras.Sequential(layers)
    model.set_weights([p for W, b in zip(net.W, net.b) for p in (W, b)])  # [W0, b0, W1, b1, ...]
    adam = Adam()  # our optimiser's constants, so the two cannot drift apart
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.lr, beta_1=adam.beta1,
                                                  beta_2=adam.beta2, epsilon=adam.eps),
                  loss="categorical_crossentropy", metrics=["accuracy"])  # ours counts accuracy too
    return model


def describe_keras(model) -> str:
    """The model as Keras holds it, read back rather than restated."""
    layers = ", ".join(f"Dense {layer.units} {layer.activation.__name__} ({layer.dtype})"
                       for layer in model.layers)
    opt = model.optimizer
    return (f"{layers}; {model.loss}; Adam lr {float(opt.learning_rate):g}, beta1 {opt.beta_1}, "
            f"beta2 {opt.beta_2}, eps {opt.epsilon:g}; XLA {'on' if model.jit_compile else 'off'}")


def time_keras_epochs(model, data: Dataset, config: TrainConfig, n_timed: int) -> EpochTimes:
    """Time 1 + n_timed calls of ``model.fit(..., epochs=1)``, setting the learning rate of each
    epoch as our Trainer does."""
    y = one_hot(data.y_train)
    seconds = []
    for epoch in range(1 + n_timed):
        model.optimizer.learning_rate = config.lr * config.lr_decay ** epoch
        start = time.perf_counter()
        model.fit(data.x_train, y, batch_size=config.batch_size, epochs=1, shuffle=True, verbose=0)
        seconds.append(time.perf_counter() - start)
    return EpochTimes(seconds[0], tuple(seconds[1:]), len(data.x_train))


# --- summary ----------------------------------------------------------------------------------


def print_summary(classic: EpochTimes, fast: EpochTimes, to_target: float | None,
                  fast_latency: Latency, keras: KerasFigures | None, flow_costs: dict[str, float]) -> None:
    n = len(fast.rest)
    print(f"\nsummary (training epochs: median of {n} after the first, batches only)")
    print(f"  classic epoch: numpy {classic.median:.2f} s{noise_mark(classic)}")
    if keras is None:
        print(f"  fast epoch: numpy {fast.median:.2f} s{noise_mark(fast)} (keras skipped)")
    else:
        print(f"  fast epoch: numpy {fast.median:.2f} s{noise_mark(fast)}, keras "
              f"{keras.epochs.median:.2f} s{noise_mark(keras.epochs)} -> "
              f"{compare(fast.median, keras.epochs.median)}")
        print(f"  fast epoch, fastest of {n}: numpy {min(fast.rest):.2f} s, keras "
              f"{min(keras.epochs.rest):.2f} s -> {compare(min(fast.rest), min(keras.epochs.rest))}")
        print(f"  fast first epoch: numpy {fast.first:.2f} s, keras {keras.epochs.first:.2f} s -> "
              f"{compare(fast.first, keras.epochs.first)}")
        print(f"  one image, fast: numpy {fast_latency.median * 1e6:,.0f} µs, keras "
              f"{keras.latency.median * 1e6:,.0f} µs (medians) -> "
              f"{compare(fast_latency.median, keras.latency.median)}")
    print("  recording the gradient flow costs " + ", ".join(
        f"{name} {100 * cost:.1f}%" for name, cost in flow_costs.items()) + " of a batch's backprop and step")
    reached = f"{to_target:.1f} s" if to_target is not None else "not reached"
    print(f"  fast to {TARGET_ACCURACY:.0%} test accuracy: {reached}")
    print(f"  load average now {load_average()}")


def noise_mark(times: EpochTimes) -> str:
    return f" (NOISY, spread {times.spread:.1f}x)" if times.noisy else ""


def compare(numpy_seconds: float, keras_seconds: float) -> str:
    """'numpy is 2.4x faster' or 'keras is 1.3x faster', with the ratio keras / numpy."""
    ratio = keras_seconds / numpy_seconds
    faster = f"numpy is {ratio:.1f}x faster" if ratio >= 1 else f"keras is {1 / ratio:.1f}x faster"
    return f"{faster} (keras/numpy = {ratio:.2f})"


if __name__ == "__main__":
    sys.exit(main())
