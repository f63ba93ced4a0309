"""A run's history: everything needed to look at any moment of training again.

Four records, each append-only:

- **batches**: for every mini-batch trained, its step, its point in epochs, its cost and the
  learning rate it was trained with (a few bytes each: 60,000 batches of ``classic`` are 1.4 MB);
- **flow**: the gradient flow (``core.train.FLOW_FIELDS``: the sizes of each layer's gradient,
  error and step) of every batch, or every k-th one of a small network (``Trainer.flow_every``);
- **epochs**: every ``EpochReport``;
- **moments**: the network at chosen steps (``Moment``): its weights, and its answers on the test
  set (the predicted digit and the confidence for each test image), from which the confusion
  matrix and the galleries of that moment are rebuilt without a forward pass.

Moments are dense where the network changes most: the initial weights (step 0), then inside the
first epoch at steps 1, 2, 4, 8, ... (log-spaced: the first batches change a fresh network more
than whole later epochs), then at the end of every epoch. Weights are kept in float16 (half the
bytes; a 15-epoch ``fast`` run's 25 moments and 7,035 batches are 12.6 MiB in memory and 13.3 MiB
in its file), which changes the test accuracy replayed from them by less than 0.1 point
(``tests/test_history.py`` checks it); biases and the test-set answers are kept as computed (a
confidence that is NaN, from outputs that overflowed near divergence, is kept as 0).

``Recorder`` decides when a moment is due while a ``Trainer`` runs, and makes it; the command
line and the window's worker both use it, so the two record the same history.

In a file (``core.model_io`` saves it beside the network) a history is plain arrays, every key
starting ``history_`` (B batches, E epochs, M moments, N test images, layers l = 0 .. L-1):

    history_steps (B,) int64, history_positions (B,) float64, history_costs (B,) float32,
    history_lrs (B,) float32                      the batch records
    history_epochs (E, 9) float64                 one row per EpochReport, its fields in order,
    history_epoch_fields (9,) unicode             named here
    history_labels (N,) uint8                     the true digits the moments were tested on
    history_moment_steps (M,) int64, history_moment_positions (M,) float64,
    history_moment_epochs (M,) int64              the moments' steps, points and epochs
    history_W{l} (M, n_l, n_{l+1}) float16, history_b{l} (M, n_{l+1}) float32
    history_predicted (M, N) uint8, history_confidence (M, N) float16
    history_flow_steps (F,) int64, history_flow (F, 3, L) float32
                                                  the gradient flow of F of the batches, rows
                                                  core.train.FLOW_FIELDS (absent from files
                                                  saved before it was recorded: none then)
    history_probe_images (k, 784) float32, history_probe_labels (k,) int64 (-1: not known),
    history_probe_names (k,) unicode, history_probe_indices (k,) int64 (test-set index, -1:
                                                  a drawing): the probes followed (core.probes)
    history_taught_images (t, 784) float32, history_taught_labels (t,) int64
                                                  the drawings taught, without their copies
    history_initial_W{l}, history_initial_b{l} float32
                                                  the initial weights exactly, to train again
                                                  from them (absent from older files)

The probes, the taught drawings and the initial weights belong to the run rather than to a
moment: ``History.probes``, ``History.taught`` and ``History.initial``.

``History.to_arrays`` writes them and ``History.from_arrays`` reads them back, checking
everything (keys, dtypes, shapes against the network, order, ranges, finiteness) before it
builds anything: a fault is one ``ModelFileError`` sentence naming the file.
"""
from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from typing import Iterator

import numpy as np

from core.errors import ModelFileError
from core.evaluation import Evaluation
from core.network import Network
from core.probes import MAX_PROBES, MAX_TAUGHT, Probe
from core.train import FLOW_FIELDS, BatchReport, EpochReport, Snapshot, Trainer

# Beyond this many moments, every other one after the first epoch is let go (the newest always
# stays), so a long run's history stays within a fixed budget: 120 moments of ``fast`` are 60 MB.
MAX_MOMENTS = 120
FLOAT16_MAX = float(np.finfo(np.float16).max)
PREFIX = "history_"  # of every key a history adds to a model file
# ... which are these, and W{l} and b{l} for every layer l (see the module docstring)
HISTORY_KEYS = ("steps", "positions", "costs", "lrs", "epochs", "epoch_fields", "labels",
                "moment_steps", "moment_positions", "moment_epochs", "predicted", "confidence")
