"""The command line without a window: ``train``, ``evaluate``, ``predict`` and ``compare``.

It lives in ``app`` because ``predict`` reads its image files through ``app.images`` (Qt's
QImageReader: QtGui, never QtWidgets), imported when it runs and only then; ``train`` and
``evaluate`` import no Qt at all, nor TensorFlow, so they start fast. ``train`` records the run's
history (``core.history``) and saves it with the network; ``evaluate`` shows it.

Every command runs under ``core.commandline.guarded``: a user error prints one sentence on stderr
and exits with status 2; a stdout that goes away (``| head -1``) or fills (``> /dev/full``) stops
the printing, not the work (``train`` still saves its model), and exits 141 or 2; a stream
closed before the start is /dev/null. ``train`` and ``compare`` check that their ``--out`` can be
written (``check_can_save``) and every whole-number flag is in its bounds before any training,
so a bad name never costs a trained network. Ctrl+C while training stops it, saves nothing (the
file named by ``--out`` stays as it was: a half-trained network is not what was asked for) and
exits 130; Ctrl+C during the save, which takes under a second, lets the save finish first.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from core.augment import AUGMENTATIONS
from core.commandline import (
    USER_ERROR,
    Parser,
    guarded,
    interrupt_deferred,
)
from core.compare import describe, settings, train_together
from core.config import PRESETS, TrainConfig, check_epochs, preset
from core.data import DATASETS, load_dataset, reads_digits, title
from core.errors import ConfigError, UserError, whole_number
from core.history import History, record
from core.metrics import accuracy, confusion_matrix, precision_recall
from core.npzio import check_can_save
from core.model_io import (
    check_dataset,
    dataset_meta,
    load_model,
    load_run,
    save_model,
    trained_on,
)
from core.network import HIDDEN_ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS
from core.optim import OPTIMIZERS
from core.schedule import SCHEDULES
from core.train import EpochReport, Trainer


def build_parser(prog: str = "main.py") -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description="Train, evaluate and watch a multilayer perceptron "
                    "written in NumPy learn MNIST. With no command, the window opens.",
                    epilog="The window takes --open FILE, --preset NAME, --data PATH, --limit N; "
                    "without a screen, --screenshot PNG [--moment E] pictures it and --timelapse "
                    "GIF films every recorded moment of the run (of --open FILE, or of --epochs N "
                    "trained first); 'main.py window --help' lists the window's options.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    train = commands.add_parser("train", help="train a network and save it",
                                description="Train a network on MNIST (or --dataset fashion) "
                                "and save it with the "
                                "history of its training. A preset gives every setting; each "
                                "flag overrides one.")
    train.add_argument("--preset", default="fast", choices=sorted(PRESETS),
                       help="classic: the original 784-20-20-20-10 sigmoid net with squared "
                       "error and plain SGD; fast: 784-256-128-10 ReLU, softmax, cross-entropy, "
                       "Adam (default: fast); watch: the window's, fast learning slower with weight "
                       "decay; best: 784-800-800-10 with dropout, augmentation and a one-cycle "
                       "schedule, 99%% in about 3.5 minutes; on a dataset that is not digits "
                       "best adds mixup and trains 48 epochs, 91%% of Fashion-MNIST in about 6")
    train.add_argument("--layers", type=_sizes, help="layer sizes, e.g. 784,256,128,10")
    train.add_argument("--activation", dest="hidden", choices=HIDDEN_ACTIVATIONS,
                       help="activation of the hidden layers")
    train.add_argument("--output", choices=OUTPUT_ACTIVATIONS, help="activation of the output layer")
    train.add_argument("--loss", choices=tuple(LOSSES), help="mse: mean squared error; ce: cross-entropy")
    train.add_argument("--optimizer", choices=tuple(OPTIMIZERS))
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--lr-decay", type=float, help="multiply the learning rate by this after each epoch")
    train.add_argument("--momentum", type=float, help="momentum coefficient (optimizer momentum)")
    train.add_argument("--weight-decay", type=float, help="L2 weight decay lambda")
    train.add_argument("--batch-size", type=int, help="samples per mini-batch (1 to the training set)")
    train.add_argument("--epochs", type=int)
    train.add_argument("--seed", type=int, help="seed of the initial weights and of the shuffling")
    train.add_argument("--dropout", type=float, help="probability of dropping each hidden neuron in a "
                       "training batch (inverted dropout; 0: none; never at test time)")
    train.add_argument("--schedule", choices=SCHEDULES, help="the learning rate over the run: step "
                       "(times --lr-decay after each epoch), cosine (down to ~0 by the last epoch), "
                       "onecycle (up from lr/25 to lr over 30%%, then down to lr/1e4)")
    train.add_argument("--warmup", type=float, metavar="EPOCHS",
                       help="epochs over which the learning rate rises linearly from ~0 (default 0)")
    train.add_argument("--augment", choices=tuple(AUGMENTATIONS), help="random changes to each "
                       "training image: none, auto (affine for digits, none for other datasets), "
                       "affine (shift, rotate, scale, shear), elastic (and bend)")
    train.add_argument("--mixup", type=float, metavar="ALPHA", help="blend each training image "
                       "and its target with another of the batch, by a weight drawn from "
                       "Beta(ALPHA, ALPHA) for each batch (0: none; 0.4 in best for clothes)")
    _add_data_flags(train)
    train.add_argument("--out", default="brain.npz", help="where to save the model (default: brain.npz)")

    evaluate = commands.add_parser("evaluate", help="test a saved network",
                                   description="The epochs recorded while it trained (if the "
                                   "file holds its history), then test accuracy, confusion "
                                   "matrix, per-digit precision and recall, and sample "
                                   "predictions of a saved model.")
    evaluate.add_argument("model", metavar="FILE", help="a brain.npz saved by train")
    _add_data_flags(evaluate, "the model's own")

    predict = commands.add_parser("predict", help="classify the digit in image files",
                                  description="Classify the handwritten digit in each image, "
                                  "prepared as MNIST's digits were (ink box scaled to 20 pixels, "
                                  "centre of mass centred in 28x28). A photo of ink on paper "
                                  "has its paper's uneven brightness removed first, and its "
                                  "EXIF orientation applied. One line per image: "
                                  "'IMAGE: digit (probability)'. An image that cannot be read, "
                                  "holds no ink or no digit-like ink gets an error line, the "
                                  "others are still classified, and the exit status is then 2.")
    predict.add_argument("model", metavar="MODEL", help="a brain.npz saved by train")
    predict.add_argument("images", metavar="IMAGE", nargs="+",
                         help="a PNG or JPEG file of up to 50 megapixels (above 4, read scaled "
                         "down): dark ink on light paper or light on dark, with or without "
                         "transparency")
    predict.add_argument("--number", action="store_true",
                         help="read every digit of each image, left to right, as a number: "
                         "'IMAGE: 2026 (0.99 0.97 0.99 0.95)', each digit's probability after it")
    _add_dataset_flag(predict, "the model's own; another is refused")

    compare = commands.add_parser("compare", help="train two networks side by side",
                                  description="Train two networks together, step-locked: the "
                                  "same images in the same order, a batch at a time of the one "
                                  "behind. Prints their epochs side by side and both test "
                                  "accuracies.")
    for which in ("A", "B"):
        compare.add_argument(f"settings_{which.lower()}", metavar=f"SETTINGS_{which}",
                             help="a preset, optionally with changes: classic, fast, "
                             "fast:lr=0.003,batch_size=64 (fields of the train flags, with "
                             "underscores; layer sizes as sizes=784-100-10)")
    compare.add_argument("--epochs", type=int, help="epochs for both (default: each preset's own)")
    compare.add_argument("--seed", type=int, default=0, help="seed of both runs (default: 0)")
    _add_data_flags(compare)
    compare.add_argument("--out", nargs=2, metavar=("FILE_A", "FILE_B"),
                         help="save both networks with their histories")
    return parser


def _add_data_flags(parser, dataset_default: str = "mnist"):
    _add_dataset_flag(parser, dataset_default)
    parser.add_argument("--data", metavar="PATH", help="the --dataset as a Keras-style .npz or a "
                        "folder of IDX files (default: MNIST from assets/mnist.npz, then "
                        "~/.keras/datasets/mnist.npz; Fashion-MNIST from /usr/share/datasets/"
                        "fashion-mnist, then ~/.keras/datasets/fashion-mnist)")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="use only the first N training and N test images (quick tries)")


def _add_dataset_flag(parser, default: str):
    parser.add_argument("--dataset", choices=tuple(DATASETS),
                        help="mnist: handwritten digits; fashion: Fashion-MNIST's clothes, shoes "
                        f"and bags (default: {default})")


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected sizes separated by commas, like 784,256,128,10, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    """The command line: an exit code (0; 2 for a user error; 130 for Ctrl+C; 141 when stdout's
    reader went away). Parsing runs guarded too, so ``--help | head -1`` is quiet."""
    return guarded(lambda: _run(argv), "interrupted; nothing was saved")


def _run(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return COMMANDS[args.command](args)


# --- train ------------------------------------------------------------------------------------

FLAGS_TO_CONFIG = {"layers": "sizes", "hidden": "hidden", "output": "output", "loss": "loss",
                   "optimizer": "optimizer", "lr": "lr", "lr_decay": "lr_decay",
                   "momentum": "momentum", "weight_decay": "weight_decay",
                   "batch_size": "batch_size", "epochs": "epochs", "seed": "seed",
                   "dropout": "dropout", "schedule": "schedule", "warmup": "warmup", "augment": "augment",
                   "mixup": "mixup"}


MAX_LIMIT = 10_000_000  # images: more than any dataset here holds (MNIST has 60,000 and 10,000)


def config_from_args(args, digits: bool = True) -> TrainConfig:
    """The --preset (its variant for a dataset of digits or not) with the flags' changes."""
    changes = {field: getattr(args, flag) for flag, field in FLAGS_TO_CONFIG.items()
               if getattr(args, flag) is not None}
    config = preset(args.preset, digits).replace(**changes)
    check_epochs(config.epochs)
    return config


