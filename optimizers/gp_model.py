"""A small Gaussian-process regression model with a Matérn-5/2 ARD kernel (numpy/scipy only).

What the built-in model-based optimizers (:mod:`optimizers.mobster`) need and no more:
zero-mean GP on standardized targets, one length scale per input dimension, a signal
variance and a homoscedastic noise variance, fitted by maximizing the log marginal
likelihood with L-BFGS-B on the log parameters (analytic gradient, bounded so a handful
of points cannot drive a length scale to zero or infinity), and the expected improvement
of minimization. Inputs are expected in the unit cube.

Rasmussen & Williams (2006), "Gaussian Processes for Machine Learning", Eq. 2.25-2.30 and
5.9 (the marginal likelihood and its gradient), Eq. 4.17 (Matérn 5/2).

Example:
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 8)[:, None]
    >>> gp = GaussianProcess.fit(x, np.sin(6 * x[:, 0]), np.random.default_rng(0))
    >>> mean, std = gp.predict(np.array([[0.5]]))
    >>> bool(abs(mean[0] - np.sin(3.0)) < 0.05), bool(std[0] < 0.1)
    (True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, stats

_SQRT5 = math.sqrt(5.0)
# Bounds of the log parameters: length scales in [0.01, 20] of the unit cube, signal
# variance in [0.05, 20] and noise variance in [1e-6, 1] of the standardized targets.
_LOG_LENGTH = (math.log(0.01), math.log(20.0))
_LOG_SIGNAL = (math.log(0.05), math.log(20.0))
_LOG_NOISE = (math.log(1e-6), math.log(1.0))
_JITTER = 1e-9


def matern52(x1: np.ndarray, x2: np.ndarray, lengths: np.ndarray, signal: float) -> np.ndarray:
    """The Matérn-5/2 ARD kernel matrix between the rows of ``x1`` and ``x2``.

    Example:
        >>> k = matern52(np.zeros((1, 2)), np.zeros((1, 2)), np.ones(2), 2.0)
        >>> float(k[0, 0])
        2.0
    """
    r = _distance(x1 / lengths, x2 / lengths)
    return signal * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r**2) * np.exp(-_SQRT5 * r)


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


@dataclass(frozen=True)
class GaussianProcess:
    """A fitted GP: training inputs, standardization and the Cholesky factor of ``K + noise I``."""

    x: np.ndarray
    y_mean: float
    y_std: float
    lengths: np.ndarray
    signal: float
    noise: float
    chol: np.ndarray
    alpha: np.ndarray  # (K + noise I)^-1 (standardized y)

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
        restarts: int = 2,
        start: np.ndarray | None = None,
        maxiter: int = 50,
    ) -> GaussianProcess:
        """Fit the hyperparameters by maximum marginal likelihood and condition on ``(x, y)``.

        The first start is ``start`` (log length scales, log signal, log noise), e.g. the
        previous fit's :meth:`log_params`, or else length scales 0.5, signal 1 and noise 1e-3;
        ``restarts`` more starts are drawn at random. Each
        start runs at most ``maxiter`` L-BFGS-B iterations (50, as Syne Tune's GP searchers).
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        y_mean = float(y.mean())
        y_std = float(y.std()) or 1.0
        z = (y - y_mean) / y_std
        d = x.shape[1]
        bounds = [_LOG_LENGTH] * d + [_LOG_SIGNAL, _LOG_NOISE]
        first = np.array([math.log(0.5)] * d + [0.0, math.log(1e-3)])
        if start is not None and len(start) == d + 2:
            first = np.asarray(start, dtype=float)
        starts = [first]
        for _ in range(restarts):
            starts.append(np.array([rng.uniform(lo, hi) for lo, hi in bounds]))
        best: tuple[float, np.ndarray] | None = None
        for theta0 in starts:
            try:
                res = optimize.minimize(
                    _neg_log_likelihood,
                    np.clip(theta0, *np.array(bounds).T),
                    args=(x, z),
                    jac=True,
                    method="L-BFGS-B",
                    bounds=bounds,
                    options={"maxiter": maxiter},
                )
            except (linalg.LinAlgError, ValueError):
                continue
            if np.isfinite(res.fun) and (best is None or res.fun < best[0]):
                best = (float(res.fun), res.x)
        theta = best[1] if best is not None else starts[0]
        return cls._condition(x, z, y_mean, y_std, theta)

    @classmethod
    def with_params(cls, x: np.ndarray, y: np.ndarray, log_params: np.ndarray) -> GaussianProcess:
        """Condition on ``(x, y)`` with given hyperparameters (a previous fit's :meth:`log_params`),
        without fitting them again: one Cholesky factorization."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        y_mean, y_std = float(y.mean()), float(y.std()) or 1.0
        return cls._condition(x, (y - y_mean) / y_std, y_mean, y_std, np.asarray(log_params, dtype=float))

    @classmethod
    def _condition(
        cls, x: np.ndarray, z: np.ndarray, y_mean: float, y_std: float, theta: np.ndarray
    ) -> GaussianProcess:
        d = x.shape[1]
        lengths, signal, noise = np.exp(theta[:d]), math.exp(theta[d]), math.exp(theta[d + 1])
        k = matern52(x, x, lengths, signal) + (noise + _JITTER) * np.eye(len(x))
        chol = linalg.cholesky(k, lower=True)
        alpha = linalg.cho_solve((chol, True), z)
        return cls(x, y_mean, y_std, lengths, signal, noise, chol, alpha)

    def log_params(self) -> np.ndarray:
        """(log length scales, log signal, log noise): a warm start for the next fit."""
        return np.concatenate([np.log(self.lengths), [math.log(self.signal), math.log(self.noise)]])

    def with_data(self, x: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """The same hyperparameters and standardization conditioned on other data (fantasies)."""
        z = (np.asarray(y, dtype=float) - self.y_mean) / self.y_std
        return self._condition(np.asarray(x, dtype=float), z, self.y_mean, self.y_std, self.log_params())

    def predict(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation (of the latent function) in target units."""
        ks = matern52(points, self.x, self.lengths, self.signal)
        mean = ks @ self.alpha
        v = linalg.solve_triangular(self.chol, ks.T, lower=True)
        var = np.maximum(self.signal - (v**2).sum(0), 1e-12)
        return self.y_mean + self.y_std * mean, self.y_std * np.sqrt(var)


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """Expected improvement below ``best`` (minimization).

    Example:
        >>> round(float(expected_improvement(np.array([0.0]), np.array([1.0]), 0.0)[0]), 6)
        0.398942
    """
    u = (best - mean) / std
    return std * (u * stats.norm.cdf(u) + stats.norm.pdf(u))


def _neg_log_likelihood(theta: np.ndarray, x: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood and its gradient in the log parameters."""
    n, d = x.shape
    lengths, signal, noise = np.exp(theta[:d]), math.exp(theta[d]), math.exp(theta[d + 1])
    scaled = x / lengths
    r = _distance(scaled, scaled)
    e = np.exp(-_SQRT5 * r)
    kf = signal * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r**2) * e
    k = kf + (noise + _JITTER) * np.eye(n)
    try:
        chol = linalg.cholesky(k, lower=True)
    except linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)
    alpha = linalg.cho_solve((chol, True), z)
    nll = 0.5 * z @ alpha + np.log(np.diag(chol)).sum() + 0.5 * n * math.log(2 * math.pi)
    # dL/dtheta = 0.5 tr((alpha alpha^T - K^-1) dK/dtheta)
    w = np.outer(alpha, alpha) - linalg.cho_solve((chol, True), np.eye(n))
    grad = np.empty_like(theta)
    # dK/dlog l_j = signal * 5/3 (1 + sqrt5 r) e^{-sqrt5 r} * (dx_j / l_j)^2
    common = signal * 5.0 / 3.0 * (1.0 + _SQRT5 * r) * e * w
    for j in range(d):
        diff = (scaled[:, j][:, None] - scaled[:, j][None, :]) ** 2
        grad[j] = 0.5 * (common * diff).sum()
    grad[d] = 0.5 * (w * kf).sum()
    grad[d + 1] = 0.5 * noise * np.trace(w)
    return float(nll), -grad