FLOW_KEYS = ("flow_steps", "flow")  # both, or neither in a file saved before they were recorded
PROBE_KEYS = ("probe_images", "probe_labels", "probe_names", "probe_indices")  # all or none
TAUGHT_KEYS = ("taught_images", "taught_labels")  # both or neither
EPOCH_FIELDS = tuple(f.name for f in fields(EpochReport))  # the columns of history_epochs
EPOCH_INTEGERS = ("epoch", "epochs", "step")  # the columns that are whole numbers


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Moment:
    """The network at one step of training, and what it answered on the test set then."""
    step: int  # batches trained
    position: float  # the point of training in epochs: 0 at the start, 0.5 halfway through epoch 1
    epoch: int  # epochs completed
    W: tuple[np.ndarray, ...]  # float16, read-only, (n_l, n_{l+1}) as in core.network
    b: tuple[np.ndarray, ...]  # float32, read-only, (n_{l+1},)
    predicted: np.ndarray  # (N_test,) uint8: argmax of a[L] for each test image
    confidence: np.ndarray  # (N_test,) float16: a[L] of the predicted digit

    @classmethod
    def of(cls, net: Network, step: int, position: float, epoch: int,
           probabilities: np.ndarray) -> "Moment":
        """From the network as it is now and its outputs a[L] (N_test, 10) on the test set."""
        W = tuple(_frozen(np.clip(w, -FLOAT16_MAX, FLOAT16_MAX).astype(np.float16)) for w in net.W)
        b = tuple(_frozen(np.array(v, dtype=np.float32)) for v in net.b)
        predicted = probabilities.argmax(axis=1)  # (N,)
        confidence = probabilities[np.arange(len(predicted)), predicted]
        # outputs that overflowed near divergence are NaN: no confidence at all, so 0
        confidence = np.nan_to_num(confidence, nan=0.0, posinf=FLOAT16_MAX, neginf=0.0)
        return cls(int(step), float(position), int(epoch), W, b,
                   _frozen(predicted.astype(np.uint8)),
                   _frozen(np.clip(confidence, 0.0, FLOAT16_MAX).astype(np.float16)))

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (*self.W, *self.b, self.predicted, self.confidence))


def position_of(report: BatchReport | EpochReport) -> float:
    """A report's point of training in epochs: batch k of K in epoch e is at e - 1 + k / K."""
    if isinstance(report, EpochReport):
        return float(report.epoch)
    return report.epoch - 1 + report.batch / report.batches


