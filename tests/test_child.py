"""Training in a process of its own (``core.child``), without a window: the messages it speaks
(``core.wire``), the trainer's state handed over and back, a run in the child that gives the
same weights bit for bit as the same run in a thread, control that reaches the child in order,
a child killed mid-epoch, and messages from the child that are refused."""
import os
import signal
import threading
from multiprocessing import shared_memory

import numpy as np
import pytest

from core import wire
from core.child import RemoteControl, TrainerProcess, train_in_child
from core.config import TrainConfig, preset
from core.errors import ConfigError
from core.history import Moment
from core.stream import stream
from core.train import Control, EpochReport, Trainer

WAIT = 60  # seconds: generous, for a loaded machine; every wait ends on an event
FAST = preset("fast").replace(epochs=2)
CONFIGS = {
    "sgd": TrainConfig(epochs=2, batch_size=50),
    "momentum": TrainConfig(optimizer="momentum", lr=0.3, epochs=2, batch_size=32),
    "adam": FAST,
}


@pytest.fixture(scope="module")
def data(mnist):
    return mnist.limit(3000, 500)


@pytest.fixture(scope="module")
def process(data):
    child = TrainerProcess(data)
    child.start()
    yield child
    child.close()


class Collect:
    """An outbox that keeps everything, and an event for each thing waited on."""

    def __init__(self, on_batch=None):
        self.steps, self.costs, self.lrs, self.batches = [], [], [], []
        self.flow_steps, self.flow = [], []
        self.epochs, self.moments, self.snapshots, self.tops, self.evaluations = [], [], [], [], []
        self.on_batch = on_batch  # called with the newest step
        self.topped = threading.Event()

    def post_batch(self, report):  # from a thread's stream
        self.post_batches(np.array([report.step]), None, np.array([report.cost]), np.array([report.lr]), report)
        if report.flow is not None:
            self.post_flow(np.array([report.step]), report.flow[np.newaxis])

    def post_batches(self, steps, positions, costs, lrs, newest):
        self.steps += steps.tolist()
        self.costs += costs.tolist()
        self.lrs += lrs.tolist()
        self.batches.append(newest)
        if self.on_batch is not None:
            self.on_batch(newest.step)

    def post_flow(self, steps, flow):
        self.flow_steps += steps.tolist()
        self.flow += list(flow)

    def post_epoch(self, report):
        self.epochs.append(report)

    def post_evaluation(self, evaluation):
        self.evaluations.append(evaluation)

    def post_moment(self, moment):
        self.moments.append(moment)

    def post_snapshot(self, snapshot):
        self.snapshots.append(snapshot)

    def post_top(self, neuron, indices, values):
        self.tops.append((neuron, indices, values))
        self.topped.set()


def weights(trainer):
    return [*trainer.net.W, *trainer.net.b]


def same_weights(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(weights(a), weights(b)))


# --- the messages ----------------------------------------------------------------------------------

def test_a_message_round_trips_with_its_arrays_as_read_only_views():
    arrays = {"W0": np.arange(12, dtype=np.float32).reshape(3, 4), "empty": np.empty((0, 5), np.int64),
              "labels": np.array([7, 2], np.uint8), "half": np.array([0.5], np.float16)}
    message = wire.decode(wire.encode("progress", {"step": 3, "lr": 0.1, "big": 2 ** 100}, arrays))
    assert message.kind == "progress" and message.fields == {"step": 3, "lr": 0.1, "big": 2 ** 100}
    for name, a in arrays.items():
        got = message.array(name, a.dtype.name, a.shape)
        assert np.array_equal(got, a) and not got.flags.writeable


def test_objects_are_never_sent():
    with pytest.raises(TypeError, match="object"):
        wire.encode("x", arrays={"a": np.array([{}], dtype=object)})


def _header(header: bytes) -> bytes:
    return len(header).to_bytes(4, "little") + header


