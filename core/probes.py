"""Probes: a few chosen images whose answers are followed over the whole of training, and the
images a person taught the network.

A probe is one image (a test digit, or a drawing) and its true class if known. Its timeline is
what the network answered for it at every moment of the history: ``probe_outputs`` runs the
moments' weights on the probes' images, so a timeline is always the snapshots' own answer (it is
computed, never recorded beside them, and cannot disagree with them). ``settled`` finds where a
probe first became right and stayed right: the moment the network learned it.

By default the probes are twelve fixed test digits (``DEFAULT_PROBES``): six that both presets
learn early, and six hard ones, which ``classic`` gets right only from epoch 2 or 3 and ``fast``
only after half an epoch or more. They were found by training both for three epochs with seed 0
and following every test digit: of the 10,000, 257 settle that late in both.

Teaching adds a drawing, with the label the person gives it, to the training data: the drawing
and a few slightly shifted and rotated copies of it (``teaching_copies``), so the network learns
the digit rather than the exact pixels. ``core.train.Trainer.taught`` holds them; every batch
then trains on a few of them beside its images from the training set.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.augment import Augmentation
from core.network import Network
from core.train import Snapshot

MAX_PROBES = 12
# Test-set indices: 0, 1, 2, 4, 7, 6 learned early (the first test image of each of those digits);
# then a 3, 5, 6, 7, 8, 9 learned late (see the module docstring).
DEFAULT_PROBES = (3, 2, 1, 4, 0, 11, 18, 340, 217, 810, 403, 359)
MAX_TAUGHT = 50  # drawings a run may be taught
COPIES = 8  # shifted and rotated copies of each taught drawing, beside the drawing itself
SIDE = 28
TEACHING = Augmentation(shift=1.5, rotation=10.0)  # how a taught drawing's copies are moved


@dataclass(frozen=True, eq=False)  # two probes are the same only if they are one object
class Probe:
    """One image followed over training: its pixels (784,) float32 in [0, 1], read-only, its
    true class (-1: not known, a drawing never labelled), what it is in words, and its index
    in the test set (-1: a drawing)."""
    image: np.ndarray
    label: int
    name: str
    index: int = -1

    @classmethod
    def of(cls, image, label: int, name: str, index: int = -1) -> "Probe":
        pixels = np.array(image, dtype=np.float32).reshape(SIDE * SIDE)
        if not np.isfinite(pixels).all():
            raise ValueError("a probe's pixels must be finite")
        pixels = np.clip(pixels, 0.0, 1.0)
        pixels.flags.writeable = False
        return cls(pixels, int(label), str(name), int(index))


def default_probes(x_test: np.ndarray, y_test: np.ndarray) -> tuple[Probe, ...]:
    """The twelve fixed test digits (those the test set holds: a limited one may lack some)."""
    return tuple(Probe.of(x_test[i], int(y_test[i]), f"test digit {i}", i)
                 for i in DEFAULT_PROBES if i < len(x_test))


def probe_images(probes: tuple[Probe, ...]) -> np.ndarray:
    """(k, 784) float32: the probes' images stacked."""
    return np.stack([p.image for p in probes]) if probes else np.empty((0, SIDE * SIDE), np.float32)


def probe_outputs(snapshot: Snapshot, images: np.ndarray) -> np.ndarray:
    """(k, n_classes): the network's outputs a[L] for the probes' images (k, 784)."""
    with np.errstate(over="ignore", invalid="ignore"):  # near divergence: show, don't warn
        return snapshot.network().predict_proba(images)


def settled(predicted: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(k,) int: for each probe, the first moment from which every answer is its label (-1: it
    is wrong at the last moment, or its label is not known). ``predicted`` (M, k)."""
    if len(predicted) == 0:
        return np.full(len(labels), -1)
    right = predicted == np.asarray(labels)[np.newaxis, :]  # (M, k)
    # stays[i] is True where the probe is right at moment i and at every moment after it
    stays = np.flip(np.logical_and.accumulate(np.flip(right, axis=0), axis=0), axis=0)
    return np.where(stays[-1], stays.argmax(axis=0), -1)


def teaching_copies(image: np.ndarray, rng: np.random.Generator, copies: int = COPIES) -> np.ndarray:
    """(1 + copies, 784) float32: the drawing and ``copies`` of it shifted by up to 1.5 pixels and
    turned by up to 10 degrees each way about the centre (``core.augment``; ink beyond the frame
    is lost)."""
    x = np.array(image, dtype=np.float32).reshape(1, SIDE * SIDE)
    moved = TEACHING(np.repeat(x, copies, axis=0), rng)
    return np.concatenate([x, moved]).astype(np.float32)


def taught_set(taught: tuple[Probe, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
    """What ``Trainer.teach`` trains on for these taught drawings: each and its copies, made
    from ``seed`` and the drawing's place in the list, so the same list always teaches the same
    images (None for no drawings)."""
    if not taught:
        return None
    x = np.concatenate([teaching_copies(p.image, np.random.default_rng([seed, i]))
                        for i, p in enumerate(taught)])
    y = np.repeat(np.array([p.label for p in taught], np.uint8), COPIES + 1)
    return x, y


class Timeline:
    """The probes' outputs at every moment of a history: each moment's computed once (a forward
    pass of k images, well under a millisecond), kept by its step, so a growing history costs
    only its new moments. Changing the probes starts again."""

    def __init__(self, probes: tuple[Probe, ...] = ()):
        self.probes = probes if isinstance(probes, tuple) else tuple(probes)  # kept as given: `is` tells
        self.images = probe_images(self.probes)
        self._rows: dict[int, np.ndarray] = {}  # step of a moment -> (k, n_classes)

    def outputs(self, history) -> np.ndarray:
        """(M, k, n_classes) float32: the outputs a[L] for each probe at each of the M moments."""
        sizes, hidden, output, loss = history.architecture
        rows = []
        for moment in history.moments:
            row = self._rows.get(moment.step)
            if row is None:  # the moment's own weights (not history.snapshot: it keeps the one
                # the window shows, and the panels tell a moment by that object)
                net = Network(sizes, hidden, output, loss, [w.astype(np.float32) for w in moment.W], moment.b)
                with np.errstate(over="ignore", invalid="ignore"):
                    row = self._rows[moment.step] = net.predict_proba(self.images)
            rows.append(row)
        return np.stack(rows).astype(np.float32) if rows else np.empty((0, len(self.probes), sizes[-1]),
                                                                       np.float32)
