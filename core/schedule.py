"""Learning-rate schedules: the learning rate eta of each batch, as a factor of the run's eta.

A run of training (a new trainer, or ``Trainer.extend``) starts its schedule afresh at the
point it starts from, ``start`` (in epochs), and ends it at the run's last epoch, ``end``. For the
batch that starts at point p (epochs done plus the part of the next one done),

    t = p - start           epochs into the run         T = end - start, the run's length

and the batch trains with eta_t = eta * warmup(t) * shape(t / T), where eta is the trainer's
learning rate (the settings' ``lr``, or what ``Control.set_lr`` set since: it scales the whole
curve, so it is the peak of ``cosine`` and ``onecycle``):

    step       shape = 1; the trainer multiplies eta by ``lr_decay`` after every epoch instead
               (the behaviour of the original program, kept bit for bit)
    cosine     shape(u) = (1 + cos(pi u)) / 2: eta at the start, falling to ~0 at the end
    onecycle   Smith's one-cycle (as torch.optim.lr_scheduler.OneCycleLR, anneal "cos"): from
               eta / ONECYCLE_DIV up to eta over the first ONECYCLE_RISE of the run, then down to
               eta / ONECYCLE_FINAL_DIV, both halves along a half cosine
    warmup(t)  = min(1, (t + 1/n) / w) over the first w = ``warmup`` epochs (n batches an epoch):
               the first batch trains at eta / (w n), the last of the warm-up at eta; 1 if w = 0

Everything is a function of (settings, start, point), so a trainer handed to another process
needs only ``start`` besides what it already hands over (``Trainer.state``).
"""
from __future__ import annotations

import math

SCHEDULES = ("step", "cosine", "onecycle")
ONECYCLE_RISE = 0.3  # the part of the run spent rising to the peak (PyTorch's pct_start)
ONECYCLE_DIV = 25.0  # it starts at peak / 25 (PyTorch's div_factor)
ONECYCLE_FINAL_DIV = 1e4  # and ends at peak / 1e4


def _half_cosine(a: float, b: float, u: float) -> float:
    """From a at u = 0 to b at u = 1 along half a cosine: flat at both ends."""
    return b + (a - b) * (1.0 + math.cos(math.pi * u)) / 2.0


def shape(schedule: str, u: float) -> float:
    """The schedule's factor at u = t / T in [0, 1] of the run (1 throughout for ``step``)."""
    u = min(max(u, 0.0), 1.0)
    if schedule == "step":
        return 1.0
    if schedule == "cosine":
        return _half_cosine(1.0, 0.0, u)
    if schedule == "onecycle":
        if u < ONECYCLE_RISE:
            return _half_cosine(1.0 / ONECYCLE_DIV, 1.0, u / ONECYCLE_RISE)
        return _half_cosine(1.0, 1.0 / ONECYCLE_FINAL_DIV, (u - ONECYCLE_RISE) / (1.0 - ONECYCLE_RISE))
    raise ValueError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")


def warmup(t: float, epochs: float, batches: int) -> float:
    """The warm-up's factor for the batch starting t epochs into the run (n = ``batches`` an
    epoch): linear from 1 / (epochs n) at the first batch to 1 at the warm-up's last."""
    if epochs <= 0.0:
        return 1.0
    return min(1.0, (t + 1.0 / batches) / epochs)


def factor(schedule: str, warmup_epochs: float, start: float, end: float, point: float,
           batches: int) -> float:
    """eta_t / eta for the batch that starts at ``point`` of a run from ``start`` to ``end``
    (in epochs) of ``batches`` batches an epoch."""
    t = point - start
    length = end - start
    u = t / length if length > 0 else 0.0
    return warmup(t, warmup_epochs, batches) * shape(schedule, u)