def _run_settings(text: str, which: str, digits: bool = True, **common) -> TrainConfig:
    """``core.compare.settings``, a refusal saying which run it is about: "B: epochs must be..."."""
    try:
        config = settings(text, digits, **common)
        check_epochs(config.epochs)
    except ConfigError as exc:
        raise ConfigError(f"{which}: {exc}") from None
    return config


def load_data(args, dataset: str = "mnist"):
    """The --dataset (else ``dataset``), from --data if given, cut to --limit."""
    if args.limit is not None and not 1 <= args.limit <= MAX_LIMIT:
        raise ConfigError(f"--limit must be 1 to {MAX_LIMIT:,}, got {whole_number(args.limit)}"
                          if args.limit > 0 else f"--limit must be at least 1, got {args.limit}")
    return load_dataset(args.dataset or dataset, args.data, limit=args.limit)  # read no more than that


def train(args) -> int:
    config_from_args(args)  # refused before the data is read, as a bad --out is
    check_can_save(args.out, "the model")  # before training: a bad --out must not cost the run
    data = load_data(args)
    config = config_from_args(args, data.digits)  # 'best' differs for clothes
    trainer = Trainer(data, config)
    net = trainer.net
    print(f"training {'-'.join(map(str, net.sizes))} {net.hidden.name}/{net.output.name} "
          f"with {net.loss.name} and {config.optimizer} (lr {config.lr:g}{_extras(config)}, batch "
          f"{config.batch_size}) on {len(data.x_train)} images from {data.source}", flush=True)
    progress = ProgressBar(sys.stderr)
    started = time.perf_counter()
    history = History(config.architecture, data.y_test)
    try:
        for report in record(trainer, history):
            if isinstance(report, EpochReport):
                progress.clear()
                print(f"epoch {report.epoch:>{len(str(report.epochs))}}/{report.epochs}  "
                      f"cost {report.cost:.4f}  train {report.train_accuracy:.4f}  "
                      f"test {report.test_accuracy:.4f}  {report.seconds:.1f} s", flush=True)
            else:
                progress.show(report)
    except KeyboardInterrupt:
        progress.clear()
        raise KeyboardInterrupt(interrupted_training(trainer, config, [args.out])) from None
    with interrupt_deferred(f"interrupted while saving; the save finished first: '{args.out}' "
                            f"holds the trained model"):
        save_model(args.out, net, run_meta(trainer, data, time.perf_counter() - started), history)
    print(f"saved {args.out}, with the history of its training ({len(history)} moments)")
    print(f"test accuracy: {trainer.test_accuracy:.4f}")
    return 0


