"""How well a network classifies: accuracy, the confusion matrix, precision and recall."""
from __future__ import annotations

import numpy as np


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predicted == labels)) if len(labels) else 0.0


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """counts[i, j] = how many images of digit i were predicted as j (rows true, columns predicted)."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (labels.astype(np.intp), predicted.astype(np.intp)), 1)
    return counts


def precision_recall(counts: np.ndarray, undefined: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Per class: precision = right / predicted as it, recall = right / truly it; ``undefined``
    where a class was never predicted (precision) or has no samples (recall)."""
    right = np.diag(counts).astype(np.float64)
    predicted = counts.sum(axis=0)
    truly = counts.sum(axis=1)
    precision = np.divide(right, predicted, out=np.full_like(right, undefined), where=predicted > 0)
    recall = np.divide(right, truly, out=np.full_like(right, undefined), where=truly > 0)
    return precision, recall