@pytest.mark.parametrize("data, expected", [
    (b"\x01", "too short"),
    (b"\xff\xff\xff\x7f{}", "claims a header"),
    (_header(b"not json"), "not JSON"),
    (_header(b"[1, 2]"), "not {kind, fields, arrays}"),
    (_header(b'{"kind": "x", "fields": {}, "arrays": [["a", "object", [1]]]}') + bytes(8), "describes an array"),
    (_header(b'{"kind": "x", "fields": {}, "arrays": [["a", "float32", [-1]]]}'), "describes an array"),
    (_header(b'{"kind": "x", "fields": {}, "arrays": [["a", "float32", [1,1,1,1,1]]]}') + bytes(4), "describes an array"),
    (_header(b'{"kind": "x", "fields": {}, "arrays": [["a", "float32", [4]]]}') + bytes(15), "runs past its end"),
    (_header(b'{"kind": "x", "fields": {}, "arrays": [["a", "float32", [4]]]}') + bytes(17), "1 bytes more"),
    (_header(b'{"kind": "x", "fields": {}, "arrays": [["a", "uint8", [1]], ["a", "uint8", [1]]]}') + bytes(2),
     "two arrays named a"),
    (_header(b'{"kind": "x", "fields": {}, "arrays": [["a", "float64", [100000000000000000]]]}'), "runs past"),
], ids=["short", "header too long", "not json", "not an object", "object dtype", "negative size",
        "five dimensions", "bytes missing", "bytes left over", "a name twice", "a huge array"])
def test_a_malformed_message_is_refused_in_one_sentence(data, expected):
    with pytest.raises(wire.MessageError, match=expected):
        wire.decode(data)


def test_the_receiver_checks_kind_dtype_and_shape():
    message = wire.decode(wire.encode("moment", arrays={"W0": np.zeros((2, 3), np.float32)}))
    with pytest.raises(wire.MessageError, match="lacks the array W1"):
        message.array("W1", "float32")
    with pytest.raises(wire.MessageError, match="is float32, expected float16"):
        message.array("W0", "float16")
    with pytest.raises(wire.MessageError, match=r"shape \(2, 3\), expected \(3, 2\)"):
        message.array("W0", "float32", (3, 2))


# --- the trainer's state ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CONFIGS)
def test_a_trainer_restored_from_its_state_trains_bit_for_bit_as_the_original(data, name):
    config = CONFIGS[name]
    straight = Trainer(data, config)
    list(straight.run())
    halted = Trainer(data, config)
    control = Control()
    for i, _ in enumerate(halted.run(control)):
        if i == 40:  # inside the first epoch: its order and sums must travel too
            control.stop()
    fields, arrays = halted.state()
    assert fields["in_progress"]["next_batch"] > 0
    resumed = Trainer.from_state(data, fields, {k: a.copy() for k, a in arrays.items()})
    list(resumed.run())
    assert same_weights(resumed, straight) and resumed.step == straight.step


def test_a_state_taken_between_an_epochs_last_batch_and_its_evaluation_goes_on(data):
    """The child's snapshot after an epoch's last batch comes before the epoch's report: a child
    killed between the two left a state whose epoch has no batch left, which was refused, and
    the window lost the whole run. Restored, it evaluates that epoch and trains the next."""
    straight = Trainer(data, FAST)
    list(straight.run())
    halted = Trainer(data, FAST)
    control = Control()
    for report in halted.run(control):
        if report.batch == report.batches:  # the epoch's last batch: its evaluation comes next
            control.stop()
            break
    fields, arrays = halted.state()
    assert fields["in_progress"]["next_batch"] == halted.batches_per_epoch and halted.epoch == 0
    resumed = Trainer.from_state(data, fields, {k: a.copy() for k, a in arrays.items()})
    epochs = [r for r in resumed.run() if isinstance(r, EpochReport)]
    assert [e.epoch for e in epochs] == [1, 2] and epochs[0].step == halted.step
    assert same_weights(resumed, straight) and resumed.step == straight.step