def interrupted_training(trainer: Trainer, config: TrainConfig, outs) -> str:
    """What Ctrl+C during training did, in one sentence: nothing saved, and the files named to
    save to (those that exist) as they were."""
    epoch = min(trainer.epoch + 1, config.epochs)
    kept = [f"'{out}'" for out in outs if os.path.lexists(out)]
    return (f"interrupted in epoch {epoch} of {config.epochs}; nothing was saved"
            + (f" ({' and '.join(kept)} {'is' if len(kept) == 1 else 'are'} as before)" if kept else ""))


def _extras(config: TrainConfig) -> str:
    """The settings beyond the learning rate that are not off, in a few words: ', onecycle,
    dropout 0.2, affine augmentation, mixup 0.4'."""
    words = [config.schedule] if config.schedule != "step" else []
    words += [f"warm-up {config.warmup:g} epochs"] if config.warmup else []
    words += [f"dropout {config.dropout:g}"] if config.dropout else []
    words += [f"{config.augment} augmentation"] if config.augment != "none" else []
    words += [f"mixup {config.mixup:g}"] if config.mixup else []
    return "".join(f", {w}" for w in words)


def run_meta(trainer: Trainer, data, seconds: float | None = None) -> dict:
    """What a model file says of how its network was trained."""
    return {"epochs": trainer.epoch, "test_accuracy": trainer.test_accuracy,
            **({"seconds": round(seconds, 2)} if seconds is not None else {}),
            "config": trainer.config.as_dict(), "dataset": data.source, **dataset_meta(data),
            "train_images": len(data.x_train)}


