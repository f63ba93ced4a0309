"""mixup (Zhang, Cisse, Dauphin and Lopez-Paz, "mixup: Beyond empirical risk minimization",
2018): every training image of a batch is blended with another image of the same batch, and its
target with that image's target, by one weight lambda drawn for the batch:

    lambda ~ Beta(alpha, alpha)
    x_i <- lambda x_i + (1 - lambda) x_pi(i)
    y_i <- lambda y_i + (1 - lambda) y_pi(i)        (y the one-hot targets, so y_i sums to 1)

with pi a random permutation of the batch. The network is asked for 70% "coat" and 30% "shirt"
where the image is 70% a coat and 30% a shirt, and so learns to change its mind gradually between
the training images instead of jumping, which is what makes it generalise on Fashion-MNIST, where
dropout and more epochs did not (the README's presets). alpha = 0.4 draws most lambdas near 0 or
1 (nearly one image) and some near 1/2; as alpha grows lambda gathers at 1/2.

Cross-entropy against the blended target is the blend of the two cross-entropies,
C = lambda C(a, y_i) + (1 - lambda) C(a, y_pi(i)), so backprop needs nothing new: BP1's
a - y holds with the blended y.
"""
from __future__ import annotations

import numpy as np


def draw(n: int, alpha: float, rng: np.random.Generator) -> tuple[float, np.ndarray]:
    """lambda ~ Beta(alpha, alpha) and the partners pi, a random permutation of n: two draws
    from ``rng``, in that order."""
    return float(rng.beta(alpha, alpha)), rng.permutation(n)


def blend(a: np.ndarray, lam: float, partner: np.ndarray) -> np.ndarray:
    """lambda a_i + (1 - lambda) a_pi(i) for every row i: a new array of ``a``'s dtype."""
    return (lam * a + (1.0 - lam) * a[partner]).astype(a.dtype, copy=False)


def mixup(x: np.ndarray, targets: np.ndarray, labels: np.ndarray, alpha: float,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, targets) of a batch blended as above, and for each blended image the label that
    weighs more in it (``labels`` if lambda >= 1/2, else the partners'): what its training
    accuracy counts. The inputs are not changed."""
    lam, partner = draw(len(x), alpha, rng)
    return blend(x, lam, partner), blend(targets, lam, partner), labels if lam >= 0.5 else labels[partner]
