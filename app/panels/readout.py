"""What the network's ten outputs for one digit say, put into words the same way by every panel
that reads a digit (the activations panel, and the pad): its three likeliest digits, whether
it is sure, and whether it has been trained at all.

An untrained network still has a largest output, about 0.1 of ten nearly equal ones; written
as "predicted 7 (0.17)" in the accent colour it looks like an answer. So before any training
(step 0, no epoch) the top digit is called a guess, in a muted colour, and a trained network
whose top output is below ``UNSURE_BELOW`` is called unsure.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app import theme
from core.data import DIGITS

TOP = 3  # the outputs named: the answer and the two the network would give next
# Below this top output the answer is marked unsure. Measured on the 10,000 MNIST test digits
# with 'fast' after 1, 2 and 3 epochs on all 60,000 (96.4-97.5% right) and 'classic' after 1
# to 5 (90.3-94.6%): of the answers whose top output is below 0.7, 39-51% are wrong, against
# 1.2-5.5% of the others; 3-10% of the digits are so marked, and they hold 42-58% of the
# mistakes. (0.5 marks too few: 1-4% of the digits, 18-26% of the mistakes; 0.9 marks 8-24%,
# of which only 23-37% are wrong. The top-two margin does no better: below 0.5 it marks 3-9%,
# 38-49% of them wrong.) `python -m app.panels.readout` trains those networks again (about 20 s)
# and prints these figures.
UNSURE_BELOW = 0.7


@dataclass(frozen=True)
class Reading:
    """One digit's outputs read: ``digits`` the TOP likeliest, likeliest first, ``values``
    their outputs; ``trained`` False before any step of training; ``unsure`` when a trained
    network's top output is below UNSURE_BELOW; ``names`` the classes' names, the digits for
    MNIST (Fashion-MNIST's are words: "predicted Sneaker")."""
    digits: tuple[int, ...]
    values: tuple[float, ...]
    trained: bool
    unsure: bool
    names: tuple[str, ...] = DIGITS

    @property
    def digit(self) -> int:
        """The answer: the digit of the largest output."""
        return self.digits[0]

    @property
    def headline(self) -> str:
        """The answer in a few words: "predicted 4", "unsure: 4 or 9?", "untrained guess: 4"."""
        named = [self.names[d] for d in self.digits]
        if not self.trained:
            return f"untrained guess: {named[0]}"
        if self.unsure:
            return f"unsure: {named[0]} or {named[1]}?" if len(named) > 1 else f"unsure: {named[0]}?"
        return f"predicted {named[0]}"

    @property
    def colour(self) -> str:
        """The headline's colour: the accent for an answer, muted for a guess."""
        return theme.ACCENT if self.trained else theme.MUTED

    @property
    def top_line(self) -> str:
        """The TOP outputs as "4 0.52 · 9 0.31 · 7 0.08"."""
        return " · ".join(f"{self.names[d]} {v:.2f}" for d, v in zip(self.digits, self.values))


def read(outputs: np.ndarray, step: int, epoch: int, names: tuple[str, ...] = DIGITS) -> Reading:
    """Read the output layer ``outputs`` (K,) of a network trained for ``step`` batches and
    ``epoch`` epochs (a Snapshot's ``.step`` and ``.epoch``) whose classes are ``names``."""
    outputs = np.asarray(outputs)
    top = np.argsort(-outputs, kind="stable")[:TOP]  # ties: the smaller digit first
    values = tuple(float(v) for v in outputs[top])
    trained = step > 0 or epoch > 0
    return Reading(tuple(int(d) for d in top), values, trained,
                   trained and values[0] < UNSURE_BELOW, tuple(names))


def _measure() -> None:
    """The figures behind UNSURE_BELOW: for 'fast' (3 epochs) and 'classic' (5 epochs) trained on
    all of MNIST, after each epoch, how the test digits whose top output is below a threshold
    fare against the others."""
    from core.config import preset
    from core.data import load_mnist
    from core.train import EpochReport, Trainer

    mnist = load_mnist()
    print("network  epoch  right   below   marked  wrong if marked  wrong if not  mistakes marked")
    for name, epochs in (("fast", 3), ("classic", 5)):
        trainer = Trainer(mnist, preset(name).replace(epochs=epochs))
        for report in trainer.run():
            if not isinstance(report, EpochReport):
                continue
            p = trainer.test_probabilities
            top, wrong = p.max(axis=1), p.argmax(axis=1) != mnist.y_test
            for t in (0.5, 0.6, UNSURE_BELOW, 0.8, 0.9):
                m = top < t
                print(f"{name:8} {report.epoch:5}  {1 - wrong.mean():6.1%}  {t:5.2f}  {m.mean():7.1%}"
                      f"  {wrong[m].mean() if m.any() else 0:15.1%}  {wrong[~m].mean():12.1%}"
                      f"  {wrong[m].sum() / max(wrong.sum(), 1):15.1%}")


if __name__ == "__main__":
    _measure()