class ProgressBar:
    """One line on a terminal, redrawn at most ten times a second; silent when not a terminal."""

    def __init__(self, stream, width: int = 30):
        self.stream, self.width = stream, width
        self.active = stream.isatty()
        self.last = 0.0

    def show(self, report) -> None:
        now = time.monotonic()
        if not self.active or (now - self.last < 0.1 and report.batch != report.batches):
            return
        self.last = now
        done = int(self.width * report.batch / report.batches)
        self.stream.write(f"\repoch {report.epoch}/{report.epochs} [{'#' * done}{'.' * (self.width - done)}] "
                          f"{100 * report.batch // report.batches:3d}%  cost {report.cost:.4f}  "
                          f"{report.samples_per_sec:,.0f} samples/s ")
        self.stream.flush()

    def clear(self) -> None:
        if self.active:
            self.stream.write("\r\033[K")
            self.stream.flush()


# --- evaluate ---------------------------------------------------------------------------------


def evaluate(args) -> int:
    net, meta, history = load_run(args.model)
    trained, _ = trained_on(meta)
    data = load_data(args, trained if trained in DATASETS else "mnist")
    check_dataset(meta, data, args.model,
                  f"evaluate it with --dataset {trained}" if trained in DATASETS else "")
    names = data.class_names
    probabilities = net.predict_proba(data.x_test)
    predicted = probabilities.argmax(axis=1)
    labels = data.y_test
    counts = confusion_matrix(labels, predicted)
    precision, recall = precision_recall(counts)
    trained = f", trained {meta['epochs']} epochs" if "epochs" in meta else ""
    date = f" on {meta['date'][:10]}" if "date" in meta else ""
    print(f"model {args.model}: {'-'.join(map(str, net.sizes))} {net.hidden.name}/"
          f"{net.output.name} with {net.loss.name}{trained}{date}")
    if history is not None:
        print(history_table(history))
    print(f"evaluated on {len(labels)} test images of {data.title} from {data.source}\n")
    noun = "digit" if data.digits else "class"
    rows = list(names) if data.digits else [f"{k} {name}" for k, name in enumerate(names)]
    width, align = max(6, *(len(row) + 1 for row in rows)), ">" if data.digits else "<"
    print(f"confusion matrix (rows: true {noun}, columns: predicted {noun}"
          f"{'' if data.digits else ', numbered as the rows'})")
    print(" " * width + "".join(f"{j:>6}" for j in range(10)))
    for row, counted in zip(rows, counts):
        print(f"{row:{align}{width}}" + "".join(f"{c:>6}" for c in counted))
    width = max(len(noun), *map(len, names))
    print(f"\n{noun:{align}{width}}  precision  recall")
    for k, name in enumerate(names):
        print(f"{name:{align}{width}}  {precision[k]:>9.4f}  {recall[k]:>6.4f}")
    print("\nsample predictions (the first test images, then the most confident mistakes)")
    wrong = np.flatnonzero(predicted != labels)
    worst = wrong[np.argsort(-probabilities[wrong, predicted[wrong]])][:3]
    samples = [i for i in range(min(3, len(labels)))] + [int(i) for i in worst]
    print(side_by_side([digit_art(data.x_test[i].reshape(28, 28)) for i in samples],
                       [f"#{i}: {names[predicted[i]]} " + ("right" if predicted[i] == labels[i] else
                                                           f"WRONG, is {names[labels[i]]}")
                        for i in samples]))
    print(f"test accuracy: {accuracy(predicted, labels):.4f}")
    return 0


