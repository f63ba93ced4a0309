"""The training loop, as a generator that others drive: the command line, the window's worker,
a test. It yields a ``BatchReport`` after every mini-batch and an ``EpochReport`` after every
epoch; both hold only numbers (a batch's report also holds its gradient flow, the sizes of its
gradients and its step: ``FLOW_FIELDS``). ``Trainer.snapshot()`` hands out the weights as read-only copies,
stamped with the time and the step, so whoever keeps them never sees them change.

Between two batches the loop can be paused, stepped one batch at a time, stopped, or given a new
learning rate, from any thread, through a ``Control``. If the cost or a weight stops being
finite, the weights of the last finite batch are put back and ``TrainingDiverged`` is raised.
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from core.config import TrainConfig, check_learning_rate, finite_number
from core.data import Dataset, one_hot
from core.errors import ConfigError, TrainingDiverged
from core.metrics import accuracy
from core.mixup import mixup
from core import schedule
from core.network import Network, dropout_masks
from core.optim import make_optimizer


@dataclass(frozen=True)
class BatchReport:
    epoch: int  # 1-based, the epoch this batch belongs to
    epochs: int
    batch: int  # 1-based within the epoch
    batches: int
    step: int  # batches trained since the start, over all epochs
    cost: float  # C of this batch, before its update
    lr: float  # the learning rate this batch was trained with, its schedule applied
    samples_per_sec: float  # over this epoch so far, counting training time only
    flow: np.ndarray | None = field(default=None, compare=False)  # (3, L) read-only, rows FLOW_FIELDS;
    # None if not recorded for this batch (Trainer.flow_every)


# The gradient flow of a batch, for each weight layer l (a row of BatchReport.flow each):
#   gradient   RMS of dC/dW[l], the gradient the batch gave W[l]
#   delta      RMS of delta[l+1] = dC_x/dz[l+1] over the batch's samples x, the error of layer l+1
#   update     |dW[l]| / |W[l]|: the size of the step the optimiser took, relative to the weights
# In a sigmoid network the first two shrink layer by layer towards the input (sigmoid' <= 1/4
# in every BP2); an update ratio near 1e-3 is the usual sign of a healthy learning rate.
FLOW_FIELDS = ("gradient", "delta", "update")
# Sizing a batch's flow costs a dozen small NumPy calls (~18 us for the 4 layers of ``classic``,
# whose whole batch of 10 takes ~110 us). So it is recorded for every batch of a network whose
# batch costs this many multiply-adds (batch size x parameters) or more, and for every k-th batch
# of a smaller one, k = FLOW_WORK // (batch size x parameters): ``classic`` every 23rd (260 an
# epoch, about 1% of its batches' backprop and step), ``fast`` every batch (80 us of 1.9 ms, 4%);
# ``python -m core.bench`` measures it.
FLOW_WORK = 4_000_000
# A batch of B training images trains on B // TAUGHT_SHARE taught images too (at least one):
# enough that a drawing taught to ``fast`` (B = 128, so 8) is read right within a few dozen
# batches, little enough that the rest of what it knows is hardly disturbed.
TAUGHT_SHARE = 16


@dataclass(frozen=True)
class EpochReport:
    epoch: int
    epochs: int
    step: int
    cost: float  # mean of the batch costs of this epoch
    train_accuracy: float  # on the batches as they were trained, like Keras reports it (with
    # mixup, against the label that weighs more in each blended image)
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
    forced: tuple[tuple[int, int, float], ...] = ()  # (layer, neuron, value): see Network

    @classmethod
    def of(cls, net: Network, epoch: int = 0, step: int = 0) -> "Snapshot":
        return cls(time.time(), epoch, step, net.sizes, net.hidden.name, net.output.name,
                   net.loss.name, _frozen_copies(net.W), _frozen_copies(net.b))

    def network(self, copy: bool = False) -> Network:
        """A Network with these weights: sharing the read-only arrays (for forward passes, which
        is all the window does), or with copies of its own (to train further). Neurons this
        snapshot forces are forced in it too."""
        return Network(self.sizes, self.hidden, self.output, self.loss, self.W, self.b, copy=copy,
                       forced=self.forced)

    def forcing(self, forced: tuple[tuple[int, int, float], ...]) -> "Snapshot":
        """These weights with the neurons of ``forced`` (layer, neuron, value) forced to their
        values: what the network would answer with those neurons switched off or clamped."""
        return dataclasses.replace(self, forced=tuple(forced))


def _frozen_copies(arrays) -> tuple[np.ndarray, ...]:
    copies = tuple(a.copy() for a in arrays)
    for c in copies:
        c.flags.writeable = False
    return copies


@dataclass
class _Epoch:
    """The epoch in progress: its order of the training set, the next batch, and the sums its
    report is made of so far. A run stopped inside an epoch leaves it here, and the next run
    goes on with it."""
    order: np.ndarray  # (N_train,) indices, this epoch's shuffle
    batch_size: int
    next_batch: int = 0
    busy: float = 0.0  # seconds of training, pauses excluded
    seen: int = 0
    correct: int = 0
    cost_sum: float = 0.0

    FIELDS = ("batch_size", "next_batch", "busy", "seen", "correct", "cost_sum")


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class _AugmentAhead:
    """The augmentation of the batch to come, gathered and computed on a thread of its own while
    this batch trains (``Augmentation.apply`` is NumPy arithmetic, which leaves the interpreter
    free). An epoch of 'fast' with 'affine' took 37-39% longer than without when each batch was
    augmented in turn, 8-12% with this (``python -m core.augment --epochs``, 2 cores).

    Only the arithmetic moves: the random draws (``Augmentation.draw``) are made here, in the
    trainer's thread, right after the previous batch's own draws, so the noise generator gives
    the very numbers it gave when each batch drew its own just before it trained: a run is the
    same bit for bit either way. A batch drawn for and then not trained (the run stopped or
    diverged, or the next batch is not the one drawn for) is undone: the generator is put back
    to its state before those draws (``noise_state`` gives that state meanwhile)."""

    def __init__(self, augment, noise: np.random.Generator):
        self.augment, self.noise = augment, noise
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="augment")
        self.pending = None  # (indices, the noise's state before their draws, the future images)

    def start(self, images: np.ndarray, indices: np.ndarray) -> None:
        """Draw for the ``images[indices]`` and start gathering and transforming them."""
        self._undo()
        before = self.noise.bit_generator.state
        drawn = self.augment.draw(len(indices), self.noise)
        self.pending = (indices, before, self.pool.submit(self._make, images, indices, drawn))

    def _make(self, images: np.ndarray, indices: np.ndarray, drawn) -> np.ndarray:
        return self.augment.apply(images[indices], drawn)

    def take(self, images: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """``images[indices]`` transformed: those started for them, else made now."""
        if self.pending is not None and np.array_equal(self.pending[0], indices):
            future, self.pending = self.pending[2], None
            return future.result()
        self._undo()
        return self.augment(images[indices], self.noise)

    def noise_state(self) -> dict:
        return self.pending[1] if self.pending is not None else self.noise.bit_generator.state

    def _undo(self) -> None:
        if self.pending is not None:
            _, before, future = self.pending
            self.pending = None
            future.cancel() or future.exception()  # wait for it: nothing runs on after us
            self.noise.bit_generator.state = before

    def close(self) -> None:
        self._undo()
        self.pool.shutdown(wait=True)


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
        # Three generators from one seed: the initial weights, the shuffling, and the noise of
        # training (dropout masks, augmentation, mixup). spawn(3)'s first two are spawn(2)'s, so
        # runs without noise are the very runs of before.
        init_seed, shuffle_seed, noise_seed = np.random.SeedSequence(config.seed).spawn(3)
        self.config = config
        self.net = net if net is not None else Network.initialised(
            config.sizes, config.hidden, config.output, config.loss, seed=np.random.default_rng(init_seed))
        if self.net.architecture != config.architecture:
            raise ConfigError("the network given does not have the architecture of the settings")
        self.optimizer = make_optimizer(config.optimizer, config.weight_decay, config.momentum)
        self.rng = np.random.default_rng(shuffle_seed)
        self.noise = np.random.default_rng(noise_seed)  # drawn from only with dropout, augmentation, mixup
        self.lr = config.lr  # eta: the schedule's scale (core.schedule); set_lr changes it
        self.schedule_start = 0.0  # the point (in epochs) this run's schedule started from
        self.epoch = 0  # epochs completed
        self.step = 0  # batches trained
        self.test_accuracy: float | None = None
        self.test_probabilities: np.ndarray | None = None  # (N_test, 10) after each epoch
        self._params = [*self.net.W, *self.net.b]
        self._decay = [True] * len(self.net.W) + [False] * len(self.net.b)
        self._last_finite = [p.copy() for p in self._params]
        self._epoch: _Epoch | None = None  # the epoch in progress, or one a stopped run left
        self.taught: tuple[np.ndarray, np.ndarray] | None = None  # see teach()

    def extend(self, config: TrainConfig) -> None:
        """Go on training the same network with ``config``: ``config.epochs`` more epochs,
        counted on from those done, at ``config.lr``; a changed optimiser starts afresh. The
        schedule (and its warm-up) starts again from here, over these epochs: a cosine falls
        from ``config.lr`` to ~0 by their end, as the step schedule decays from it."""
        if config.architecture != self.net.architecture:
            raise ConfigError("these settings change the architecture; reset to train a new network")
        self._check_batch_size(config)
        optimiser = (config.optimizer, config.momentum, config.weight_decay)
        if optimiser != (self.config.optimizer, self.config.momentum, self.config.weight_decay):
            self.optimizer = make_optimizer(config.optimizer, config.weight_decay, config.momentum)
        self.config = config.replace(epochs=self.epoch + config.epochs)
        self.lr = config.lr
        e = self._epoch  # an epoch in progress goes on, unless its batch size changes
        going_on = e is not None and e.batch_size == config.batch_size
        self.schedule_start = self.epoch + (e.next_batch / self.batches_per_epoch if going_on else 0.0)

    def _check_batch_size(self, config: TrainConfig) -> None:
        n = len(self.data.x_train)
        if config.batch_size > n:
            raise ConfigError(f"batch size {config.batch_size} is larger than the {n} training images")

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(len(self.data.x_train) / self.config.batch_size)

    @property
    def flow_every(self) -> int:
        """The gradient flow is recorded for the batches whose step is a multiple of this."""
        n_params = sum(w.size + v.size for w, v in zip(self.net.W, self.net.b))
        return max(1, FLOW_WORK // (self.config.batch_size * n_params))

    def set_lr(self, lr: float) -> None:
        """A new eta from the next batch on (as ``Control.set_lr`` while running): the step
        schedule decays from it; a cosine or one-cycle keeps its shape with eta as its new peak."""
        check_learning_rate(lr)
        self.lr = float(lr)

    def teach(self, x: np.ndarray | None, y: np.ndarray | None = None) -> None:
        """Train from now on also on these images (T, 784) with these labels (T,), beside the
        training set (None: no more): every batch adds ``taught_per_batch`` of them, in turn, to
        its images. ``core.probes.teaching_copies`` makes a drawing's copies to teach."""
        if x is None or len(x) == 0:
            self.taught = None
            return
        x = np.array(x, dtype=self.net.dtype).reshape(len(x), -1)
        y = np.array(y, dtype=np.uint8).reshape(-1)
        if x.shape[1] != self.net.sizes[0] or len(y) != len(x):
            raise ValueError(f"taught images must be (T, {self.net.sizes[0]}) with T labels, "
                             f"got {x.shape} and {y.shape}")
        if not (np.isfinite(x).all() and (y < self.net.sizes[-1]).all()):
            raise ValueError("taught images must be finite and their labels classes of the network")
        x.flags.writeable = y.flags.writeable = False
        self.taught = (x, y)

    @property
    def taught_per_batch(self) -> int:
        """Taught images added to each batch: one for every 16 of its own, at least one."""
        return max(1, self.config.batch_size // TAUGHT_SHARE)

    def snapshot(self) -> Snapshot:
        return Snapshot.of(self.net, self.epoch, self.step)

    # --- handing a run over to another process ---------------------------------------------

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Everything the next batches depend on, as JSON-able numbers and named arrays: the
        settings, the weights, the optimiser's memory, the shuffling generator, the epoch in
        progress. ``restore`` on a trainer of the same data then trains bit for bit as this one
        would (``core.child`` runs training in another process this way)."""
        optimizer_fields, optimizer_arrays = self.optimizer.state()
        fields = {"config": self.config.as_dict(), **self.progress_fields(),
                  "rng": self.rng.bit_generator.state, "optimizer": optimizer_fields}
        arrays = {**{f"W{l}": w for l, w in enumerate(self.net.W)},
                  **{f"b{l}": v for l, v in enumerate(self.net.b)},
                  **{f"optimizer.{k}": a for k, a in optimizer_arrays.items()}}
        if self.epoch_order is not None:
            arrays["order"] = self.epoch_order
        if self.test_probabilities is not None:
            arrays["test_probabilities"] = self.test_probabilities
        if self.taught is not None:
            arrays["taught_x"], arrays["taught_y"] = self.taught
        return fields, arrays

    def progress_fields(self) -> dict:
        """The numbers of ``state()`` that change from batch to batch: epochs and steps done,
        the learning rate and where its schedule started, the last test accuracy, the epoch in
        progress (without its order), the noise generator (dropout, augmentation, mixup)."""
        e = self._epoch
        return {"epoch": self.epoch, "step": self.step, "lr": self.lr,
                "schedule_start": self.schedule_start, "test_accuracy": self.test_accuracy,
                "in_progress": None if e is None else {k: getattr(e, k) for k in _Epoch.FIELDS},
                "noise": self._noise_state()}

    def _noise_state(self) -> dict:
        """The noise generator's state as if nothing had been drawn ahead: a run saved or handed
        over between two batches goes on exactly as the run that was not interrupted."""
        ahead = getattr(self, "_ahead", None)
        return ahead.noise_state() if ahead is not None else self.noise.bit_generator.state

    @property
    def position(self) -> float:
        """The point of training in epochs: epochs done and the part of the next one done."""
        e = self._epoch
        return self.epoch + (0.0 if e is None else e.next_batch / self.batches_per_epoch)

    @property
    def epoch_order(self) -> np.ndarray | None:
        """The order of the training set of the epoch in progress (or None): one array an epoch."""
        return None if self._epoch is None else self._epoch.order

    @classmethod
    def from_state(cls, data: Dataset, fields: dict, arrays: dict[str, np.ndarray]) -> "Trainer":
        """A trainer on ``data`` that goes on where the one whose ``state()`` this is stopped."""
        config = TrainConfig(**fields["config"])
        trainer = cls(data, config, Network(config.sizes, config.hidden, config.output, config.loss))
        trainer.restore(fields, arrays)
        return trainer

    def restore(self, fields: dict, arrays: dict[str, np.ndarray]) -> None:
        """Become the trainer whose ``state()`` this is (of the same architecture and data).
        Every array is checked against the network's shapes: a ValueError (or ConfigError)
        says what is wrong, and nothing is changed unless all of it is right."""
        config = TrainConfig(**fields["config"])
        if config.architecture != self.net.architecture:
            raise ConfigError("the state handed over is of another architecture")
        self._check_batch_size(config)
        shapes = [w.shape for w in self.net.W] + [v.shape for v in self.net.b]
        names = [f"W{l}" for l in range(len(self.net.W))] + [f"b{l}" for l in range(len(self.net.b))]
        for name, shape in zip(names, shapes):
            if name not in arrays or arrays[name].shape != shape:
                got = arrays[name].shape if name in arrays else "none"
                raise ValueError(f"the state's {name} should have shape {shape}, got {got}")
        if not (_count(fields["epoch"]) and _count(fields["step"])):
            raise ValueError("the state's epoch and step must be whole numbers of at least 0")
        check_learning_rate(fields["lr"])
        accuracy_ = fields["test_accuracy"]
        if accuracy_ is not None and not (finite_number(accuracy_) and 0.0 <= accuracy_ <= 1.0):
            raise ValueError(f"the state's test accuracy is {accuracy_!r}")
        optimizer = make_optimizer(config.optimizer, config.weight_decay, config.momentum)
        optimizer.load_state(fields["optimizer"], {k[len("optimizer."):]: a for k, a in arrays.items()
                                                   if k.startswith("optimizer.")}, shapes)
        rng = np.random.default_rng()
        rng.bit_generator.state = fields["rng"]  # raises ValueError for another kind of generator
        noise = np.random.default_rng()  # a state from before there was noise: the seed's own
        noise.bit_generator.state = (fields["noise"] if "noise" in fields else np.random.default_rng(
            np.random.SeedSequence(config.seed).spawn(3)[2]).bit_generator.state)
        schedule_start = fields.get("schedule_start", 0.0)
        if not (finite_number(schedule_start) and 0.0 <= schedule_start <= config.epochs):
            raise ValueError(f"the state's schedule start is {schedule_start!r}")
        in_progress = fields["in_progress"]
        epoch = None
        if in_progress is not None:
            order = arrays.get("order")
            n = len(self.data.x_train)
            if order is None or order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
                raise ValueError(f"the state's order of the training set is not a shuffle of {n} images")
            numbers = {k: in_progress.get(k) for k in _Epoch.FIELDS}
            if not (all(_count(numbers[k]) for k in ("batch_size", "next_batch", "seen", "correct"))
                    and all(finite_number(numbers[k]) for k in ("busy", "cost_sum"))
                    and numbers["next_batch"] <= self.batches_per_epoch):  # all done: it evaluates next
                raise ValueError(f"the state's epoch in progress is not valid: {in_progress}")
            epoch = _Epoch(np.array(order, dtype=np.int64), **numbers)
        probabilities = arrays.get("test_probabilities")
        if probabilities is not None and probabilities.shape != (len(self.data.x_test), self.net.sizes[-1]):
            raise ValueError(f"the state's test outputs have shape {probabilities.shape}")
        taught = None
        if "taught_x" in arrays or "taught_y" in arrays:
            taught_x, taught_y = arrays.get("taught_x"), arrays.get("taught_y")
            if (taught_x is None or taught_y is None or taught_x.ndim != 2
                    or taught_x.shape[1:] != (self.net.sizes[0],) or taught_y.shape != (len(taught_x),)
                    or not np.isfinite(taught_x).all() or (taught_y >= self.net.sizes[-1]).any()
                    or (taught_y < 0).any()):
                raise ValueError("the state's taught images are not images with a class each")
            taught = (taught_x, taught_y)
        for p, name in zip(self._params, names):
            np.copyto(p, arrays[name])
        if taught is None:
            self.teach(None)
        else:
            self.teach(*taught)
        self.config, self.optimizer, self.rng, self._epoch = config, optimizer, rng, epoch
        self.epoch, self.step, self.lr = int(fields["epoch"]), int(fields["step"]), float(fields["lr"])
        self.noise, self.schedule_start = noise, float(schedule_start)
        self.test_accuracy = fields["test_accuracy"]
        if probabilities is not None:
            probabilities = np.array(probabilities, dtype=self.net.dtype)
            probabilities.flags.writeable = False
        self.test_probabilities = probabilities

    def run(self, control: Control | None = None) -> Iterator[BatchReport | EpochReport]:
        """Train the remaining epochs, yielding a report after each batch and each epoch. A run
        stopped inside an epoch leaves it unfinished: the next run goes on with its next batch,
        in the same order, so steps and points of training never go back."""
        cfg = self.config
        augment = None
        if cfg.augment != "none":
            from core.augment import augmentation
            augment = augmentation(cfg.augment, self.data.digits)
        if augment is None:
            yield from self._run(control, None)
            return
        self._ahead = _AugmentAhead(augment, self.noise)
        try:
            yield from self._run(control, self._ahead)
        finally:  # stopped, diverged or done: what was drawn for a batch not trained is undone
            self._ahead.close()
            self._ahead = None

    def _run(self, control: Control | None, ahead: "_AugmentAhead | None"):
        cfg, data = self.config, self.data
        B, batches, flow_every = cfg.batch_size, self.batches_per_epoch, self.flow_every
        scheduled = cfg.schedule != "step" or cfg.warmup > 0  # else eta itself, as it always was
        for epoch in range(self.epoch + 1, cfg.epochs + 1):
            e = self._epoch
            if e is None or e.batch_size != B:  # a new epoch (or a new batch size: it starts again)
                e = self._epoch = _Epoch(self.rng.permutation(len(data.x_train)), B)
            for k in range(e.next_batch, batches):
                if control is not None:
                    go_on, lr = control.wait_for_batch()
                    if not go_on:
                        return  # the epoch stays in self._epoch, at batch k
                    if lr is not None:
                        self.lr = lr
                lr = self.lr
                if scheduled:  # eta_t = eta * warmup(t) * shape(t / T), see core.schedule
                    lr *= schedule.factor(cfg.schedule, cfg.warmup, self.schedule_start, cfg.epochs,
                                          epoch - 1 + k / batches, batches)
                start = time.perf_counter()
                idx = e.order[k * B:(k + 1) * B]
                labels = data.y_train[idx]
                # the training images only are augmented, never the test set
                x = data.x_train[idx] if ahead is None else ahead.take(data.x_train, idx)
                if self.taught is not None:  # and a few of the taught images, in turn
                    x, labels = self._with_taught(x, labels)
                deltas = [None] * self.net.n_layers if (self.step + 1) % flow_every == 0 else None
                flow = None
                targets, counted = one_hot(labels), labels  # what the accuracy counts
                with np.errstate(over="ignore", invalid="ignore"):  # _update reports these
                    masks = None if cfg.dropout == 0 else dropout_masks(
                        self.net.sizes, len(x), cfg.dropout, self.noise, self.net.dtype)
                    if cfg.mixup > 0:  # each image blended with another of the batch, targets too
                        x, targets, counted = mixup(x, targets, labels, cfg.mixup, self.noise)
                    if ahead is not None and k + 1 < batches:  # all of batch k is drawn: draw k + 1's
                        ahead.start(data.x_train, e.order[(k + 1) * B:(k + 2) * B])
                    cost, nabla_W, nabla_b, a_L = self.net.backprop(x, targets, deltas, masks)
                    if deltas is not None:  # sized before the optimiser reuses the gradients
                        flow = self._flow(nabla_W, deltas)
                    # may raise: still at batch k
                    changes = self._update(cost, nabla_W + nabla_b, epoch, k + 1, lr)
                    if flow is not None:
                        flow[2] = self._update_ratios(changes)
                        flow.flags.writeable = False
                e.busy += time.perf_counter() - start
                e.seen += len(labels)
                e.correct += int((a_L.argmax(axis=1) == counted).sum())
                e.cost_sum += cost * len(labels)
                e.next_batch = k + 1
                self.step += 1
                yield BatchReport(epoch, cfg.epochs, k + 1, batches, self.step, cost, lr,
                                  e.seen / e.busy if e.busy > 0 else 0.0, flow)
            start = time.perf_counter()
            test_accuracy, test_cost = self.evaluate()
            e.busy += time.perf_counter() - start
            self.epoch = epoch
            self.test_accuracy = test_accuracy
            if cfg.schedule == "step":  # the other schedules' shapes do the decaying
                self.lr *= cfg.lr_decay
            self._epoch = None
            yield EpochReport(epoch, cfg.epochs, self.step, e.cost_sum / e.seen, e.correct / e.seen,
                              test_accuracy, test_cost, e.busy, e.seen / e.busy if e.busy > 0 else 0.0)

    def evaluate(self) -> tuple[float, float]:
        """(accuracy, cost) on the test set; its outputs stay in ``test_probabilities``."""
        with np.errstate(over="ignore", invalid="ignore"):  # as in training: _update reports divergence
            a_L = self.net.predict_proba(self.data.x_test)
        a_L.flags.writeable = False  # handed out as it is: a new array every epoch
        self.test_probabilities = a_L
        cost = self.net.loss.fn(a_L, one_hot(self.data.y_test), self.net.output)
        return accuracy(a_L.argmax(axis=1), self.data.y_test), cost

    def _with_taught(self, x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The batch (x, labels) with the next ``taught_per_batch`` taught images after it: the
        taught ones are taken in turn by step, so every one comes back every T / m batches."""
        taught_x, taught_y = self.taught
        m = self.taught_per_batch
        j = (self.step * m + np.arange(m)) % len(taught_x)
        return np.concatenate([x, taught_x[j]]), np.concatenate([labels, taught_y[j]])

    def _flow(self, nabla_W: list[np.ndarray], deltas: list[np.ndarray]) -> np.ndarray:
        """(3, L) float32, the rows of FLOW_FIELDS; the update row is filled in after the step.
        The deltas backprop hands out are divided by the batch size B: times B, per sample."""
        flow = np.empty((len(FLOW_FIELDS), len(nabla_W)), np.float32)
        flow[0] = [_norm(g) / math.sqrt(g.size) for g in nabla_W]
        flow[1] = [_norm(d) * math.sqrt(len(d) / d.shape[1]) for d in deltas]  # B |d| / sqrt(B n)
        return flow

    def _update_ratios(self, changes: list[np.ndarray]) -> list[float]:
        """|dW[l]| / |W[l]| for each layer, from the steps ``Optimizer.step`` returned."""
        return [_norm(dW) / max(_norm(W), _TINY) for dW, W in zip(changes, self.net.W)]

    def _update(self, cost: float, grads: list[np.ndarray], epoch: int, batch: int,
                lr: float) -> list[np.ndarray]:
        """One optimiser step, undone if it leaves anything non-finite; the step each parameter
        took (``Optimizer.step``)."""
        if math.isfinite(cost):
            for saved, p in zip(self._last_finite, self._params):
                np.copyto(saved, p)
            changes = self.optimizer.step(self._params, grads, lr, self._decay)
            if self.net.all_finite():
                return changes
            for saved, p in zip(self._last_finite, self._params):
                np.copyto(p, saved)
            what = "a weight became infinite or NaN"
        else:
            what = f"the cost became {cost}"
        raise TrainingDiverged(
            f"training stopped at epoch {epoch}, batch {batch}: {what} with learning rate "
            f"{lr:g}; lower the learning rate and try again (the weights of the last finite "
            f"batch were kept)")


def stacked_flow(flows: list[np.ndarray], n_layers: int = 0) -> np.ndarray:
    """(k, 3, L) float32: the flows of k batches stacked; (0, 3, n_layers) if there are none."""
    return np.stack(flows) if flows else np.empty((0, len(FLOW_FIELDS), n_layers), np.float32)


_TINY = 1e-30  # the update ratio of an all-zero layer is its step over this, not a division by 0


def _norm(a: np.ndarray) -> float:
    """The Euclidean norm of an array of any shape (one BLAS dot product, no temporary)."""
    return math.sqrt(float(np.vdot(a, a)))