@pytest.mark.parametrize("change, expected", [
    (lambda f, a: a.update(W0=a["W0"][:, :-1]), "W0 should have shape"),
    (lambda f, a: a.update(order=a["order"][::2]), "not a shuffle"),
    (lambda f, a: a.update(order=np.zeros_like(a["order"])), "not a shuffle"),
    (lambda f, a: a.update({"optimizer.m9": a["W0"]}), "unknown optimiser arrays"),
    (lambda f, a: a.update({"optimizer.m0": a["W1"]}), "optimiser array m0 has shape"),
    (lambda f, a: f.update(step=-1), "whole numbers"),
    (lambda f, a: f.update(lr=float("nan")), "learning rate"),
    (lambda f, a: f.update(test_accuracy=7.0), "test accuracy"),
    (lambda f, a: f["in_progress"].update(next_batch=10 ** 6), "epoch in progress"),
    (lambda f, a: f.update(rng={"bit_generator": "MT19937"}), "PCG64"),
], ids=["weights", "order short", "order repeats", "unknown buffer", "buffer shape", "step", "lr",
        "accuracy", "next batch", "generator"])
def test_a_wrong_state_is_refused_and_changes_nothing(data, change, expected):
    trainer = Trainer(data, FAST)
    control = Control()
    for i, _ in enumerate(trainer.run(control)):
        if i == 3:
            control.stop()
    fields, arrays = trainer.state()
    fields = {**fields, "in_progress": dict(fields["in_progress"])}
    arrays = dict(arrays)
    change(fields, arrays)
    target = Trainer(data, FAST)
    before = [w.copy() for w in weights(target)]
    with pytest.raises((ValueError, TypeError, KeyError, ConfigError), match=expected):
        target.restore(fields, arrays)
    assert all(np.array_equal(w, v) for w, v in zip(weights(target), before)) and target.step == 0


# --- the child -------------------------------------------------------------------------------------

def test_the_child_imports_numpy_and_core_only(process):
    trainer = Trainer(process.data, FAST.replace(epochs=1))
    assert train_in_child(process, trainer, RemoteControl(process), Collect()) == ""
    assert process.ready_seconds is not None
    assert {"numpy", "core"} <= set(process.modules)
    assert not set(process.modules) & {"PySide6", "pyqtgraph", "app", "tensorflow", "PIL", "pytest"}


def stream_here(trainer, control, box) -> str:
    stream(trainer, control, box, lambda: None)
    return ""


def train_in_child_of(process):
    return lambda trainer, control, box: train_in_child(process, trainer, control, box)


@pytest.mark.parametrize("name", CONFIGS)
def test_a_run_in_the_child_gives_the_weights_of_the_same_run_in_a_thread(process, data, name):
    """Stopped mid-epoch, then run again to the end: steps, costs, moments and weights agree."""
    config = CONFIGS[name]
    here, there = Trainer(data, config), Trainer(data, config)
    local, remote = Collect(), Collect()
    stop_at = here.batches_per_epoch * 5 // 4  # a quarter into the second epoch
    for trainer, box, control, train in ((here, local, Control(), stream_here),
                                         (there, remote, RemoteControl(process), train_in_child_of(process))):
        control.pause()
        control.step(stop_at)  # then it waits, paused, for the stop
        box.on_batch = lambda step, control=control: control.stop() if step == stop_at else None
        assert train(trainer, control, box) == ""
        assert trainer.step == stop_at and trainer.epoch == 1 < config.epochs
        box.on_batch = None
    stream(here, Control(), local, lambda: None)
    assert train_in_child(process, there, RemoteControl(process), remote) == ""

    assert same_weights(here, there) and here.step == there.step and there.epoch == config.epochs
    assert remote.steps == list(range(1, there.step + 1)) == local.steps
    assert np.array_equal(np.float32(local.costs), np.float32(remote.costs))
    assert remote.flow_steps == local.flow_steps and len(local.flow_steps) > 0
    assert np.array_equal(np.stack(remote.flow), np.stack(local.flow))
    assert [e.test_accuracy for e in remote.epochs] == [e.test_accuracy for e in local.epochs]
    last_local, last_remote = local.moments[-1], remote.moments[-1]
    assert last_remote.step == last_local.step and np.array_equal(last_remote.predicted, last_local.predicted)
    assert np.array_equal(remote.evaluations[-1].counts, local.evaluations[-1].counts)
    assert remote.snapshots[-1].step == there.step