class History:
    """The history of one network's training, oldest first. Only appended to, by one owner (the
    command line's loop, or the window on its own thread); ``Moment``s and ``EpochReport``s are
    immutable, so whoever reads them may keep them."""

    def __init__(self, architecture: tuple, labels: np.ndarray):
        """``architecture`` is (sizes, hidden, output, loss) as ``TrainConfig.architecture``;
        ``labels`` (N_test,) are the true digits of the test set the moments were evaluated on."""
        sizes, hidden, output, loss = architecture
        self.architecture = (tuple(int(n) for n in sizes), hidden, output, loss)
        self.labels = _frozen(np.array(labels, dtype=np.uint8))
        L = len(self.architecture[0]) - 1
        self._batches = _Rows(steps=(np.int64, ()), positions=(np.float64, ()),
                              costs=(np.float32, ()), lrs=(np.float32, ()))
        self._flow = _Rows(steps=(np.int64, ()), positions=(np.float64, ()),
                           flow=(np.float32, (len(FLOW_FIELDS), L)))
        self.epochs: list[EpochReport] = []
        self.moments: list[Moment] = []
        self._cache: tuple[int, Snapshot] | None = None  # the last snapshot made, by moment id
        self.probes: tuple[Probe, ...] = ()  # followed over training (core.probes)
        self.taught: tuple[Probe, ...] = ()  # drawings taught, with the labels given them
        self.initial: Snapshot | None = None  # the weights at step 0, exactly (not float16)

    # --- recording ---------------------------------------------------------------------------

    def add_batches(self, steps, positions, costs, lrs) -> None:
        """Append batches: equally long sequences of steps, points in epochs, costs and
        learning rates."""
        self._batches.append(steps=steps, positions=positions, costs=costs, lrs=lrs)

    def add_flow(self, steps, flow) -> None:
        """Append the gradient flow of some of the batches added: their steps, increasing, and
        ``flow`` (k, 3, L), the rows of ``core.train.FLOW_FIELDS`` for each."""
        steps = np.asarray(steps, np.int64)
        if len(steps) == 0:
            return
        recorded = self.steps
        at = np.searchsorted(recorded, steps)
        if (at >= len(recorded)).any() or (recorded[np.minimum(at, len(recorded) - 1)] != steps).any():
            raise ValueError("the gradient flow is of batches that are not recorded")
        if len(self._flow) and steps[0] <= self.flow_steps[-1]:
            raise ValueError(f"the gradient flow of step {steps[0]} comes after step {self.flow_steps[-1]}")
        self._flow.append(steps=steps, positions=self.positions[at], flow=flow)

    def add_batch(self, report: BatchReport) -> None:
        self.add_batches([report.step], [position_of(report)], [report.cost], [report.lr])
        if report.flow is not None:
            self.add_flow([report.step], report.flow[np.newaxis])

    def add_epoch(self, report: EpochReport) -> None:
        self.epochs.append(report)

    def add_moment(self, moment: Moment) -> None:
        """Keep ``moment`` (its step after every kept one); beyond ``MAX_MOMENTS``, thin the
        moments after the first epoch to every other one. A moment of the very step kept last
        replaces it: the same weights, now known as what they are at the end of an epoch (a
        training process killed between an epoch's last batch and its test left the window a
        moment of that step, and the run resumed from it then finishes the epoch there)."""
        if self.moments and moment.step == self.moments[-1].step:
            self.moments[-1] = moment
            self._cache = None
            return
        if self.moments and moment.step < self.moments[-1].step:
            raise ValueError(f"moments must come in order of steps: step {moment.step} after "
                             f"step {self.moments[-1].step}")
        self.moments.append(moment)
        if len(self.moments) > MAX_MOMENTS:
            early = [m for m in self.moments if m.position <= 1.0]
            late = [m for m in self.moments if m.position > 1.0]
            self.moments = early + late[-2::-2][::-1] + [late[-1]]
            self._cache = None

    # --- reading -----------------------------------------------------------------------------

    @property
    def steps(self) -> np.ndarray:
        """(B,) int64: the step of every batch recorded (a view; do not write)."""
        return self._batches.column("steps")

    @property
    def positions(self) -> np.ndarray:
        """(B,) float64: each batch's point of training in epochs (a view)."""
        return self._batches.column("positions")

    @property
    def costs(self) -> np.ndarray:
        """(B,) float32: each batch's cost, before its update (a view)."""
        return self._batches.column("costs")

    @property
    def lrs(self) -> np.ndarray:
        """(B,) float32: the learning rate each batch was trained with (a view)."""
        return self._batches.column("lrs")

    @property
    def flow_steps(self) -> np.ndarray:
        """(F,) int64: the steps of the batches whose gradient flow is recorded (a view)."""
        return self._flow.column("steps")

    @property
    def flow_positions(self) -> np.ndarray:
        """(F,) float64: their points of training in epochs (a view)."""
        return self._flow.column("positions")

    @property
    def flow(self) -> np.ndarray:
        """(F, 3, L) float32: their gradient flow, rows ``core.train.FLOW_FIELDS`` (a view)."""
        return self._flow.column("flow")

    def __len__(self) -> int:
        """The number of moments."""
        return len(self.moments)

    @property
    def last_step(self) -> int:
        last = [int(self.steps[-1])] if len(self._batches) else []
        return max([*last, *(m.step for m in self.moments[-1:])], default=0)

    def snapshot(self, i: int) -> Snapshot:
        """Moment ``i`` as a ``Snapshot`` (float32 weights, read-only) that the panels draw; the
        last one made is kept, so asking again for the same moment costs nothing."""
        moment = self.moments[i]
        if self._cache is not None and self._cache[0] is moment:
            return self._cache[1]
        sizes, hidden, output, loss = self.architecture
        W = tuple(_frozen(w.astype(np.float32)) for w in moment.W)
        snapshot = Snapshot(0.0, moment.epoch, moment.step, sizes, hidden, output, loss, W, moment.b)
        self._cache = (moment, snapshot)
        return snapshot

    def evaluation(self, i: int) -> Evaluation:
        """Moment ``i``'s answers on the test set as an ``Evaluation`` (confusion matrix and
        galleries), rebuilt from the stored digits: no forward pass."""
        moment = self.moments[i]
        k = self.architecture[0][-1]
        counts = np.bincount(self.labels.astype(np.intp) * k + moment.predicted,
                             minlength=k * k).reshape(k, k)
        return Evaluation(self.labels, moment.predicted, moment.confidence.astype(np.float32),
                          _frozen(counts.astype(np.int64)), moment.epoch)

    def nearest(self, position: float) -> int:
        """The index of the moment closest to ``position`` (in epochs); the earlier on a tie."""
        if not self.moments:
            raise ValueError("the history holds no moments")
        points = np.array([m.position for m in self.moments])
        return int(np.argmin(np.abs(points - position)))

    def at_or_before(self, step: int) -> int | None:
        """The index of the newest moment at or before ``step``, or None."""
        found = None
        for i, m in enumerate(self.moments):
            if m.step > step:
                break
            found = i
        return found

    @property
    def nbytes(self) -> int:
        """Bytes held: the moments and the batch records (capacity included)."""
        return (self._batches.nbytes + self._flow.nbytes + sum(m.nbytes for m in self.moments)
                + self.labels.nbytes)

    def reevaluated(self, x_test: np.ndarray, labels: np.ndarray) -> "History":
        """This history with every moment's answers recomputed on another test set (a model
        opened with other data than it was recorded on): one forward pass per moment."""
        other = History(self.architecture, labels)
        other.add_batches(self.steps, self.positions, self.costs, self.lrs)
        other.add_flow(self.flow_steps, self.flow)
        other.epochs = list(self.epochs)
        other.probes, other.taught, other.initial = self.probes, self.taught, self.initial
        for i, m in enumerate(self.moments):
            net = self.snapshot(i).network()
            with np.errstate(over="ignore", invalid="ignore"):
                probabilities = net.predict_proba(x_test)
            other.moments.append(Moment.of(net, m.step, m.position, m.epoch, probabilities))
        return other


    # --- in a file ---------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """This history as the plain arrays of a model file: the keys of the module docstring."""
        sizes = self.architecture[0]
        moments, N = self.moments, len(self.labels)
        M = len(moments)
        arrays = {
            f"{PREFIX}steps": self.steps.copy(),
            f"{PREFIX}positions": self.positions.copy(),
            f"{PREFIX}costs": self.costs.copy(),
            f"{PREFIX}lrs": self.lrs.copy(),
            f"{PREFIX}epochs": np.array([astuple(e) for e in self.epochs],
                                        np.float64).reshape(len(self.epochs), len(EPOCH_FIELDS)),
            f"{PREFIX}epoch_fields": np.array(EPOCH_FIELDS),
            f"{PREFIX}labels": np.array(self.labels),
            f"{PREFIX}moment_steps": np.array([m.step for m in moments], np.int64),
            f"{PREFIX}moment_positions": np.array([m.position for m in moments], np.float64),
            f"{PREFIX}moment_epochs": np.array([m.epoch for m in moments], np.int64),
            f"{PREFIX}predicted": _stacked([m.predicted for m in moments], (M, N), np.uint8),
            f"{PREFIX}confidence": _stacked([m.confidence for m in moments], (M, N), np.float16),
            f"{PREFIX}flow_steps": self.flow_steps.copy(),
            f"{PREFIX}flow": self.flow.copy(),
        }
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            arrays[f"{PREFIX}W{l}"] = _stacked([m.W[l] for m in moments], (M, n_in, n_out), np.float16)
            arrays[f"{PREFIX}b{l}"] = _stacked([m.b[l] for m in moments], (M, n_out), np.float32)
        for name, probes in (("probe", self.probes), ("taught", self.taught)):
            if probes:
                arrays[f"{PREFIX}{name}_images"] = np.stack([p.image for p in probes]).astype(np.float32)
                arrays[f"{PREFIX}{name}_labels"] = np.array([p.label for p in probes], np.int64)
        if self.probes:
            arrays[f"{PREFIX}probe_names"] = np.array([p.name for p in self.probes])
            arrays[f"{PREFIX}probe_indices"] = np.array([p.index for p in self.probes], np.int64)
        if self.initial is not None:
            for l, (w, v) in enumerate(zip(self.initial.W, self.initial.b)):
                arrays[f"{PREFIX}initial_W{l}"] = np.array(w, np.float32)
                arrays[f"{PREFIX}initial_b{l}"] = np.array(v, np.float32)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], architecture: tuple, where: str) -> "History":
        """The history held in a model file's ``arrays`` (as ``to_arrays`` wrote them), for the
        network of ``architecture`` (sizes, hidden, output, loss) saved beside it. Everything is
        checked before anything is built; a fault raises ``ModelFileError``, one sentence naming
        ``where`` (e.g. "model 'brain.npz'") and the fault."""
        sizes = tuple(int(n) for n in architecture[0])
        L, k = len(sizes) - 1, sizes[-1]
        shown = "-".join(map(str, sizes))

        def fail(fault: str):
            raise ModelFileError(f"cannot use {where}: its history {fault}")

        layered = [f"{name}{l}" for l in range(L) for name in ("W", "b")]
        required = [PREFIX + name for name in (*HISTORY_KEYS, *layered)]
        flow_keys = [PREFIX + name for name in FLOW_KEYS]
        optional = [flow_keys, [PREFIX + name for name in PROBE_KEYS],
                    [PREFIX + name for name in TAUGHT_KEYS],
                    [f"{PREFIX}initial_{name}" for name in layered]]
        expected = [*required, *(key for group in optional for key in group)]
        missing = [key for key in required if key not in arrays]
        for group in optional:  # each group whole, or not at all
            if any(key in arrays for key in group):
                missing += [key for key in group if key not in arrays]
        if missing:
            fail(f"lacks {', '.join(missing)}; the file is cut short or was not saved by this program")
        unknown = sorted(key for key in arrays if key.startswith(PREFIX) and key not in expected)
        if unknown:
            fail(f"holds {', '.join(unknown)}, which a history of the {shown} network it is saved "
                 f"with does not have")

        def take(name: str, dtype, shape: tuple, why: str) -> np.ndarray:
            """The array ``name`` as ``dtype`` (any byte order accepted), of ``shape``."""
            key, dtype = PREFIX + name, np.dtype(dtype)
            value = arrays[key]
            if value.dtype.kind != dtype.kind or value.dtype.itemsize != dtype.itemsize:
                fail(f"array {key} must hold {dtype}, got {value.dtype}")
            if value.shape != shape:
                fail(f"array {key} has shape {value.shape}, but {why} need {shape}")
            return value.astype(dtype.newbyteorder("="), copy=False)

        def one_dimensional(name: str, dtype) -> np.ndarray:
            """The array ``name`` as ``dtype``, of any length; it gives the length of others."""
            value = arrays[PREFIX + name]
            if value.ndim != 1:
                fail(f"array {PREFIX + name} must be one-dimensional, got shape {value.shape}")
            return take(name, dtype, value.shape, "")

        steps = one_dimensional("steps", np.int64)
        B = len(steps)
        batches = f"{B} batches"
        positions = take("positions", np.float64, (B,), batches)
        costs = take("costs", np.float32, (B,), batches)
        lrs = take("lrs", np.float32, (B,), batches)
        table = arrays[PREFIX + "epochs"]
        E = len(table) if table.ndim >= 1 else 0
        table = take("epochs", np.float64, (E, len(EPOCH_FIELDS)), f"the {len(EPOCH_FIELDS)} "
                     f"fields of an epoch report ({', '.join(EPOCH_FIELDS)})")
        names = arrays[PREFIX + "epoch_fields"]
        if (names.dtype.kind != "U" or names.shape != (len(EPOCH_FIELDS),)
                or tuple(str(n) for n in names) != EPOCH_FIELDS):
            fail(f"does not name its epoch columns {', '.join(EPOCH_FIELDS)}")
        labels = one_dimensional("labels", np.uint8)
        N = len(labels)
        moment_steps = one_dimensional("moment_steps", np.int64)
        M = len(moment_steps)
        moments = f"{M} moments"
        moment_positions = take("moment_positions", np.float64, (M,), moments)
        moment_epochs = take("moment_epochs", np.int64, (M,), moments)
        answers = f"{M} moments of {N} test images"
        predicted = take("predicted", np.uint8, (M, N), answers)
        confidence = take("confidence", np.float16, (M, N), answers)
        net = f"{M} moments of the {shown} network"
        W = [take(f"W{l}", np.float16, (M, n_in, n_out), net)
             for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))]
        b = [take(f"b{l}", np.float32, (M, n_out), net) for l, n_out in enumerate(sizes[1:])]
        if PREFIX + "flow_steps" in arrays:
            flow_steps = one_dimensional("flow_steps", np.int64)
            F = len(flow_steps)
            flow = take("flow", np.float32, (F, len(FLOW_FIELDS), L),
                        f"the {', '.join(FLOW_FIELDS)} of {F} batches of {L} layers")
        else:  # saved before the gradient flow was recorded
            flow_steps, flow = np.empty(0, np.int64), np.empty((0, len(FLOW_FIELDS), L), np.float32)

        if B and (steps[0] < 1 or (steps[1:] <= steps[:-1]).any()):  # not np.diff: it can wrap
            fail("has batch steps that do not increase from 1")
        if not check_positions(positions) or (positions < 0).any():
            fail("has batch positions that are negative, decrease, or are not finite")
        if not np.isfinite(costs).all():
            fail("has batch costs that are NaN or infinite")
        if not (np.isfinite(lrs).all() and (lrs > 0).all()):
            fail("has learning rates that are not finite numbers above 0")
        integers = table[:, [EPOCH_FIELDS.index(f) for f in EPOCH_INTEGERS]]
        if not np.isfinite(table).all():
            fail("has epoch reports holding NaN or infinite values")
        if (integers != np.round(integers)).any() or (integers < 0).any():
            fail(f"has epoch reports whose {', '.join(EPOCH_INTEGERS)} are not whole numbers of "
                 f"at least 0")
        for name in ("epoch", "step"):
            column = table[:, EPOCH_FIELDS.index(name)]
            if (np.diff(column) <= 0).any() or (E and column[0] < 1):
                fail(f"has epoch reports whose {name}s do not increase from 1")
        if (labels >= k).any():
            fail(f"has test labels of {int(labels.max())}, but the network tells only {k} digits apart")
        if M and (moment_steps[0] < 0 or (moment_steps[1:] <= moment_steps[:-1]).any()):
            fail("has moments whose steps do not increase")
        if not check_positions(moment_positions) or (moment_positions < 0).any():
            fail("has moments whose positions are negative, decrease, or are not finite")
        if M and (moment_epochs[0] < 0 or (moment_epochs[1:] < moment_epochs[:-1]).any()):
            fail("has moments whose epochs are negative or decrease")
        if (predicted >= k).any():
            fail(f"has predicted digits of {int(predicted.max())}, but the network tells only "
                 f"{k} digits apart")
        if not (np.isfinite(confidence).all() and (confidence >= 0).all()):
            fail("has confidences that are negative, NaN or infinite")
        for name, stack in (*((f"W{l}", w) for l, w in enumerate(W)),
                            *((f"b{l}", v) for l, v in enumerate(b))):
            if not np.isfinite(stack).all():
                fail(f"has moments whose {name} holds NaN or infinite values")

        at = np.searchsorted(steps, flow_steps)
        if len(flow_steps) and ((flow_steps[1:] <= flow_steps[:-1]).any() or (at >= B).any()
                                or (steps[np.minimum(at, B - 1)] != flow_steps).any()):
            fail("has a gradient flow of batches it does not record, or out of order")
        if (flow < 0).any():
            fail("has a gradient flow with negative sizes")
        probes = _probes(arrays, "probe", MAX_PROBES, k, fail)
        taught = _probes(arrays, "taught", MAX_TAUGHT, k, fail)
        initial = None
        if f"{PREFIX}initial_W0" in arrays:
            initial_W = [take(f"initial_W{l}", np.float32, (n_in, n_out), "the network's weights")
                         for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))]
            initial_b = [take(f"initial_b{l}", np.float32, (n_out,), "the network's biases")
                         for l, n_out in enumerate(sizes[1:])]
            if not all(np.isfinite(a).all() for a in (*initial_W, *initial_b)):
                fail("has initial weights holding NaN or infinite values")
            initial = Snapshot(0.0, 0, 0, sizes, *architecture[1:],
                               tuple(_frozen(w.copy()) for w in initial_W),
                               tuple(_frozen(v.copy()) for v in initial_b))

        history = cls(architecture, labels)
        history.probes, history.taught, history.initial = probes, taught, initial
        history.add_batches(steps, positions, costs, lrs)
        history.add_flow(flow_steps, flow)
        for row in table:
            report = dict(zip(EPOCH_FIELDS, row.tolist()))
            history.epochs.append(EpochReport(**{name: int(v) if name in EPOCH_INTEGERS else v
                                                 for name, v in report.items()}))
        for i in range(M):  # copies, so a moment let go later frees its bytes
            history.moments.append(Moment(
                int(moment_steps[i]), float(moment_positions[i]), int(moment_epochs[i]),
                tuple(_frozen(w[i].copy()) for w in W), tuple(_frozen(v[i].copy()) for v in b),
                _frozen(predicted[i].copy()), _frozen(confidence[i].copy())))
        return history


