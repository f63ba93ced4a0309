"""Two runs trained together, step-locked: the same images in the same order, side by side.

Two trainers of the same seed shuffle the training set the same way every epoch (the shuffle has
a generator of its own, ``core.train.Trainer``), whatever their networks: so two runs of one
seed see the same images in the same order, and two of the same batch size the same batch at
the same step. ``train_together`` interleaves their ``Trainer.run`` loops so that neither gets
ahead: the next batch is always the one of the run that is behind, in epochs (their batch sizes
may differ), the first on a tie. Two runs so take the sum of their times and no more: the loop
adds one comparison a batch.

Settings are written as a preset, optionally followed by changes: ``fast``, ``classic``,
``fast:lr=0.003,batch_size=64`` (``settings``); ``describe`` says them back in a few words.
"""
from __future__ import annotations

import dataclasses
from typing import Iterator

from core.config import TrainConfig, preset
from core.errors import ConfigError
from core.history import History, position_of, record
from core.train import BatchReport, EpochReport, Trainer


def train_together(trainers: list[Trainer], histories: list[History] | None = None
                   ) -> Iterator[tuple[int, BatchReport | EpochReport]]:
    """Train every trainer's remaining epochs, a batch at a time, always the one furthest
    behind: yields (which trainer, its report). With ``histories``, each run records into its
    own (``core.history.record``)."""
    runs = [record(t, h) if histories is not None else t.run()
            for t, h in zip(trainers, histories or [None] * len(trainers))]
    at = [t.position for t in trainers]
    going = set(range(len(runs)))
    while going:
        i = min(going, key=lambda j: (at[j], j))
        try:
            report = next(runs[i])
        except StopIteration:
            going.discard(i)
            continue
        at[i] = position_of(report)
        yield i, report


def settings(text: str, digits: bool = True, **common) -> TrainConfig:
    """The settings of ``text``: a preset name (its variant for a dataset of digits or not:
    ``core.config.presets``), then optionally ':' and changes of its fields separated by commas
    (``fast:lr=0.003,batch_size=64``; layer sizes as 784-100-10). The ``common`` changes
    (epochs, seed) apply first, so the text's own win."""
    name, _, changes = text.partition(":")
    config = preset(name.strip(), digits).replace(**common)
    if not changes.strip():
        return config
    kinds = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    values = {}
    for part in changes.split(","):
        key, equals, value = (s.strip() for s in part.partition("="))
        if not equals or key not in kinds:
            raise ConfigError(f"cannot read {part.strip()!r} in {text!r}: write field=value with a "
                              f"field of {', '.join(kinds)}")
        values[key] = _value(key, kinds[key], value, text)
    return config.replace(**values)


def _value(key: str, kind: str, value: str, text: str):
    try:
        if key == "sizes":
            return tuple(int(n) for n in value.split("-"))
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        return value
    except ValueError:
        raise ConfigError(f"cannot read {key}={value!r} in {text!r}: "
                          f"{'sizes like 784-100-10' if key == 'sizes' else f'a {kind} is needed'}"
                          ) from None


def describe(config: TrainConfig) -> str:
    """The settings in a few words: 784-20-20-20-10 sigmoid mse sgd lr 3 batch 10."""
    return (f"{'-'.join(map(str, config.sizes))} {config.hidden} {config.loss} {config.optimizer} "
            f"lr {config.lr:g} batch {config.batch_size}")