def test_pause_step_lr_and_stop_reach_the_child_in_order(process, data):
    trainer = Trainer(data, FAST.replace(epochs=50, warmup=0.0))  # eta itself, batch after batch
    control = RemoteControl(process)
    control.pause()
    control.step(3)  # asked before the run starts: sent with it
    reached = {n: threading.Event() for n in (3, 5, 6)}
    box = Collect(lambda step: reached[step].set() if step in reached else None)
    ended = []
    runner = threading.Thread(target=lambda: ended.append(train_in_child(process, trainer, control, box)))
    runner.start()
    assert reached[3].wait(WAIT)
    control.step(2)
    assert reached[5].wait(WAIT)
    control.set_lr(0.0042)
    control.step(1)  # after the new rate: the sixth batch is trained with it
    assert reached[6].wait(WAIT)
    control.stop()  # still paused after the sixth: no seventh
    runner.join(WAIT)
    assert ended == [""] and box.steps == [1, 2, 3, 4, 5, 6] and trainer.step == 6
    assert box.lrs[4] == pytest.approx(FAST.lr) and box.lrs[5] == pytest.approx(0.0042)
    assert trainer.lr == pytest.approx(0.0042)


def test_the_inspected_neuron_is_searched_in_the_child(process, data):
    trainer = Trainer(data, FAST.replace(epochs=50))
    control = RemoteControl(process)
    box = Collect()
    runner = threading.Thread(target=train_in_child, args=(process, trainer, control, box))
    runner.start()
    control.inspect((1, 7))
    assert box.topped.wait(WAIT)
    control.stop()
    runner.join(WAIT)
    neuron, indices, values = box.tops[-1]
    assert neuron == (1, 7) and len(indices) == len(values) > 0
    assert indices.max() < len(data.x_test) and (np.diff(values) <= 0).all()


def test_a_child_killed_mid_epoch_leaves_the_last_snapshot_and_training_goes_on(data):
    child = TrainerProcess(data)
    try:
        trainer = Trainer(data, FAST.replace(epochs=50))
        killed = threading.Event()

        def on_batch(step):
            if step >= 30 and not killed.is_set():
                killed.set()
                os.kill(child.pid, signal.SIGKILL)

        box = Collect(on_batch)
        failure = train_in_child(child, trainer, RemoteControl(child), box)
        assert failure.startswith("the training process was killed (SIGKILL); the weights of step ")
        assert "memory of past gradients starts again" in failure
        last = box.snapshots[-1]
        assert trainer.step == last.step and all(np.array_equal(w, v) for w, v in zip(weights(trainer), last.W + last.b))
        in_progress = trainer.state()[0]["in_progress"]
        done = trainer.epoch * trainer.batches_per_epoch
        assert last.step == done + (0 if in_progress is None else in_progress["next_batch"])
        # a new child takes over, and the epoch goes on from the next batch: no step twice
        box.on_batch = lambda step: control.stop() if step >= last.step + 5 else None
        control = RemoteControl(child)
        assert train_in_child(child, trainer, control, box) == ""
        assert box.steps == list(range(1, trainer.step + 1))
    finally:
        child.close()


def test_data_sent_through_the_pipe_when_not_shared_trains_the_same(data):
    child = TrainerProcess(data, share=False)
    try:
        there = Trainer(data, FAST.replace(epochs=1))
        assert train_in_child(child, there, RemoteControl(child), Collect()) == ""
    finally:
        child.close()
    here = Trainer(data, FAST.replace(epochs=1))
    list(here.run())
    assert same_weights(here, there)


def test_closing_ends_the_child_and_frees_the_shared_memory(data):
    child = TrainerProcess(data)
    child.start()
    name = child._memory.name
    pid = child.pid
    child.close()
    assert not child.alive
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: no zombie either
    with pytest.raises(FileNotFoundError):
        shared_memory.SharedMemory(name=name)


# --- what the child sends is checked ----------------------------------------------------------------

class Impostor:
    """Stands in for the training process and sends what a test wants."""

    def __init__(self, messages):
        self.messages = [wire.decode(wire.encode(*m)) for m in messages]
        self.killed = False
        self.sent = []

    def start(self):
        pass

    def send(self, kind, fields=None, arrays=None):
        self.sent.append(kind)

    def receive(self, timeout, max_bytes):
        return self.messages.pop(0)

    def kill(self):
        self.killed = True