def history_table(history: History) -> str:
    """The epochs a history recorded, one line each, under a line saying what it holds."""
    lines = [(f"history: {len(history.epochs)} epochs, {len(history.steps)} batches and "
              f"{len(history)} moments recorded while training"),
             "epoch    cost  train acc  test acc  test cost  seconds"]
    lines += [f"{e.epoch:>5}  {e.cost:.4f}  {e.train_accuracy:>9.4f}  {e.test_accuracy:>8.4f}  "
              f"{e.test_cost:>9.4f}  {e.seconds:>7.1f}" for e in history.epochs]
    return "\n".join(lines) + "\n"


SHADES = " .:-=+*#%@"


def digit_art(image: np.ndarray) -> list[str]:
    """A 28x28 image in [0, 1] as 14 lines of 28 characters (two pixel rows per line, since a
    character is about twice as tall as it is wide)."""
    rows = image.reshape(14, 2, 28).max(axis=1)
    levels = np.minimum((rows * len(SHADES)).astype(int), len(SHADES) - 1)
    return ["".join(SHADES[v] for v in row) for row in levels]


def side_by_side(pictures: list[list[str]], captions: list[str], gap: int = 3) -> str:
    width = max(len(pictures[0][0]), *(len(c) for c in captions)) if pictures else 0
    lines = ["".join(c.ljust(width + gap) for c in captions).rstrip()]
    for k in range(len(pictures[0]) if pictures else 0):
        lines.append("".join(p[k].ljust(width + gap) for p in pictures).rstrip())
    return "\n".join(lines)


# --- predict ----------------------------------------------------------------------------------


def predict(args) -> int:
    net, meta = load_model(args.model)
    trained, names = trained_on(meta)
    if args.dataset is not None:
        check_dataset(meta, DATASETS[args.dataset], args.model,
                      f"it reads {title(trained)}'s classes, without --dataset")
    digits = reads_digits(names)
    if args.number and not digits:
        raise UserError(f"--number reads a number written in digits, but model '{args.model}' "
                        f"was trained on {title(trained)}, whose classes are not digits")
    failed = 0
    for path in args.images:
        try:
            if not digits:
                x = picture_from_file(path)
            else:
                x = digits_from_file(path, net.predict_proba) if args.number else digit_from_file(path)
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            failed += 1
            continue
        p = net.predict_proba(x)  # (n, 784) -> (n, 10)
        read = p.argmax(axis=1)
        if args.number:
            sure = " ".join(f"{q:.2f}" for q in p[np.arange(len(read)), read])
            print(f"{path}: {''.join(names[r] for r in read)} ({sure})", flush=True)
        else:
            print(f"{path}: {names[read[0]]} ({p[0, read[0]]:.2f})", flush=True)
    return USER_ERROR if failed else 0


