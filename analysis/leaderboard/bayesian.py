"""Bayesian signed-rank test with a region of practical equivalence (ROPE).

Benavoli, Corani, Demšar & Zaffalon (2017), "Time for a change: a tutorial for
comparing multiple classifiers through Bayesian analysis", JMLR 18(77); the
test itself is Benavoli, Mangili, Corani, Zaffalon & Ruggeri
(2014), "A Bayesian Wilcoxon signed-rank test based on the Dirichlet process",
ICML, PMLR 32. The definitions follow the reference implementation, ``baycomp``
1.0.3 (``SignedRankTest``), draw for draw.

The model. Let ``z_i = x_i - y_i`` be the per-task score differences (here
*lower is better*, so ``z_i < 0`` favours ``x``). A Dirichlet process with
strength ``s`` (``prior_strength``) and a base measure that is a point mass at
``z_0 = 0`` (the prior's pseudo-observation: "no difference") is updated with
the ``n`` differences; its posterior puts Dirichlet weights
``w ~ Dir(s, 1, ..., 1)`` on ``(z_0, z_1, ..., z_n)``. For one draw ``w``, the
probabilities that the Walsh average ``(z_i + z_j) / 2`` of two tasks falls
left of, inside or right of the ROPE ``[-rope, rope]`` are::

    theta_x    = sum_ij w_i w_j H(-(z_i + z_j) - 2 rope)   # x better by more than rope
    theta_y    = sum_ij w_i w_j H(z_i + z_j - 2 rope)      # y better by more than rope
    theta_rope = 1 - theta_x - theta_y

with ``H(t) = 1`` for ``t > 0``, ``1/2`` for ``t = 0``, ``0`` otherwise, over all
ordered pairs ``i, j`` in ``0..n`` (the diagonal and the pseudo-observation
included). The test reports, for each outcome, the posterior probability that it
is the *most probable* of the three: ``P(x better) = P(theta_x > theta_rope,
theta_y)`` and so on, estimated by the share of Monte Carlo draws in which it
is the largest. With ``rope = 0`` there is no middle region: ``theta_y`` is
computed and ``theta_x = 1 - theta_y`` (as baycomp does).

Directions. baycomp scores are higher-is-better and its ``probs(x, y)`` uses
``diff = y - x``; its ``p_left`` (``y - x < -rope``) means "x better" in its
terms. Our scores are lower-is-better, so our ``P(x better)`` is baycomp's
``p_left`` of ``SignedRankTest.probs(y, x)`` (arguments swapped, which
differences to exactly ``x - y``) and its ``p_right`` of ``probs(x, y)``.

Exactness. The Dirichlet weights are drawn with ``numpy.random.RandomState(seed)
.dirichlet`` as in baycomp, so the draws are the same; each draw's ``theta``
equals baycomp's up to float rounding (a different summation order, ~1e-15).
The one deliberate difference: when two of the three ``theta`` tie (within
:data:`TIE_TOL`; it happens only in degenerate data, e.g. ``rope = 0`` and every
difference exactly 0), baycomp's ``argmax`` hands the draw to the first, by
float noise; here the tied outcomes share it, so swapping ``x`` and ``y`` swaps
the probabilities exactly.

Speed. baycomp loops over draws with an ``(n+1) x (n+1)`` matrix each, O(S n^2).
Here the differences are sorted once: for a fixed ``i`` the ``j`` with
``z_i + z_j`` below (above) a threshold form a prefix (suffix) of the sorted
order, because float addition is monotone, so each draw costs a cumulative sum,
O(S n). Draws are processed in chunks to bound memory, and all pairs of a score
table with the same number of common tasks share the draws (with the same seed
they would be the same draws anyway).

Example:
    >>> x = np.array([0.10, 0.20, 0.05, 0.30, 0.12, 0.40])
    >>> p = signed_rank(x, x + 0.1, rope=0.01, n_samples=2000)
    >>> round(p.p_x_better, 3), p.p_y_better
    (1.0, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, overload

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from analysis.leaderboard.stats import TIE_DECIMALS

#: Default ROPE in units of normalized regret. Regret is min-max scaled per task to ``[0, 1]``
#: (:mod:`analysis.normalize`), so 0.01 is 1% of the range between the best and the worst cost
#: seen on a task: two optimizers whose mean final regrets differ by less than that are treated as
#: practically equal. It is also the ROPE the tutorial uses for accuracies (1 percentage point),
#: which live on the same [0, 1] scale. Pass another value if a task family needs finer resolution.
DEFAULT_ROPE = 0.01
#: Strength of the Dirichlet process prior, the weight of the pseudo-observation at 0
#: (baycomp's and the tutorial's default).
DEFAULT_PRIOR = 0.5
#: Posterior probability an outcome needs before :func:`bayesian_pairs` declares it.
DEFAULT_THRESHOLD = 0.95
#: Posterior draws per pair in :func:`signed_rank` (baycomp's default): Monte Carlo standard error
#: of a probability at most 0.0022, about 0.001 near the 0.95 threshold.
DEFAULT_SAMPLES = 50_000
#: Draws per pair in :func:`bayesian_pairs`: fewer, so that 190 pairs on 100 tasks take ~1 s
#: (~2 s with 50 000); standard error at most 0.0035, about 0.0015 near the 0.95 threshold.
PAIRS_SAMPLES = 20_000
#: Two thetas of one draw closer than this tie, and the tied outcomes share the draw.
TIE_TOL = 1e-12
#: The decision words of :func:`bayesian_pairs`.
DECISIONS: tuple[str, ...] = ("a better", "equivalent", "b better", "undecided")
#: Columns of :func:`bayesian_pairs`.
PAIR_COLUMNS: tuple[str, ...] = (
    "a",
    "b",
    "p_a_better",
    "p_equivalent",
    "p_b_better",
    "n_tasks",
    "decision",
    "note",
)

# Float cells per work array (4 MB): bounds memory for 10^3+ tasks while keeping the per-chunk
# Python overhead small for a few tasks.
_CHUNK_CELLS = 500_000
# Bar and region colors: x / a better, equivalent, y / b better.
_COLORS = ("#4C72B0", "#B8B8B8", "#DD8452")


class SignedRank(NamedTuple):
    """Posterior probabilities of the three outcomes (lower scores are better); they sum to 1.

    Attributes:
        p_x_better: P(x's scores are lower than y's by more than the ROPE is the most probable outcome).
        p_equivalent: P(a difference within the ROPE is the most probable outcome).
        p_y_better: P(y's scores are lower than x's by more than the ROPE is the most probable outcome).
    """

    p_x_better: float
    p_equivalent: float
    p_y_better: float


@dataclass(frozen=True)
class _Stairs:
    """Where, in the sorted differences, each row's sums cross the ROPE's two edges."""

    order: np.ndarray  # argsort of (0, z_1..z_n)
    below_lt: np.ndarray  # per sorted i: #j with z_i + z_j < -2 rope
    below_le: np.ndarray  # ... <= -2 rope
    above_gt: np.ndarray  # per sorted i: #j with z_i + z_j > 2 rope
    above_ge: np.ndarray  # ... >= 2 rope
    rope: float


def _check(rope: float, prior_strength: float, n_samples: int) -> None:
    if not (math.isfinite(rope) and rope >= 0):
        raise ValueError(f"rope must be a finite number >= 0, got {rope!r}")
    if not (math.isfinite(prior_strength) and prior_strength > 0):
        # A Dirichlet weight must be positive; strength 0 would drop the pseudo-observation.
        raise ValueError(f"prior_strength must be a finite number > 0, got {prior_strength!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")


def _stairs(diff: np.ndarray, rope: float) -> _Stairs:
    z = np.concatenate(([0.0], diff))
    order = np.argsort(z, kind="stable")
    zs = z[order]
    # Each row of the sorted sums is non-decreasing (float addition is monotone), so the count of
    # entries below a threshold is the length of a prefix; counting the very sums baycomp compares
    # keeps its ties at the threshold (H = 1/2) exact.
    sums = zs[:, None] + zs[None, :]
    lim = 2.0 * rope
    return _Stairs(
        order,
        (sums < -lim).sum(axis=1),
        (sums <= -lim).sum(axis=1),
        (sums > lim).sum(axis=1),
        (sums >= lim).sum(axis=1),
        rope,
    )


def _chunk(n_tasks: int) -> int:
    """Draws per chunk for ``n_tasks`` tasks."""
    return max(1024, _CHUNK_CELLS // (n_tasks + 1))


class _Work:
    """Scratch arrays for :func:`_thetas`, allocated once and reused for every pair and chunk.

    Fresh multi-MB arrays per call cost more than the arithmetic: the allocator returns such
    blocks to the OS when they are freed, and every new one page-faults in again (4x slower).
    """

    def __init__(self, n_tasks: int) -> None:
        self._cells = (n_tasks + 2) * _chunk(n_tasks)
        self._flat = [np.empty(self._cells) for _ in range(3)]

    def views(self, m: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Contiguous (m, k), (m + 1, k) and (m, k) arrays over the buffers."""
        if (m + 1) * k > self._cells:
            raise ValueError(f"a chunk of {m} x {k} draws does not fit the scratch arrays")
        ws, c, g = self._flat
        return ws[: m * k].reshape(m, k), c[: (m + 1) * k].reshape(m + 1, k), g[: m * k].reshape(m, k)