def _progress(trainer, **changes):
    """A well-formed progress message of one batch for ``trainer``, with ``changes`` made."""
    snapshot = trainer.snapshot()
    fields = {"batch": {"epoch": 1, "epochs": 2, "batch": 1, "batches": 24, "step": 1, "cost": 0.5,
                        "lr": 0.001, "samples_per_sec": 1000.0},
              "epoch_report": None, "moment": None,
              "snapshot": {"time": 1.0, "epoch": 0, "step": 1}, "resume": trainer.progress_fields(),
              "rng": None}
    arrays = {"steps": np.array([1]), "positions": np.array([1 / 24]), "costs": np.float32([0.5]),
              "lrs": np.float32([0.001]), "flow_steps": np.array([1]), "flow": np.ones((1, 3, 3), np.float32),
              **{f"W{l}": w for l, w in enumerate(snapshot.W)},
              **{f"b{l}": v for l, v in enumerate(snapshot.b)}}
    for key, value in changes.items():
        (fields if key in fields else arrays)[key] = value
    return "progress", fields, {k: v for k, v in arrays.items() if v is not None}


def _moment(trainer, **changes):
    m = Moment.of(trainer.net, 1, 1 / 24, 0, np.full((len(trainer.data.x_test), 10), 0.1, np.float32))
    arrays = {**{f"mW{l}": w for l, w in enumerate(m.W)}, **{f"mb{l}": v for l, v in enumerate(m.b)},
              "predicted": m.predicted, "confidence": m.confidence, **changes}
    return _progress(trainer, moment={"step": 1, "position": 1 / 24, "epoch": 0}, **arrays)


@pytest.mark.parametrize("make, expected", [
    (lambda t: [("hello", {}, {})], "unknown kind 'hello'"),
    (lambda t: [_progress(t, W0=t.net.W[0][:, :5].copy())], "W0 has shape"),
    (lambda t: [_progress(t, W1=t.net.W[1].astype(np.float64))], "W1 is float64"),
    (lambda t: [_progress(t, steps=np.array([1, 2]))], "positions has shape"),
    (lambda t: [_progress(t, batch={"epoch": "one"})], "BatchReport"),
    (lambda t: [_progress(t, flow=np.ones((1, 3, 5), np.float32))], "flow has shape"),
    (lambda t: [_progress(t, flow_steps=np.array([7]))], "gradient flow of batches"),
    (lambda t: [_progress(t, snapshot=None)], "snapshot"),
    (lambda t: [_progress(t, b0=None)], "lacks the array b0"),
    (lambda t: [_moment(t, predicted=np.full(len(t.data.x_test), 12, np.uint8))], "predicts class 12"),
    (lambda t: [_moment(t, confidence=np.zeros(3, np.float16))], "confidence has shape"),
    (lambda t: [("top", {"neuron": [1, 2]}, {"indices": np.array([10 ** 6]), "values": np.float32([1])})],
     "outside the test set"),
    (lambda t: [("top", {"neuron": "all"}, {})], "without its neuron"),
    (lambda t: [("ended", {"failure": 3}, {})], "without its sentence"),
    (lambda t: [("ended", {"failure": "", "state": {"config": {}}}, {})], "malformed"),
], ids=["unknown kind", "weights shape", "weights dtype", "batch arrays", "batch fields", "flow shape",
        "flow steps", "no snapshot",
        "missing bias", "moment class", "moment confidence", "top outside", "top neuron", "ended",
        "ended state"])
def test_a_malformed_message_from_the_child_ends_it_and_keeps_the_weights(data, make, expected):
    trainer = Trainer(data, FAST)
    before = [w.copy() for w in weights(trainer)]
    impostor = Impostor(make(trainer))
    failure = train_in_child(impostor, trainer, RemoteControl(impostor), Collect())
    assert failure.startswith("the training process sent a malformed message (") and expected in failure
    assert failure.endswith("and was ended; the weights of step 0 were kept")
    assert impostor.killed and impostor.sent == ["run"]
    assert all(np.array_equal(w, v) for w, v in zip(weights(trainer), before))