def picture_from_file(path: str) -> np.ndarray:
    """The thing in the image file at path prepared as Fashion-MNIST's pictures were, as the
    network's input x (1, 784), or a UserError if it holds only background."""
    from core.preprocess import prepare_picture

    x = prepare_picture(_grey_levels(path))
    if x is None:
        raise UserError(f"nothing in image '{path}': it is all one shade")
    return x[None]


def digit_from_file(path: str) -> np.ndarray:
    """The digit in the image file at path as the network's input x (1, 784), or a UserError
    naming the fault."""
    from core.photo import NotADigit, read_digit

    try:
        _, stages = read_digit(_grey_levels(path))
    except NotADigit as exc:
        raise UserError(f"no digit in image '{path}': {exc}") from None
    return stages.x[None]


def digits_from_file(path: str, probabilities=None) -> np.ndarray:
    """Every digit in the image file at path, left to right, as inputs (n, 784); touching
    digits are cut where the network's ``probabilities`` (``Network.predict_proba``) are
    surest, if given."""
    from core.photo import NotADigit, read_number

    try:
        _, found = read_number(_grey_levels(path), probabilities)
    except NotADigit as exc:
        raise UserError(f"no number in image '{path}': {exc}") from None
    return np.stack([stages.x for stages in found])


def _grey_levels(path: str) -> np.ndarray:
    # Qt's image readers (QtGui only), imported on this path alone
    from app.images import read_grey_levels

    return read_grey_levels(path)


# --- compare ----------------------------------------------------------------------------------


def compare(args) -> int:
    common = {"seed": args.seed, **({"epochs": args.epochs} if args.epochs is not None else {})}
    runs = (("A", args.settings_a), ("B", args.settings_b))
    for which, text in runs:
        _run_settings(text, which, **common)  # refused before the data is read
    for path in args.out or ():
        check_can_save(path, "the model")
    data = load_data(args)
    # again for the dataset read: 'best' differs for clothes
    configs = [_run_settings(text, which, data.digits, **common) for which, text in runs]
    trainers = [Trainer(data, config) for config in configs]
    histories = [History(config.architecture, data.y_test) for config in configs]
    for name, config in zip("AB", configs):
        print(f"{name}: {describe(config)}, {config.epochs} epochs, seed {config.seed}")
    print(f"both on the same {len(data.x_train)} images from {data.source}, in the same order\n")
    print("epoch   A cost  A test   B cost  B test")
    reports: list[dict[int, EpochReport]] = [{}, {}]
    shown = 0
    progress = ProgressBar(sys.stderr)
    try:
        for i, report in train_together(trainers, histories):
            if not isinstance(report, EpochReport):
                progress.show(report)
                continue
            reports[i][report.epoch] = report
            while all(shown + 1 in r or t.epoch >= t.config.epochs for r, t in zip(reports, trainers)) \
                    and any(shown + 1 in r for r in reports):
                shown += 1
                progress.clear()
                cells = [f"{r[shown].cost:>7.4f}  {r[shown].test_accuracy:.4f}" if shown in r
                         else f"{'':>7}  {'':>6}" for r in reports]
                print(f"{shown:>5}  {cells[0]}  {cells[1]}".rstrip(), flush=True)
    except KeyboardInterrupt:
        progress.clear()
        behind = min(trainers, key=lambda t: t.epoch)
        raise KeyboardInterrupt(interrupted_training(behind, behind.config, args.out or ())) from None
    if args.out:
        with interrupt_deferred("interrupted while saving; the saves finished first"):
            for path, trainer, history in zip(args.out, trainers, histories):
                save_model(path, trainer.net, run_meta(trainer, data), history)
        print(f"saved {args.out[0]} and {args.out[1]}")
    print(f"test accuracy: A {trainers[0].test_accuracy:.4f}  B {trainers[1].test_accuracy:.4f}")
    return 0


COMMANDS = {"train": train, "evaluate": evaluate, "predict": predict, "compare": compare}
