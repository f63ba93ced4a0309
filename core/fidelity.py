"""Does a digit drawn on the pad reach the network as MNIST would have made it?
``python -m core.fidelity [MODEL]`` (``--help``) measures it.

Every test digit is drawn again on a pad-sized canvas (CANVAS x CANVAS, ink = 1) as a user
might draw it: at a random size, its longer side 40-90% of the canvas; at a random place, wholly
inside; with strokes thickened by a random 0-2 pixels. The drawing is the digit's ink box
upscaled by bilinear interpolation (so strokes keep MNIST's soft edges, magnified), then a grey
dilation (a max filter) of radius 0, 1 or 2 canvas pixels. Each canvas goes through
``core.preprocess.preprocess`` and the network classifies the result. Accuracy on these drawn
digits is printed next to accuracy on the original 28x28 images: the difference is what the
round trip canvas -> 28x28 costs, and the target is less than one percentage point.

The random numbers come from ``np.random.default_rng(--seed)``, so a run can be repeated.
BLAS runs on one thread, as main.py trains: the matrices here are small, and OpenBLAS's
waiting threads slow everything down many times over when another process wants a core.
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from dataclasses import dataclass

import numpy as np

from core.commandline import Parser, guarded, positive_int
from core.config import preset
from core.data import load_mnist
from core.errors import ConfigError, one_sentence
from core.metrics import accuracy
from core.model_io import check_dataset, load_model
from core.network import Network
from core.preprocess import SIDE, preprocess
from core.train import Trainer

CANVAS = 280  # pixels on a side, the drawing pad's size
SIZES = (0.4, 0.9)  # the digit's longer side, as a fraction of the canvas
MAX_THICKENING = 2  # strokes grow by 0..MAX_THICKENING canvas pixels on every side
TARGET_PP = 1.0  # percentage points that drawing may cost at most
DEFAULT_EPOCHS = 5  # of the fast preset, when no model is given


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # each figure shows as soon as it is measured
    return guarded(lambda: run(args))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m core.fidelity",
                    description="Draw every MNIST test digit again on a 280x280 canvas (random "
                    "size, place and stroke thickness), preprocess it as the drawing pad does, and "
                    "compare the network's accuracy on these drawings with its accuracy on the "
                    "original 28x28 images.")
    add_network_arguments(parser, DEFAULT_EPOCHS, "(a few seconds)")
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="draw only the first N test digits (a quick look)")
    return parser


def add_network_arguments(parser: argparse.ArgumentParser, epochs: int, how_long: str) -> None:
    """What ``obtain_network`` and ``check_seed`` read: MODEL, --epochs (default ``epochs``),
    --seed and --data; shared by this benchmark and ``app.readbench``."""
    parser.add_argument("model", metavar="MODEL", nargs="?",
                        help="a brain.npz saved by 'main.py train'; without one, the fast preset "
                        f"is trained for --epochs epochs first {how_long}")
    parser.add_argument("--epochs", type=positive_int, default=epochs, metavar="N",
                        help="epochs of the fast preset when no MODEL is given (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random pictures (default: 0)")
    parser.add_argument("--data", metavar="PATH", help="MNIST as a Keras-style .npz or a folder of "
                        "IDX files (default: assets/mnist.npz, then ~/.keras/datasets/mnist.npz)")


def check_seed(args: argparse.Namespace) -> None:
    if args.seed < 0:
        raise ConfigError(f"the seed must be at least 0, got {args.seed}")


def run(args: argparse.Namespace) -> int:
    check_seed(args)
    from threadpoolctl import threadpool_limits  # core itself needs only NumPy

    with threadpool_limits(1):
        return compare(args)


def compare(args: argparse.Namespace) -> int:
    data = load_mnist(args.data)
    net, described = obtain_network(args, data)
    images = data.x_test[:args.limit].reshape(-1, SIDE, SIDE)  # (N, 784) -> (N, 28, 28)
    labels = data.y_test[:args.limit]
    print(f"model: {described}")
    print(f"seed {args.seed}, {len(images)} test digits from {data.source}, each drawn on a "
          f"{CANVAS}x{CANVAS} canvas: longer side {SIZES[0]:.0%}-{SIZES[1]:.0%} of it, anywhere "
          f"inside, strokes thickened by 0-{MAX_THICKENING} pixels")
    figures = measure(net, images, labels, np.random.default_rng(args.seed))
    figures.report()
    return 0


def obtain_network(args, data) -> tuple[Network, str]:
    """The network of args.model (WrongDataset unless trained on the dataset of ``data``), or the
    fast preset trained for args.epochs; and a description, one printable line."""
    if args.model is not None:
        net, meta = load_model(args.model)  # meta's fields are checked: epochs a whole number
        check_dataset(meta, data, args.model)  # a model of other classes cannot read digits
        epochs = meta.get("epochs")
        trained = f", trained {epochs} epochs" if isinstance(epochs, int) else ""
        return net, (f"{one_sentence(args.model)}: {'-'.join(map(str, net.sizes))} "
                     f"{net.hidden.name}/{net.output.name}{trained}")
    config = preset("fast").replace(epochs=args.epochs)
    epochs = f"{args.epochs} epoch{'s' if args.epochs > 1 else ''}"
    print(f"no model given: training the fast preset for {epochs} on {len(data.x_train)} images",
          flush=True)
    start = time.perf_counter()
    trainer = Trainer(data, config)
    for _ in trainer.run():
        pass
    return trainer.net, f"the fast preset trained here for {epochs} in {time.perf_counter() - start:.1f} s"


# --- drawing a digit on the canvas ------------------------------------------------------------


@dataclass(frozen=True)
class Drawing:
    canvas: np.ndarray  # (CANVAS, CANVAS) float32 in [0, 1], ink = 1
    size: float  # the digit's longer side, as a fraction of the canvas
    thickening: int  # canvas pixels added to the strokes on every side


def draw(image: np.ndarray, rng: np.random.Generator) -> Drawing:
    """A 28x28 digit in [0, 1] drawn on a canvas at a random size, place and stroke thickness."""
    if not image.any():  # no MNIST digit is blank, but a dataset given with --data might hold one
        return Drawing(np.zeros((CANVAS, CANVAS), dtype=np.float32), 0.0, 0)
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    h, w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    ink = np.pad(image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], 1)  # a rim of paper to blend into
    size = rng.uniform(*SIZES)
    k = size * CANVAS / max(h, w)  # canvas pixels per MNIST pixel
    B_rows, B_cols = bilinear_matrix(h + 2, k), bilinear_matrix(w + 2, k)
    drawn = B_rows @ ink @ B_cols.T  # (H, h+2) @ (h+2, w+2) @ (w+2, W) -> (H, W)
    thickening = int(rng.integers(0, MAX_THICKENING + 1))
    drawn = thicken(drawn, thickening)
    drawn = drawn[_nonzero_span(drawn.any(axis=1)), _nonzero_span(drawn.any(axis=0))]
    drawn = drawn[:CANVAS, :CANVAS]  # cuts nothing unless the digit is under 11 pixels (MNIST's: 19-20)
    H, W = drawn.shape
    top, left = rng.integers(0, CANVAS - H + 1), rng.integers(0, CANVAS - W + 1)
    canvas = np.zeros((CANVAS, CANVAS), dtype=np.float32)
    canvas[top:top + H, left:left + W] = drawn
    return Drawing(canvas, size, thickening)


def bilinear_matrix(n_in: int, k: float) -> np.ndarray:
    """(n_out, n_in), n_out = round(n_in k): linear interpolation between pixel centres. Output
    pixel i is centred on u = (i + 1/2) / k - 1/2 in input pixels, and takes (1 - t) of pixel
    floor(u) and t of the next, t = u - floor(u); past the first or last centre it copies that
    pixel (the rim of paper around the digit makes that zero)."""
    n_out = max(1, round(n_in * k))
    u = np.clip((np.arange(n_out) + 0.5) / k - 0.5, 0, n_in - 1)  # (n_out,)
    j = np.minimum(np.floor(u).astype(int), n_in - 2) if n_in > 1 else np.zeros(n_out, int)
    t = u - j
    B = np.zeros((n_out, n_in), dtype=np.float32)
    B[np.arange(n_out), j] = 1 - t
    if n_in > 1:
        B[np.arange(n_out), j + 1] = t
    return B


def thicken(image: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation by a (2 radius + 1)-pixel square: each pixel becomes the maximum of its
    neighbourhood. The image grows by ``radius`` on every side so no stroke is cut."""
    image = np.pad(image, radius)
    for _ in range(radius):  # a 3x3 maximum, ``radius`` times; each is two 3-wide passes
        p = np.pad(image, 1)
        image = np.maximum(np.maximum(p[:-2, 1:-1], p[1:-1, 1:-1]), p[2:, 1:-1])
        p = np.pad(image, 1)[1:-1]
        image = np.maximum(np.maximum(p[:, :-2], p[:, 1:-1]), p[:, 2:])
    return image