def test_a_child_whose_window_is_gone_ends_by_itself(data):
    """The window killed outright cannot say quit: the child reads the end of its pipe and
    leaves quietly (exit code 0), idle or training."""
    for training in (False, True):
        child = TrainerProcess(data)
        try:
            child.start()
            if training:
                child.send("run", {"state": Trainer(data, FAST.replace(epochs=50)).state()[0],
                                   "paused": False, "stopped": False, "steps": 0, "lr": None, "inspect": None},
                           Trainer(data, FAST.replace(epochs=50)).state()[1])
            process = child._process
            for end in (child._commands, child._reports):  # as the window's death closes them
                end.close()
            child._commands = child._reports = None
            process.join(WAIT)
            assert process.exitcode == 0
        finally:
            child.close()


def test_a_child_that_cannot_start_is_said_in_one_sentence(data, monkeypatch):
    import core.child

    class NoProcesses:
        def Pipe(self, duplex):
            raise OSError("[Errno 11] Resource temporarily unavailable")

    monkeypatch.setattr(core.child.multiprocessing, "get_context", lambda method: NoProcesses())
    child = TrainerProcess(data)
    child.prestart()  # the window's: quiet, the run says it
    trainer = Trainer(data, FAST)
    failure = train_in_child(child, trainer, RemoteControl(child), Collect())
    assert failure == ("the training process cannot start ([Errno 11] Resource temporarily "
                       "unavailable); start the program with --thread to train in the window's "
                       "own process")
    assert trainer.step == 0 and not child.alive
    child.close()


def test_the_child_writes_its_reports_without_waiting_for_the_window_to_read():
    """``_Outgoing``: a message is queued at once even when the pipe is full and nobody reads;
    the messages come out whole and in order once the window reads; after the window's end
    closes, the next message raises (so the child ends)."""
    from multiprocessing import Pipe

    from core.child import _Outgoing
    reader, writer = Pipe(duplex=False)
    out = _Outgoing(writer)
    big = [np.full(300_000, i, np.float32) for i in range(4)]  # 1.2 MB each, more than a pipe holds
    done = threading.Event()
    threading.Thread(target=lambda: ([wire.send(out, "progress", {"i": i}, {"a": a}) for i, a in enumerate(big)],
                                     done.set()), daemon=True).start()
    assert done.wait(WAIT)  # queued, none read yet
    assert out.busy
    for i, a in enumerate(big):
        message = wire.receive(reader, 1 << 24)
        assert message.fields == {"i": i} and np.array_equal(message.arrays["a"], a)
    out.close()
    assert not out.busy

    reader, writer = Pipe(duplex=False)
    out = _Outgoing(writer)
    reader.close()  # the window is gone
    wire.send(out, "top", {})  # queued: its write fails on the writer's thread
    out.close()  # waits for that
    with pytest.raises(OSError):
        wire.send(out, "top", {})


def test_a_snapshot_due_while_the_last_is_unwritten_goes_with_the_next(data):
    """``_Sender``: while the window has not read the last message, a snapshot due is skipped
    and its batches go with the next one: none is lost, none is repeated."""
    from core.child import _Sender
    from core.train import BatchReport

    class Slow:
        busy = False
        sent: list = []

        def send_bytes(self, data):
            self.sent.append(wire.decode(data))

    reports, trainer, control = Slow(), Trainer(data, FAST), Control()
    sender = _Sender(reports, trainer, control)
    for step in (1, 2, 3, 4):
        reports.busy = step in (2, 4)  # these snapshots fall while the last is unwritten
        if step == 4:
            control.pause()  # the last before a pause goes all the same: none would follow
        sender.post_batch(BatchReport(epoch=1, epochs=2, batch=step, batches=24, step=step, cost=1.0 / step,
                                      lr=0.001, samples_per_sec=1.0))
        sender.post_snapshot(trainer.snapshot())
    assert [list(m.arrays["steps"]) for m in reports.sent] == [[1], [2, 3], [4]]