def _prefix_mass(c: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Row i: (C[a_i] + C[b_i]) / 2, the mass of a prefix with the ties at its end counted half."""
    # Row by row into ``out``: a fancy-index gather would allocate a fresh array per call.
    if np.array_equal(a, b):
        for i, j in enumerate(a):
            out[i] = c[j]
    else:
        for i, (j, j2) in enumerate(zip(a, b, strict=True)):
            np.add(c[j], c[j2], out=out[i])
        out *= 0.5
    return out


def _thetas(st: _Stairs, wt: np.ndarray, work: _Work) -> np.ndarray:
    """(theta_x, theta_rope, theta_y) per draw; ``wt`` is (n+1, draws), row 0 the pseudo-observation."""
    m, k = wt.shape
    ws, c, g = work.views(m, k)
    for i, o in enumerate(st.order):
        ws[i] = wt[o]
    c[0] = 0.0
    # Row by row: numpy's cumsum along axis 0 is ~4x slower than m vectorized adds.
    for i in range(m):
        np.add(c[i], ws[i], out=c[i + 1])
    total = c[m]
    out = np.empty((k, 3))
    top = _prefix_mass(c, m - st.above_gt, m - st.above_ge, g)
    # sum_ij w_i w_j [z_i + z_j > 2 rope] = sum_i w_i (C[m] - C[m - gt_i]) = C[m]^2 - sum_i w_i C[m - gt_i].
    out[:, 2] = total * total - np.einsum("ik,ik->k", ws, top)
    if st.rope > 0:
        out[:, 0] = np.einsum("ik,ik->k", ws, _prefix_mass(c, st.below_lt, st.below_le, g))
        out[:, 1] = -out[:, 0] - out[:, 2] + 1.0
    else:
        out[:, 0] = 1.0 - out[:, 2]
        out[:, 1] = 0.0
    return out


def _shares(thetas: np.ndarray) -> np.ndarray:
    """Sum over draws of each outcome's share of being the largest theta (ties split)."""
    top = thetas >= thetas.max(axis=1, keepdims=True) - TIE_TOL
    return (top / top.sum(axis=1, keepdims=True)).sum(axis=0)


def _draws(n_tasks: int, prior_strength: float, n_samples: int, seed: int | None) -> Iterator[np.ndarray]:
    """Dirichlet weights (n+1, chunk) in baycomp's order: one RandomState, the same stream in chunks."""
    alpha = np.ones(n_tasks + 1)
    alpha[0] = prior_strength
    rs = np.random.RandomState(seed)
    chunk = _chunk(n_tasks)
    for lo in range(0, n_samples, chunk):
        # RandomState.dirichlet draws row after row, so chunks concatenate to one big call's draws.
        yield np.ascontiguousarray(rs.dirichlet(alpha, min(chunk, n_samples - lo)).T)


def probabilities(samples: np.ndarray) -> SignedRank:
    """The three probabilities from posterior draws (rows of theta_x, theta_rope, theta_y).

    Each draw counts for the outcome whose theta is the largest; tied outcomes share it.

    Example:
        >>> probabilities(np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.0, 0.5], [0.8, 0.1, 0.1]]))
        SignedRank(p_x_better=0.625, p_equivalent=0.0, p_y_better=0.375)
    """
    s = np.asarray(samples, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] != 3 or len(s) == 0:
        raise ValueError(f"samples must be a non-empty (draws, 3) array, got shape {s.shape}")
    p = _shares(s) / len(s)
    return SignedRank(float(p[0]), float(p[1]), float(p[2]))


@overload
def signed_rank(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    rope: float = ...,
    prior_strength: float = ...,
    n_samples: int = ...,
    seed: int | None = ...,
    return_samples: Literal[False] = ...,
) -> SignedRank: ...


@overload
def signed_rank(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    rope: float = ...,
    prior_strength: float = ...,
    n_samples: int = ...,
    seed: int | None = ...,
    *,
    return_samples: Literal[True],
) -> tuple[SignedRank, np.ndarray]: ...


def signed_rank(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    rope: float = DEFAULT_ROPE,
    prior_strength: float = DEFAULT_PRIOR,
    n_samples: int = DEFAULT_SAMPLES,
    seed: int | None = 0,
    return_samples: bool = False,
) -> SignedRank | tuple[SignedRank, np.ndarray]:
    """Bayesian signed-rank test of paired scores ``x`` and ``y``, lower is better.

    ``p_x_better`` is baycomp's ``p_left`` of ``SignedRankTest.probs(y, x, rope, prior=prior_strength,
    nsamples=n_samples, random_state=seed)``, and equal to it (see the module docstring).

    Args:
        x: scores of the first optimizer, one per task.
        y: scores of the second optimizer on the same tasks, in the same order.
        rope: half-width of the region of practical equivalence, in score units (0: none).
        prior_strength: weight of the prior's pseudo-observation at difference 0 (> 0).
        n_samples: posterior draws.
        seed: seed of ``numpy.random.RandomState`` (None: fresh entropy).
        return_samples: also return the draws, an (n_samples, 3) array of
            (theta_x, theta_rope, theta_y), e.g. for :func:`simplex_plot`.

    Returns:
        ``SignedRank(p_x_better, p_equivalent, p_y_better)``, and the draws if asked.

    Example:
        >>> x, y = [0.10, 0.20, 0.30, 0.40, 0.50], [0.102, 0.199, 0.301, 0.40, 0.495]
        >>> signed_rank(x, y, rope=0.01, n_samples=1000).p_equivalent
        1.0
    """
    _check(rope, prior_strength, n_samples)
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.ndim != 1 or xa.shape != ya.shape:
        raise ValueError(f"x and y must be 1-D of the same length, got shapes {xa.shape} and {ya.shape}")
    if len(xa) == 0:
        raise ValueError("x and y are empty: no task to compare on")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise ValueError("x and y must be finite; drop the tasks where either has no score")
    st = _stairs(xa - ya, float(rope))
    wins = np.zeros(3)
    kept: list[np.ndarray] = []
    work = _Work(len(xa))
    for wt in _draws(len(xa), float(prior_strength), int(n_samples), seed):
        th = _thetas(st, wt, work)
        wins += _shares(th)
        if return_samples:
            kept.append(th)
    p = wins / n_samples
    res = SignedRank(float(p[0]), float(p[1]), float(p[2]))
    return (res, np.concatenate(kept)) if return_samples else res


def _decide(p: np.ndarray, threshold: float) -> str:
    if not np.isfinite(p).all():
        return "undecided"
    for word, q in zip(("a better", "equivalent", "b better"), p, strict=True):
        if q >= threshold:
            return word
    return "undecided"


def bayesian_pairs(
    scores: pd.DataFrame,
    rope: float = DEFAULT_ROPE,
    *,
    prior_strength: float = DEFAULT_PRIOR,
    n_samples: int = PAIRS_SAMPLES,
    seed: int | None = 0,
    threshold: float = DEFAULT_THRESHOLD,
    against: str | None = None,
) -> pd.DataFrame:
    """Bayesian signed-rank test for every pair of optimizers of a score table.

    Each pair is compared on the tasks where both have a score (rounded to
    :data:`~analysis.leaderboard.stats.TIE_DECIMALS` decimals first, so float noise does not
    break an exact tie); its probabilities are exactly those of :func:`signed_rank` on those
    scores with the same arguments. Pairs with the same number of common tasks share their
    posterior draws; cost grows as pairs x ``n_samples`` x tasks (190 pairs on 100 tasks: ~1 s).

    Args:
        scores: tasks (rows) x optimizers (columns), lower is better, e.g. mean final normalized
            regret (:func:`analysis.normalize.score_table`).
        rope: half-width of the region of practical equivalence, in normalized regret
            (:data:`DEFAULT_ROPE` says why 0.01).
        prior_strength: weight of the prior's pseudo-observation at difference 0.
        n_samples: posterior draws per pair; the default, :data:`PAIRS_SAMPLES`, is below
            :func:`signed_rank`'s to keep all-pairs tables fast.
        seed: seed of ``numpy.random.RandomState``.
        threshold: posterior probability, in (0.5, 1], an outcome needs to be declared.
        against: compare only this optimizer (always column ``a``) with every other one.

    Returns:
        One row per pair, columns :data:`PAIR_COLUMNS`: ``a`` and ``b`` in table order,
        ``p_a_better`` (P(a's scores lower by more than the ROPE)), ``p_equivalent``,
        ``p_b_better``, ``n_tasks`` (common tasks), ``decision`` (one of :data:`DECISIONS`:
        the outcome whose probability reaches ``threshold``, else ``undecided``) and ``note``
        (why a pair has NaN probabilities: fewer than 2 common tasks). ``attrs`` holds the
        parameters.

    Example:
        >>> s = pd.DataFrame({"a": [0.1, 0.2, 0.0, 0.3, 0.1], "b": [0.5, 0.6, 0.4, 0.9, 0.5],
        ...                   "c": [0.1, 0.2, 0.005, 0.3, 0.1]})
        >>> bayesian_pairs(s, n_samples=2000)[["a", "b", "decision"]].values.tolist()
        [['a', 'b', 'a better'], ['a', 'c', 'equivalent'], ['b', 'c', 'b better']]
    """
    _check(rope, prior_strength, n_samples)
    if not 0.5 < threshold <= 1:
        # Above 1/2 at most one outcome can reach it, so the decision is unique.
        raise ValueError(f"threshold must lie in (0.5, 1], got {threshold!r}")
    names = [str(c) for c in scores.columns]
    if len(set(names)) != len(names):
        raise ValueError(f"optimizer names must be unique, got {names}")
    values = scores.astype(np.float64).round(TIE_DECIMALS).to_numpy()
    if against is None:
        pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    else:
        if against not in names:
            raise ValueError(f"unknown optimizer {against!r}; valid choices: {sorted(names)}")
        a = names.index(against)
        pairs = [(a, j) for j in range(len(names)) if j != a]
    ok = np.isfinite(values)
    common = [np.flatnonzero(ok[:, i] & ok[:, j]) for i, j in pairs]
    probs = np.full((len(pairs), 3), np.nan)
    by_n: dict[int, list[int]] = {}
    for p, rows in enumerate(common):
        if len(rows) >= 2:
            by_n.setdefault(len(rows), []).append(p)
    for n, members in by_n.items():
        stairs = [
            _stairs(values[common[p], pairs[p][0]] - values[common[p], pairs[p][1]], float(rope))
            for p in members
        ]
        wins = np.zeros((len(members), 3))
        work = _Work(n)
        for wt in _draws(n, float(prior_strength), int(n_samples), seed):
            for q, st in enumerate(stairs):
                wins[q] += _shares(_thetas(st, wt, work))
        probs[members] = wins / n_samples
    out = pd.DataFrame(
        {
            "a": [names[i] for i, _ in pairs],
            "b": [names[j] for _, j in pairs],
            "p_a_better": probs[:, 0],
            "p_equivalent": probs[:, 1],
            "p_b_better": probs[:, 2],
            "n_tasks": np.array([len(c) for c in common], dtype=np.int64),
            "decision": [_decide(pr, threshold) for pr in probs],
            "note": [
                "" if len(c) >= 2 else f"{len(c)} common task(s): the test needs at least 2" for c in common
            ],
        },
        columns=list(PAIR_COLUMNS),
    )
    out.attrs.update(
        rope=float(rope),
        prior_strength=float(prior_strength),
        n_samples=int(n_samples),
        seed=seed,
        threshold=float(threshold),
    )
    return out


def oriented(pairs: pd.DataFrame, optimizer: str) -> pd.DataFrame:
    """The rows of :func:`bayesian_pairs` that involve ``optimizer``, turned so that it is ``a``.

    Example:
        >>> s = pd.DataFrame({"x": [0.5, 0.6, 0.4], "y": [0.1, 0.2, 0.0]})
        >>> oriented(bayesian_pairs(s, n_samples=500), "y")[["a", "b", "decision"]].values.tolist()
        [['y', 'x', 'a better']]
    """
    rows = pairs[(pairs["a"] == optimizer) | (pairs["b"] == optimizer)].copy()
    flip = (rows["b"] == optimizer).to_numpy()
    swap = {"a better": "b better", "b better": "a better"}
    for left, right in (("a", "b"), ("p_a_better", "p_b_better")):
        lv, rv = rows[left].to_numpy(copy=True), rows[right].to_numpy(copy=True)
        rows[left] = np.where(flip, rv, lv)
        rows[right] = np.where(flip, lv, rv)
    rows["decision"] = [swap.get(d, d) if f else d for d, f in zip(rows["decision"], flip, strict=True)]
    return rows.reset_index(drop=True)


# Vertices of the simplex: x better bottom left, y better bottom right, ROPE on top (as baycomp).
_VERTICES = np.array([[0.0, 0.0], [0.5, math.sqrt(3) / 2], [1.0, 0.0]])


def simplex_plot(
    samples: np.ndarray,
    names: tuple[str, str] = ("x", "y"),
    max_points: int = 5000,
    seed: int = 0,
    title: str = "",
) -> Figure:
    """Posterior draws of (theta_x, theta_rope, theta_y) on the probability simplex.

    Each draw is a point in the triangle whose corners are "``names[0]`` better", "ROPE" and
    "``names[1]`` better"; the lines from the centre to the edges' midpoints split it into the
    three regions where that outcome is the most probable, and each point takes its region's
    color. At most ``max_points`` draws are shown (an even random sample), the probabilities
    use all of them.

    Example:
        >>> _, draws = signed_rank([0.1, 0.2, 0.3], [0.3, 0.5, 0.4], rope=0.01, n_samples=500,
        ...                        return_samples=True)
        >>> fig = simplex_plot(draws, names=("tpe", "random"))
        >>> sorted(t.get_text().split()[0] for t in fig.axes[0].texts)
        ['ROPE', 'random', 'tpe']
    """
    s = np.asarray(samples, dtype=np.float64)
    p = probabilities(s)
    if len(s) > max_points:
        s = s[np.sort(np.random.default_rng(seed).choice(len(s), max_points, replace=False))]
    fig = Figure(figsize=(5.6, 5.2), layout="constrained")
    ax = fig.subplots()
    ax.set_aspect("equal")
    ax.axis("off")
    pts = s @ _VERTICES
    region = s.argmax(axis=1)
    for r in range(3):
        sel = region == r
        ax.scatter(pts[sel, 0], pts[sel, 1], s=3, alpha=0.35, color=_COLORS[r], linewidths=0, rasterized=True)
    corners = np.vstack([_VERTICES, _VERTICES[:1]])
    ax.plot(corners[:, 0], corners[:, 1], color="0.2", lw=1.2)
    centre = _VERTICES.mean(axis=0)
    for u, v in ((0, 1), (1, 2), (0, 2)):
        mid = (_VERTICES[u] + _VERTICES[v]) / 2
        ax.plot([centre[0], mid[0]], [centre[1], mid[1]], color="0.2", lw=0.8, ls="--")
    labels = (f"{names[0]} better", "ROPE", f"{names[1]} better")
    offsets = ((-0.02, -0.05, "right", "top"), (0.0, 0.04, "center", "bottom"), (0.02, -0.05, "left", "top"))
    for (vx, vy), text, prob, (dx, dy, ha, va) in zip(_VERTICES, labels, p, offsets, strict=True):
        ax.text(vx + dx, vy + dy, f"{text}\np = {prob:.3f}", ha=ha, va=va, fontsize=10)
    ax.set_xlim(-0.35, 1.35)
    ax.set_ylim(-0.2, 1.05)
    ax.set_title(title or f"{names[0]} vs {names[1]}: posterior of the signed-rank test", fontsize=10)
    return fig


def pairs_bar_plot(pairs: pd.DataFrame, against: str | None = None, title: str = "") -> Figure:
    """Stacked horizontal bars of (p_a_better, p_equivalent, p_b_better), one bar per pair.

    Args:
        pairs: output of :func:`bayesian_pairs`.
        against: show only the pairs with this optimizer, turned so that it is ``a``
            (:func:`oriented`) and sorted by ``p_a_better``.
        title: figure title (default: says what the bars are).

    Example:
        >>> s = pd.DataFrame({"a": [0.1, 0.2, 0.0, 0.3], "b": [0.5, 0.6, 0.4, 0.9],
        ...                   "c": [0.1, 0.2, 0.0, 0.3]})
        >>> fig = pairs_bar_plot(bayesian_pairs(s, n_samples=500), against="b")
        >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
        ['b vs a', 'b vs c']
    """
    rows = pairs
    if against is not None:
        names = set(pairs["a"]) | set(pairs["b"])
        if against not in names:
            raise ValueError(f"unknown optimizer {against!r}; valid choices: {sorted(names)}")
        rows = oriented(pairs, against).sort_values("p_a_better", ascending=False, kind="stable")
    n = len(rows)
    fig = Figure(figsize=(7.5, 1.4 + 0.3 * max(n, 1)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n)
    left = np.zeros(n)
    for col, color in zip(("p_a_better", "p_equivalent", "p_b_better"), _COLORS, strict=True):
        width = rows[col].fillna(0.0).to_numpy(dtype=np.float64)
        ax.barh(y, width, left=left, color=color, height=0.75, edgecolor="white", linewidth=0.5)
        left = left + width
    ax.set_yticks(y, [f"{a} vs {b}" for a, b in zip(rows["a"], rows["b"], strict=True)])
    for yi, ok in enumerate(rows["p_a_better"].notna()):
        if not ok:
            ax.text(0.5, yi, "too few common tasks", ha="center", va="center", fontsize=8, color="0.3")
    ax.set_ylim(max(n, 1) - 0.5, -0.5)  # first pair on top
    ax.set_xlim(0, 1)
    ax.set_xlabel("posterior probability")
    threshold = pairs.attrs.get("threshold")
    if threshold is not None:
        for xv in (1 - threshold, threshold):
            ax.axvline(xv, color="0.15", lw=0.8, ls=":")
    first, second = (f"{against} better", "other better") if against else ("first better", "second better")
    words = (first, "equivalent", second)
    handles: list[Artist] = [Patch(color=c, label=t) for c, t in zip(_COLORS, words, strict=True)]
    if threshold is not None:
        handles.append(Line2D([], [], color="0.15", lw=0.8, ls=":", label=f"threshold {threshold:g}"))
    # Below the axes, outside them: constrained layout makes room, so it never hides a bar or the label.
    fig.legend(handles=handles, loc="outside lower center", ncol=4, frameon=False, fontsize=8)
    rope = pairs.attrs.get("rope")
    default = "Bayesian signed-rank test" + (f", ROPE = {rope:g}" if rope is not None else "")
    ax.set_title(title or default, fontsize=10)
    return fig