def _nonzero_span(mask: np.ndarray) -> slice:
    idx = np.flatnonzero(mask)
    return slice(idx[0], idx[-1] + 1)


# --- the measurement --------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    labels: np.ndarray  # (N,)
    original: np.ndarray  # (N,) the network's digits for the 28x28 test images
    drawn: np.ndarray  # (N,) its digits for the drawn ones
    sizes: np.ndarray  # (N,) the drawn digit's longer side, a fraction of the canvas
    thickenings: np.ndarray  # (N,)
    seconds: dict  # drawing, preprocessing, classifying

    def report(self) -> None:
        n = len(self.labels)
        s = self.seconds
        print(f"timings: drawing {s['drawing']:.2f} s, preprocessing {s['preprocessing']:.2f} s "
              f"({s['preprocessing'] / n * 1e6:.0f} µs a digit), classifying {s['classifying']:.2f} s")
        right_original, right_drawn = self.original == self.labels, self.drawn == self.labels
        print(f"  right as 28x28 but wrong drawn: {int((right_original & ~right_drawn).sum())}; "
              f"wrong as 28x28 but right drawn: {int((~right_original & right_drawn).sum())}")
        edges = np.linspace(*SIZES, 4)
        for lo, hi in zip(edges[:-1], edges[1:]):
            band = (self.sizes >= lo) & (self.sizes <= hi)
            print(f"  longer side {lo:.0%}-{hi:.0%}: drawn accuracy {_mean(right_drawn[band])}")
        for r in range(MAX_THICKENING + 1):
            print(f"  strokes thickened by {r} px: drawn accuracy "
                  f"{_mean(right_drawn[self.thickenings == r])}")
        original, drawn = accuracy(self.original, self.labels), accuracy(self.drawn, self.labels)
        gap = 100 * (drawn - original)
        verdict = "within" if abs(gap) < TARGET_PP else "MISSES"
        print(f"accuracy on the 28x28 test images: {original:.4f}")
        print(f"accuracy on the drawn digits:      {drawn:.4f}")
        print(f"difference: {gap:+.2f} percentage points ({verdict} the target of "
              f"{TARGET_PP:g})")


