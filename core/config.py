"""Training settings: one frozen dataclass that checks itself, and the named presets."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from core.errors import ConfigError, whole_number
from core.network import check_architecture
from core.optim import OPTIMIZERS
from core.schedule import SCHEDULES

N_INPUTS = 784  # one input per pixel of a 28x28 image
N_CLASSES = 10  # one output per digit
# Bounds of the whole-number settings beyond "at least 1" (or 0): what the window's form takes
# (app.controls.LIMITS), so a model trained anywhere opens there. The seed is a 32-bit signed
# number, as Qt's spin boxes hold, and every TrainConfig is checked against it. MAX_EPOCHS bounds
# what one command or one Train asks for (``check_epochs``), not a run's total, which grows with
# every Train again (``Trainer.extend``); 10,000 epochs of 'fast' are about 1.5 hours.
MAX_EPOCHS = 10_000
MAX_SEED = 2**31 - 1
# mixup's alpha at most: Beta(100, 100) already draws lambda within 0.09 of 1/2 in 99% of batches
# (every image nearly half of two), so a larger alpha would change little.
MAX_MIXUP = 100.0


@dataclass(frozen=True)
class TrainConfig:
    sizes: tuple[int, ...] = (784, 20, 20, 20, 10)
    hidden: str = "sigmoid"  # activation of the hidden layers
    output: str = "sigmoid"  # activation of the output layer
    loss: str = "mse"
    optimizer: str = "sgd"
    lr: float = 3.0  # the learning rate, eta
    lr_decay: float = 1.0  # eta is multiplied by this after every epoch
    momentum: float = 0.9  # mu, used by the momentum optimiser only
    weight_decay: float = 0.0  # lambda of the L2 penalty
    batch_size: int = 10
    epochs: int = 10
    seed: int = 0
    # Added later, with defaults that train as before, so older saved settings still load:
    dropout: float = 0.0  # p, the probability a hidden neuron is dropped in a training batch
    schedule: str = "step"  # the learning rate over the run: see core.schedule
    warmup: float = 0.0  # epochs over which the learning rate rises linearly from ~0
    augment: str = "none"  # how each training batch's images are changed: see core.augment
    mixup: float = 0.0  # alpha of mixup's Beta(alpha, alpha): see core.mixup; 0: off

    def __post_init__(self):
        object.__setattr__(self, "sizes", tuple(self.sizes))
        check_architecture(self.sizes, self.hidden, self.output, self.loss)
        if self.sizes[0] != N_INPUTS:
            raise ConfigError(f"the first layer must have {N_INPUTS} neurons, one per pixel of a "
                              f"28x28 image, got {self.sizes[0]}")
        if self.sizes[-1] != N_CLASSES:
            raise ConfigError(f"the last layer must have {N_CLASSES} neurons, one per digit, "
                              f"got {self.sizes[-1]}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        check_learning_rate(self.lr)
        if not 0.0 < self.lr_decay <= 1.0:
            raise ConfigError(f"the learning-rate decay must be above 0 and at most 1, got {self.lr_decay}")
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"momentum must be at least 0 and below 1, got {self.momentum}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0.0):
            raise ConfigError(f"weight decay must be a finite number of at least 0, got {self.weight_decay}")
        for name in ("batch_size", "epochs"):
            value = getattr(self, name)
            if value < 1:
                raise ConfigError(f"{name.replace('_', ' ')} must be at least 1, got {value}")
        if self.seed < 0:
            raise ConfigError(f"the seed must be at least 0, got {self.seed}")
        if self.seed > MAX_SEED:
            raise ConfigError(f"the seed must be at most {MAX_SEED:,}, got {whole_number(self.seed)}")
        if not (isinstance(self.dropout, (int, float)) and 0.0 <= self.dropout < 1.0):
            raise ConfigError(f"dropout must be at least 0 and below 1, got {self.dropout}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        if not (isinstance(self.warmup, (int, float)) and math.isfinite(self.warmup) and self.warmup >= 0.0):
            raise ConfigError(f"the warm-up must be a finite number of epochs of at least 0, "
                              f"got {self.warmup}")
        if self.augment != "none" and self.augment not in _augmentations():
            raise ConfigError(f"unknown augmentation {self.augment!r}; "
                              f"choose one of {', '.join(_augmentations())}")
        if not (finite_number(self.mixup) and 0.0 <= self.mixup <= MAX_MIXUP):
            raise ConfigError(f"mixup's alpha must be a number from 0 to {MAX_MIXUP:g}, got {self.mixup}")

    @property
    def architecture(self) -> tuple:
        """What makes two networks the same shape: (sizes, hidden, output, loss)."""
        return self.sizes, self.hidden, self.output, self.loss

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some settings changed, checked again."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def finite_number(value) -> bool:
    """A finite int or float, not a bool: what a number setting (or a number read from a file,
    ``core.model_io``, or handed over, ``core.train``) must be."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _augmentations() -> dict:
    from core.augment import AUGMENTATIONS  # imported when first asked for: "none" needs none

    return AUGMENTATIONS


