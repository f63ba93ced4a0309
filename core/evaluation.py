"""The network's answers on the test set after an epoch, kept so they can be questioned: which
digits does it confuse, and which of its mistakes is it surest of?

An ``Evaluation`` is built once per epoch from the output layer a[L] for the test images (the
trainer computes it anyway) and is immutable: the window may keep it and read it on any thread.
Building it is a few vectorised passes over N values; the questions are answered on demand, each
a pass over N values (well under a millisecond for the 10,000 test digits).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.metrics import precision_recall


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Evaluation:
    labels: np.ndarray  # (N,) true digits, uint8
    predicted: np.ndarray  # (N,) predicted digits, uint8: argmax of a[L]
    confidence: np.ndarray  # (N,) a[L] of the predicted digit, float32 (a probability for softmax)
    counts: np.ndarray  # (K, K) int64, counts[i, j] = images of digit i predicted as j
    epoch: int  # epochs completed when the network was evaluated

    @classmethod
    def of(cls, probabilities: np.ndarray, labels: np.ndarray, epoch: int = 0) -> Evaluation:
        """From the output layer ``probabilities`` (N, K) for N test images and their true
        digits ``labels`` (N,); the arrays kept are read-only copies."""
        probabilities = np.asarray(probabilities)
        labels = np.asarray(labels)
        if probabilities.ndim != 2 or probabilities.shape[1] < 2:
            raise ValueError(f"probabilities must be (N, classes), got shape {probabilities.shape}")
        n, k = probabilities.shape
        if labels.shape != (n,):
            raise ValueError(f"{n} rows of probabilities but labels of shape {labels.shape}")
        if k > 256:
            raise ValueError(f"at most 256 classes fit in uint8 labels, got {k}")
        if n and (labels.min() < 0 or labels.max() >= k):
            raise ValueError(f"labels must be 0 to {k - 1}, got {labels.min()} to {labels.max()}")
        predicted = probabilities.argmax(axis=1)  # (N,)
        confidence = probabilities[np.arange(n), predicted].astype(np.float32)  # a copy
        labels = labels.astype(np.uint8)  # a copy, whatever it was
        # counts[i, j] by one bincount over the flat cell index i*K + j: faster than np.add.at
        counts = np.bincount(labels.astype(np.intp) * k + predicted, minlength=k * k).reshape(k, k)
        return cls(_frozen(labels), _frozen(predicted.astype(np.uint8)), _frozen(confidence),
                   _frozen(counts.astype(np.int64, copy=False)), int(epoch))

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def accuracy(self) -> float:
        """The fraction of test images predicted right (0 with none)."""
        n = len(self.labels)
        return float(np.trace(self.counts)) / n if n else 0.0

    @property
    def per_digit_accuracy(self) -> np.ndarray:
        """(K,) the fraction of each true digit predicted right: its recall (0 where a digit has
        no test images)."""
        return precision_recall(self.counts)[1]

    @property
    def precision(self) -> np.ndarray:
        """(K,) for each digit j, the share of the answers "j" that are right:
        counts[j, j] / sum_i counts[i, j]; NaN where j was never answered (an untrained network
        answers only a few digits, and 0 would say "always wrong")."""
        return precision_recall(self.counts, undefined=np.nan)[0]

    @property
    def recall(self) -> np.ndarray:
        """(K,) for each digit i, the share of its test images answered i:
        counts[i, i] / sum_j counts[i, j]; NaN where the test set has no image of i."""
        return precision_recall(self.counts, undefined=np.nan)[1]

    def cell(self, true: int, predicted: int) -> np.ndarray:
        """Indices of the test images of digit ``true`` predicted as ``predicted``, the most
        confident answer first (ties in index order)."""
        k = len(self.counts)
        if not (0 <= true < k and 0 <= predicted < k):
            raise ValueError(f"a cell is two digits 0 to {k - 1}, got ({true}, {predicted})")
        return self._by_confidence(np.flatnonzero((self.labels == true) & (self.predicted == predicted)))

    def mistakes(self) -> np.ndarray:
        """Indices of every wrong prediction, the most confident wrong answer first."""
        return self._by_confidence(np.flatnonzero(self.labels != self.predicted))

    def samples(self, start: int = 0, n: int = 32) -> np.ndarray:
        """Indices start, start + 1, ..., start + n - 1, clipped to the test set."""
        start = min(max(start, 0), len(self.labels))
        return np.arange(start, min(start + max(n, 0), len(self.labels)))

    def _by_confidence(self, indices: np.ndarray) -> np.ndarray:
        order = np.argsort(-self.confidence[indices], kind="stable")
        return indices[order]