def _mean(right: np.ndarray) -> str:
    return f"{right.mean():.4f} ({len(right)} digits)" if len(right) else "(no digits)"


def measure(net: Network, images: np.ndarray, labels: np.ndarray,
            rng: np.random.Generator) -> Figures:
    """Draw, preprocess and classify every image; the network's answers and the timings."""
    n = len(images)
    x = np.zeros((n, SIDE * SIDE), dtype=np.float32)  # the preprocessed drawings
    sizes, thickenings = np.zeros(n), np.zeros(n, dtype=int)
    seconds = {"drawing": 0.0, "preprocessing": 0.0, "classifying": 0.0}
    for i, image in enumerate(images):
        start = time.perf_counter()
        drawing = draw(image, rng)
        drawn = time.perf_counter()
        stages = preprocess(drawing.canvas)
        seconds["drawing"] += drawn - start
        seconds["preprocessing"] += time.perf_counter() - drawn
        if stages is not None:  # None for a blank digit: its input stays zero
            x[i] = stages.x
        sizes[i], thickenings[i] = drawing.size, drawing.thickening
    start = time.perf_counter()
    original = net.predict(images.reshape(n, SIDE * SIDE))
    drawn = net.predict(x)
    seconds["classifying"] = time.perf_counter() - start
    return Figures(labels, original, drawn, sizes, thickenings, seconds)


if __name__ == "__main__":
    sys.exit(main())