class _Rows:
    """Records of named columns, appended to in rows: each column one preallocated array that
    doubles when full, so appending is amortised O(1) and reading hands out a view."""

    def __init__(self, **columns):
        """``columns``: name=(dtype, shape of one row)."""
        self._data = {name: np.empty((0, *shape), dtype) for name, (dtype, shape) in columns.items()}
        self._n = 0  # rows recorded: the arrays have room for more

    def append(self, **columns) -> None:
        """Append equally many rows to every column."""
        k = len(np.asarray(next(iter(columns.values()))))
        if k == 0:
            return
        end = self._n + k
        for name, old in self._data.items():
            if end > len(old):
                grown = np.empty((max(1024, 2 * end), *old.shape[1:]), old.dtype)
                grown[:self._n] = old[:self._n]
                self._data[name] = old = grown
            old[self._n:end] = columns[name]
        self._n = end

    def column(self, name: str) -> np.ndarray:
        return self._data[name][:self._n]

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        """Bytes held, capacity included."""
        return sum(a.nbytes for a in self._data.values())


def _probes(arrays: dict, name: str, most: int, k: int, fail) -> tuple[Probe, ...]:
    """The probes (``name`` "probe") or taught drawings ("taught") of a file's arrays, checked:
    at most ``most`` images of 784 pixels in [0, 1], labels below ``k`` (-1, not known, for a
    probe only), names of at most 100 characters."""
    images = arrays.get(f"{PREFIX}{name}_images")
    if images is None:
        return ()
    labels = arrays[f"{PREFIX}{name}_labels"]
    n = len(images) if images.ndim else -1
    if images.dtype != np.float32 or images.shape != (n, 784) or not 1 <= n <= most:
        fail(f"array {PREFIX}{name}_images must hold 1 to {most} images of 784 float32 pixels, "
             f"got shape {images.shape} of {images.dtype}")
    if not (np.isfinite(images).all() and (images >= 0).all() and (images <= 1).all()):
        fail(f"array {PREFIX}{name}_images holds pixels outside 0 to 1")
    lowest = -1 if name == "probe" else 0
    if (labels.dtype.kind not in "iu" or labels.shape != (n,)
            or (labels < lowest).any() or (labels >= k).any()):
        fail(f"array {PREFIX}{name}_labels must hold {n} classes from {lowest} to {k - 1}")
    if name == "probe":
        names = arrays[f"{PREFIX}probe_names"]
        if names.dtype.kind != "U" or names.shape != (n,) or any(len(str(s)) > 100 for s in names):
            fail(f"array {PREFIX}probe_names must name its {n} probes in words")
        words = [str(s) for s in names]
        indices = arrays[f"{PREFIX}probe_indices"]
        if indices.dtype.kind not in "iu" or indices.shape != (n,) or (indices < -1).any():
            fail(f"array {PREFIX}probe_indices must hold {n} test-set indices or -1")
    else:
        words = [f"drawing taught as {int(label)}" for label in labels]
        indices = np.full(n, -1)
    return tuple(Probe.of(image, int(label), word, int(i))
                 for image, label, word, i in zip(images, labels, words, indices))


