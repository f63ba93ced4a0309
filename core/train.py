"""The training loop, as a generator that others drive: the command line, the window's worker,
a test. It yields a ``BatchReport`` after every mini-batch and an ``EpochReport`` after every
epoch; both hold only numbers. ``Trainer.snapshot()`` hands out the weights as read-only copies,
stamped with the time and the step, so whoever keeps them never sees them change.

Between two batches the loop can be paused, stepped one batch at a time, stopped, or given a new
learning rate, from any thread, through a ``Control``. If the cost or a weight stops being
finite, the weights of the last finite batch are put back and ``TrainingDiverged`` is raised.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from core.config import TrainConfig, check_learning_rate
from core.data import Dataset, one_hot
from core.errors import ConfigError, TrainingDiverged
from core.metrics import accuracy
from core.network import Network
from core.optim import make_optimizer


@dataclass(frozen=True)
class BatchReport:
    epoch: int  # 1-based, the epoch this batch belongs to
    epochs: int
    batch: int  # 1-based within the epoch
    batches: int
    step: int  # batches trained since the start, over all epochs
    cost: float  # C of this batch, before its update
    lr: float
    samples_per_sec: float  # over this epoch so far, counting training time only


@dataclass(frozen=True)
class EpochReport:
    epoch: int
    epochs: int
    step: int
    cost: float  # mean of the batch costs of this epoch
    train_accuracy: float  # on the batches as they were trained, like Keras reports it
    test_accuracy: float
    test_cost: float
    seconds: float  # training and evaluation, without time spent paused
    samples_per_sec: float


@dataclass(frozen=True)
class Snapshot:
    """The network at one moment of training: small, immutable, timestamped."""
    time: float  # time.time() when taken
    epoch: int  # epochs completed
    step: int
    sizes: tuple[int, ...]
    hidden: str
    output: str
    loss: str
    W: tuple[np.ndarray, ...]  # read-only copies
    b: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, net: Network, epoch: int = 0, step: int = 0) -> "Snapshot":
        return cls(time.time(), epoch, step, net.sizes, net.hidden.name, net.output.name,
                   net.loss.name, _frozen_copies(net.W), _frozen_copies(net.b))

    def network(self, copy: bool = False) -> Network:
        """A Network with these weights: sharing the read-only arrays (for forward passes, which
        is all the window does), or with copies of its own (to train further)."""
        return Network(self.sizes, self.hidden, self.output, self.loss, self.W, self.b, copy=copy)


def _frozen_copies(arrays) -> tuple[np.ndarray, ...]:
    copies = tuple(a.copy() for a in arrays)
    for c in copies:
        c.flags.writeable = False
    return copies


@dataclass(frozen=True)
class _Unfinished:
    """Where a run stopped inside an epoch: its order of the training set, the next batch, and
    the sums the epoch's report is made of so far."""
    order: np.ndarray
    next_batch: int
    busy: float
    seen: int
    correct: int
    cost_sum: float
    batch_size: int

    def state(self):
        return self.order, self.next_batch, self.busy, self.seen, self.correct, self.cost_sum


class Control:
    """Steers a running ``Trainer.run`` from another thread. Every method is thread-safe and
    takes effect between two batches."""

    def __init__(self):
        self._cond = threading.Condition()
        self._paused = False
        self._stopped = False
        self._steps = 0  # batches allowed while paused
        self._lr = None

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def step(self, batches: int = 1) -> None:
        """While paused, let this many more batches run."""
        with self._cond:
            self._steps += batches
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def set_lr(self, lr: float) -> None:
        check_learning_rate(lr)
        with self._cond:
            self._lr = float(lr)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopped(self) -> bool:
        return self._stopped

    def wait_for_batch(self) -> tuple[bool, float | None]:
        """Block while paused; then (may the next batch run?, a new learning rate or None)."""
        with self._cond:
            while self._paused and not self._stopped and self._steps == 0:
                self._cond.wait()
            if self._paused and self._steps:
                self._steps -= 1
            lr, self._lr = self._lr, None
            return not self._stopped, lr