def check_epochs(epochs: int, what: str = "epochs") -> None:
    """ConfigError unless ``epochs`` (asked for at once: a command's, a Train's) is at most
    MAX_EPOCHS; ``what`` names them in the sentence ("--epochs", "B: epochs")."""
    if epochs > MAX_EPOCHS:
        raise ConfigError(f"{what} must be at most {MAX_EPOCHS:,}, got {whole_number(epochs)}")


def check_learning_rate(lr: float) -> None:
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0.0):
        raise ConfigError(f"the learning rate must be a finite number above 0, got {lr}")


PRESETS = {
    # The original program: three hidden layers of 20 sigmoids, squared error, plain SGD.
    "classic": TrainConfig(),
    # A modern small network: ReLU, softmax with cross-entropy, Adam. eta = 0.0025, reached by a
    # linear warm-up over the first 0.3 epoch and then multiplied by 0.65 after every epoch:
    # 98% by epoch 4 on MNIST (0.9812, 0.9821, 0.9807 at epoch 4, seeds 0-2) and 89% on
    # Fashion-MNIST after 15 epochs (0.8932, 0.8959, 0.8948). Halving 0.003 every epoch also
    # passed 98% by epoch 4 but stopped at 0.8860 on Fashion-MNIST: by epoch 9 eta was below
    # 1e-5. The 0.001 x 0.8 it had first took until epoch 7-8 (0.9775 at epoch 4).
    "fast": TrainConfig(sizes=(784, 256, 128, 10), hidden="relu", output="softmax", loss="ce",
                        optimizer="adam", lr=2.5e-3, lr_decay=0.65, warmup=0.3, batch_size=128,
                        epochs=15),
}
# The window's default: 'fast' with L2 weight decay, so that its first layer's weights are
# pictures. In 'fast', three epochs move the first layer's weights by 0.036 (the changes' spread)
# while the random initial ones spread 0.050: what was learned stays buried in the initial
# noise, and the tiles look like noise (neighbouring pixels correlate 0.24, median of the 256
# tiles). Weight decay pulls each weight towards zero unless the data holds it there; with
# lambda = 0.003 the initial noise is gone by epoch 3 and the tiles are strokes: neighbours
# correlate 0.73 (MNIST's digits themselves 0.80; lambda = 0.001: 0.47, 0.01: 0.86 but test
# accuracy 0.942 at epoch 3). The price: test accuracy 0.9764 after 15 epochs against 0.9822.
# Measured with seeds 0-2 on the full MNIST (tests/test_strokes_learned.py checks it), with
# 'fast' as it was then, eta = 0.001 x 0.8 an epoch: 'watch' keeps those, its 15 epochs are watched.
PRESETS["watch"] = PRESETS["fast"].replace(lr=1e-3, lr_decay=0.8, warmup=0.0, weight_decay=3e-3)
# The most accurate this program trains in under five minutes on one core, no convolutions: two
# hidden layers of 800 ReLUs (784-1024-1024-10 trains 10.5 s an epoch here, 784-800-800-10 7 s),
# a fifth of them dropped in each batch, every training digit moved at random (shifted up to 2
# pixels, turned up to 12 degrees, scaled and slanted a little: core.augment's "affine", which
# "auto" chooses for digits and not for clothes, where it cost 3.4 points), and Adam on a
# one-cycle schedule peaking at 0.002. Dropout alone, on 784-1024-1024-10, stopped at 0.9873
# after 20 epochs (241 s); with the augmentation 26 epochs of this gave 0.9915 (216 s).
PRESETS["best"] = TrainConfig(sizes=(784, 800, 800, 10), hidden="relu", output="softmax", loss="ce",
                              optimizer="adam", lr=2e-3, schedule="onecycle", dropout=0.2,
                              augment="auto", batch_size=128, epochs=24)


# On a dataset that is not digits (Fashion-MNIST's clothes), 'best' is another recipe: there
# the affine augmentation costs accuracy ("auto" leaves the images alone), and dropout with more
# epochs stopped at 0.9030-0.9040 whatever else was tried (the README's presets). What passes
# 91% is mixup (core.mixup), which needs time: alpha 0.4 with half the dropout and half the peak
# learning rate, over twice the epochs: 0.9125, 0.9124, 0.9102 (seeds 0-2), above 0.91 for good
# from epochs 38, 39 and 46 (24 epochs with alpha 0.2: 0.9081). MNIST's five-minute limit is
# for MNIST: this takes about six minutes (340-362 s).
NOT_DIGITS = {"best": PRESETS["best"].replace(lr=1e-3, dropout=0.1, mixup=0.4, epochs=48)}


def presets(digits: bool = True) -> dict[str, TrainConfig]:
    """The presets, by name, for a dataset whose classes are the digits or not (``Dataset.digits``):
    the same names either way, 'best' a recipe of its own for the others (``NOT_DIGITS``)."""
    return PRESETS if digits else {**PRESETS, **NOT_DIGITS}


def preset(name: str, digits: bool = True) -> TrainConfig:
    """The preset called ``name``, for a dataset of digits or not (see ``presets``)."""
    try:
        return presets(digits)[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