def holds_history(arrays: dict[str, np.ndarray]) -> bool:
    """Does a model file's ``arrays`` hold a history (any key of it, to be checked whole)?"""
    return any(key.startswith(PREFIX) for key in arrays)


def _stacked(arrays: list[np.ndarray], shape: tuple, dtype) -> np.ndarray:
    """``arrays`` stacked along a new first axis, as ``dtype``; (0, ...) of ``shape`` if none."""
    return np.stack(arrays).astype(dtype, copy=False) if arrays else np.empty(shape, dtype)


class Recorder:
    """Watches a ``Trainer.run`` and makes the moments a history keeps: call ``observe`` with
    every report the run yields, right after it is yielded (the trainer's network then holds
    the weights that report speaks of)."""

    def __init__(self, trainer: Trainer):
        self.trainer = trainer

    def initial(self) -> Moment:
        """The network as it is before (any more) training: step and epochs done so far."""
        t = self.trainer
        return self._moment(t.step, float(t.epoch), t.epoch, None)

    def observe(self, report: BatchReport | EpochReport) -> Moment | None:
        """The moment due after this report, or None: inside the first epoch after batches
        1, 2, 4, 8, ... (not the last batch, whose moment is the epoch's), and after every epoch
        (whose test-set outputs the trainer has just computed)."""
        if isinstance(report, EpochReport):
            return self._moment(report.step, float(report.epoch), report.epoch,
                                self.trainer.test_probabilities)
        k = report.batch
        if report.epoch == 1 and k < report.batches and k & (k - 1) == 0:
            return self._moment(report.step, position_of(report), 0, None)
        return None

    def _moment(self, step, position, epoch, probabilities) -> Moment:
        net = self.trainer.net
        if probabilities is None:
            with np.errstate(over="ignore", invalid="ignore"):  # near divergence: keep, don't warn
                probabilities = net.predict_proba(self.trainer.data.x_test)
        return Moment.of(net, step, position, epoch, probabilities)


def record(trainer: Trainer, history: History, control=None) -> Iterator[BatchReport | EpochReport]:
    """``trainer.run(control)``, recording into ``history`` as it goes (the initial moment
    first, if the history has none at the trainer's step): for a loop in one thread, like the
    command line's."""
    recorder = Recorder(trainer)
    keep_initial(history, trainer)
    if not history.moments or history.moments[-1].step < trainer.step:
        history.add_moment(recorder.initial())
    for report in trainer.run(control):
        if isinstance(report, BatchReport):
            history.add_batch(report)
        else:
            history.add_epoch(report)
        moment = recorder.observe(report)
        if moment is not None:
            history.add_moment(moment)
        yield report


def keep_initial(history: History, trainer: Trainer) -> None:
    """Keep the trainer's weights as the history's initial ones, exactly, if it has trained
    none yet (and the history has none): what "train again from the initial weights" needs."""
    if trainer.step == 0 and history.initial is None:
        history.initial = trainer.snapshot()


def check_positions(points: np.ndarray) -> bool:
    """Are these points of training finite and never decreasing?"""
    return bool(np.isfinite(points).all() and (np.diff(points) >= 0).all())