class Trainer:
    """Trains ``net`` (fresh from the config's seed if not given) on ``data``."""

    def __init__(self, data: Dataset, config: TrainConfig, net: Network | None = None):
        self.data = data
        self._check_batch_size(config)
        init_seed, shuffle_seed = np.random.SeedSequence(config.seed).spawn(2)
        self.config = config
        self.net = net if net is not None else Network.initialised(
            config.sizes, config.hidden, config.output, config.loss, seed=np.random.default_rng(init_seed))
        if self.net.architecture != config.architecture:
            raise ConfigError("the network given does not have the architecture of the settings")
        self.optimizer = make_optimizer(config.optimizer, config.weight_decay, config.momentum)
        self.rng = np.random.default_rng(shuffle_seed)
        self.lr = config.lr
        self.epoch = 0  # epochs completed
        self.step = 0  # batches trained
        self.test_accuracy: float | None = None
        self.test_probabilities: np.ndarray | None = None  # (N_test, 10) after each epoch
        self._params = [*self.net.W, *self.net.b]
        self._decay = [True] * len(self.net.W) + [False] * len(self.net.b)
        self._last_finite = [p.copy() for p in self._params]
        self._unfinished: _Unfinished | None = None  # an epoch a stopped run left half done

    def extend(self, config: TrainConfig) -> None:
        """Go on training the same network with ``config``: ``config.epochs`` more epochs,
        counted on from those done, at ``config.lr``; a changed optimiser starts afresh."""
        if config.architecture != self.net.architecture:
            raise ConfigError("these settings change the architecture; reset to train a new network")
        self._check_batch_size(config)
        optimiser = (config.optimizer, config.momentum, config.weight_decay)
        if optimiser != (self.config.optimizer, self.config.momentum, self.config.weight_decay):
            self.optimizer = make_optimizer(config.optimizer, config.weight_decay, config.momentum)
        self.config = config.replace(epochs=self.epoch + config.epochs)
        self.lr = config.lr

    def _check_batch_size(self, config: TrainConfig) -> None:
        n = len(self.data.x_train)
        if config.batch_size > n:
            raise ConfigError(f"batch size {config.batch_size} is larger than the {n} training images")

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(len(self.data.x_train) / self.config.batch_size)

    def set_lr(self, lr: float) -> None:
        check_learning_rate(lr)
        self.lr = float(lr)

    def snapshot(self) -> Snapshot:
        return Snapshot.of(self.net, self.epoch, self.step)

    def run(self, control: Control | None = None) -> Iterator[BatchReport | EpochReport]:
        """Train the remaining epochs, yielding a report after each batch and each epoch. A run
        stopped inside an epoch leaves it unfinished: the next run goes on with its next batch,
        in the same order, so steps and points of training never go back."""
        cfg, data = self.config, self.data
        B, batches = cfg.batch_size, self.batches_per_epoch
        for epoch in range(self.epoch + 1, cfg.epochs + 1):
            unfinished = self._unfinished
            if unfinished is not None and unfinished.batch_size == B:
                order, first, busy, seen, correct, cost_sum = unfinished.state()
            else:  # a new epoch (or the batch size changed: the unfinished one starts again)
                order = self.rng.permutation(len(data.x_train))
                first, busy, seen, correct, cost_sum = 0, 0.0, 0, 0, 0.0  # busy: seconds, pauses excluded
            self._unfinished = None
            for k in range(first, batches):
                if control is not None:
                    go_on, lr = control.wait_for_batch()
                    if not go_on:
                        self._unfinished = _Unfinished(order, k, busy, seen, correct, cost_sum, B)
                        return
                    if lr is not None:
                        self.lr = lr
                start = time.perf_counter()
                idx = order[k * B:(k + 1) * B]
                labels = data.y_train[idx]
                with np.errstate(over="ignore", invalid="ignore"):  # _update reports these
                    cost, nabla_W, nabla_b, a_L = self.net.backprop(data.x_train[idx], one_hot(labels))
                    try:
                        self._update(cost, nabla_W + nabla_b, epoch, k + 1)
                    except TrainingDiverged:
                        self._unfinished = _Unfinished(order, k, busy, seen, correct, cost_sum, B)
                        raise
                busy += time.perf_counter() - start
                seen += len(idx)
                correct += int((a_L.argmax(axis=1) == labels).sum())
                cost_sum += cost * len(idx)
                self.step += 1
                yield BatchReport(epoch, cfg.epochs, k + 1, batches, self.step, cost, self.lr,
                                  seen / busy if busy > 0 else 0.0)
            start = time.perf_counter()
            test_accuracy, test_cost = self.evaluate()
            busy += time.perf_counter() - start
            self.epoch = epoch
            self.test_accuracy = test_accuracy
            self.lr *= cfg.lr_decay
            yield EpochReport(epoch, cfg.epochs, self.step, cost_sum / seen, correct / seen,
                              test_accuracy, test_cost, busy, seen / busy if busy > 0 else 0.0)

    def evaluate(self) -> tuple[float, float]:
        """(accuracy, cost) on the test set; its outputs stay in ``test_probabilities``."""
        with np.errstate(over="ignore", invalid="ignore"):  # as in training: _update reports divergence
            a_L = self.net.predict_proba(self.data.x_test)
        a_L.flags.writeable = False  # handed out as it is: a new array every epoch
        self.test_probabilities = a_L
        cost = self.net.loss.fn(a_L, one_hot(self.data.y_test), self.net.output)
        return accuracy(a_L.argmax(axis=1), self.data.y_test), cost

    def _update(self, cost: float, grads: list[np.ndarray], epoch: int, batch: int) -> None:
        """One optimiser step, undone if it leaves anything non-finite."""
        if math.isfinite(cost):
            for saved, p in zip(self._last_finite, self._params):
                np.copyto(saved, p)
            self.optimizer.step(self._params, grads, self.lr, self._decay)
            if self.net.all_finite():
                return
            for saved, p in zip(self._last_finite, self._params):
                np.copyto(p, saved)
            what = "a weight became infinite or NaN"
        else:
            what = f"the cost became {cost}"
        raise TrainingDiverged(
            f"training stopped at epoch {epoch}, batch {batch}: {what} with learning rate "
            f"{self.lr:g}; lower the learning rate and try again (the weights of the last finite "
            f"batch were kept)")
