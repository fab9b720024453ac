"""Exact star discrepancy by branch and bound over cells of the corner grid, with bitset counting.

The discrepancy is a maximum over the corners ``q`` of the grid ``Γ_1 x ... x Γ_d`` (``Γ_j``: the
points' ``j``-th coordinates plus a top value; see :mod:`analysis.subsets.discrepancy`). This module searches
that grid without enumerating it:

* A *cell* is a sub-grid ``{q : a <= q <= b}`` given by index ranges ``[lo_j, hi_j]`` per dimension.
  Counts and masses are monotone in ``q``, so for every corner of the cell

      open gap   = mu([0, q)) - share([0, q))  <=  mu([0, b)) - share([0, a))
      closed gap = share([0, q]) - mu([0, q])  <=  share([0, b]) - mu([0, a])

  and the cell is dropped once that bound is at most the best gap found. Its two extreme corners are
  real grid corners, so each evaluated cell also improves the lower bound.
* Cells are split in two along the dimension with the largest log-ratio ``b_j / a_j`` (the one that
  moves the volume most), depth first with the most promising cells on top of the stack, in batches
  of a few thousand cells at once. A child shares one extreme corner with its parent, so only one new
  corner per child is counted.
* Counting is vectorized with bitsets: per dimension ``j`` and grid index ``c``, the set of points
  whose coordinate is ``<`` (open) or ``<=`` (closed) ``Γ_j[c]`` is a packed ``uint64`` row. A box's
  count is the popcount of the AND of ``d`` rows: ``d * ceil(n / 64)`` word operations per corner.
  The empirical reference's points get bitsets on the same grid.

Every corner that could beat the final value is visited, so the result is exact (it is tested
against a box-by-box oracle). The work depends on how many cells a random-looking gap landscape
keeps near its maximum: d = 5, n = 100 and d = 4, n = 500 take well under a second; d = 6, n = 200
a few seconds (see docs/PERFORMANCE.md).

Example:
    >>> value, corner, closed = worst_corner(np.array([[0.5], [0.75]]))
    >>> round(value, 6), corner.tolist(), closed
    (0.5, [0.5], False)
"""

from __future__ import annotations

import numpy as np

#: Cells per vectorized step (bounds the temporaries at a few MB).
BATCH = 8192
#: A cell survives only if its bound beats the best gap by more than this (float round-off).
_TOL = 1e-15


def _bitsets(ranks: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """``out[j][c]``: packed bits of the rows with ``ranks[:, j] <= c``, shape (sizes[j], words)."""
    n = len(ranks)
    words = max(1, (n + 63) // 64)
    out = []
    for j, size in enumerate(sizes):
        member = np.zeros((size, words * 64), dtype=bool)
        member[:, :n] = ranks[:, j][None, :] <= np.arange(size)[:, None]
        out.append(np.packbits(member, axis=1, bitorder="little").view(np.uint64))
    return out


def _count(bits: list[np.ndarray], corners: np.ndarray) -> np.ndarray:
    """Rows inside the box at each corner (grid indices, shape (C, d)): popcount of an AND."""
    acc = bits[0][corners[:, 0]]
    for j in range(1, len(bits)):
        acc &= bits[j][corners[:, j]]
    return np.bitwise_count(acc).sum(axis=1, dtype=np.int64)


class _Measures:
    """Open/closed point shares and reference masses at grid corners."""

    def __init__(self, p: np.ndarray, q: np.ndarray | None, grids: list[np.ndarray]) -> None:
        sizes = [len(g) for g in grids]

        def bits(y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
            # y < Γ[c]  <=>  #(Γ <= y) <= c ;  y <= Γ[c]  <=>  #(Γ < y) <= c
            right = np.stack([np.searchsorted(g, y[:, j], "right") for j, g in enumerate(grids)], axis=1)
            left = np.stack([np.searchsorted(g, y[:, j], "left") for j, g in enumerate(grids)], axis=1)
            return _bitsets(right, sizes), _bitsets(left, sizes)

        self.n = len(p)
        self.p_open, self.p_closed = bits(p)
        self.q = None if q is None else (len(q), *bits(q))
        self.sides = [np.minimum(g, 1.0) for g in grids]

    def __call__(self, corners: np.ndarray) -> np.ndarray:
        """(C, 4): open share, closed share, open mass, closed mass."""
        out = np.empty((len(corners), 4))
        out[:, 0] = _count(self.p_open, corners) / self.n
        out[:, 1] = _count(self.p_closed, corners) / self.n
        if self.q is None:  # uniform: the mass is the volume, open or closed alike
            vol = self.sides[0][corners[:, 0]].copy()
            for j in range(1, len(self.sides)):
                vol *= self.sides[j][corners[:, j]]
            out[:, 2] = out[:, 3] = vol
        else:
            m, q_open, q_closed = self.q
            out[:, 2] = _count(q_open, corners) / m
            out[:, 3] = _count(q_closed, corners) / m
        return out


def _gaps(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Open and closed gap at corners with measures ``f`` (see :class:`_Measures`)."""
    return f[:, 2] - f[:, 0], f[:, 1] - f[:, 3]


def worst_corner(
    p: np.ndarray,
    q: np.ndarray | None = None,
    batch: int = BATCH,
) -> tuple[float, np.ndarray, bool]:
    """Exact star discrepancy of ``p`` (n, d) w.r.t. the uniform measure or ``q``'s empirical one.

    Inputs are assumed validated (finite, in ``[0, 1]``). Returns the value, the worst box's upper
    corner (top value 1 for the uniform, ``inf`` for an empirical reference) and whether that box is
    closed.

    Example:
        >>> p = np.array([[0.1, 0.9], [0.6, 0.3]])
        >>> round(worst_corner(p, p)[0], 12)
        0.0
    """
    d = p.shape[1]
    top = 1.0 if q is None else np.inf
    grids = [np.union1d(p[:, j], [top]) for j in range(d)]
    measures = _Measures(p, q, grids)
    # log of each grid value: the split rule compares how much each dimension can move the volume
    logs = [np.log(np.maximum(s, 1e-300)) for s in measures.sides]

    lo = np.zeros((1, d), dtype=np.int64)
    hi = np.array([[len(g) - 1 for g in grids]], dtype=np.int64)
    f_lo, f_hi = measures(lo), measures(hi)
    best, best_corner, best_closed = -np.inf, lo[0], False
    for corner, f in ((lo[0], f_lo), (hi[0], f_hi)):
        g_open, g_closed = _gaps(f)
        if max(g_open[0], g_closed[0]) > best:
            best_closed = bool(g_closed[0] > g_open[0])
            best, best_corner = float(max(g_open[0], g_closed[0])), corner
    # a grid of one corner (every coordinate at the top) is already fully evaluated
    stack = [(lo, hi, f_lo, f_hi, np.ones(1) * np.inf)] if np.any(lo != hi) else []
    while stack:
        lo, hi, f_lo, f_hi, bound = stack.pop()
        alive = bound > best + _TOL  # the best gap may have grown since these cells were pushed
        if not alive.all():
            if not alive.any():
                continue
            lo, hi, f_lo, f_hi = lo[alive], hi[alive], f_lo[alive], f_hi[alive]
        width = hi - lo
        ratio = np.stack([logs[j][hi[:, j]] - logs[j][lo[:, j]] for j in range(d)], axis=1)
        axis = np.argmax(np.where(width > 0, ratio + 1e-9 * width, -1.0), axis=1)
        rows = np.arange(len(lo))
        mid = (lo[rows, axis] + hi[rows, axis]) // 2
        lower_hi = hi.copy()  # child [lo, lower_hi] keeps the parent's lower corner
        lower_hi[rows, axis] = mid
        upper_lo = lo.copy()  # child [upper_lo, hi] keeps the parent's upper corner
        upper_lo[rows, axis] = mid + 1
        new = np.concatenate([lower_hi, upper_lo])
        f_new = measures(new)
        g_open, g_closed = _gaps(f_new)
        gap = np.maximum(g_open, g_closed)
        i = int(np.argmax(gap))
        if gap[i] > best:
            best, best_corner, best_closed = float(gap[i]), new[i], bool(g_closed[i] > g_open[i])
        c_lo = np.concatenate([lo, upper_lo])
        c_hi = np.concatenate([lower_hi, hi])
        fc_lo = np.concatenate([f_lo, f_new[len(lo) :]])
        fc_hi = np.concatenate([f_new[: len(lo)], f_hi])
        bound = np.maximum(fc_hi[:, 2] - fc_lo[:, 0], fc_hi[:, 1] - fc_lo[:, 3])
        # a single corner's bound is its exact gap, already counted: only real cells survive
        keep = (bound > best + _TOL) & np.any(c_lo != c_hi, axis=1)
        if not keep.any():
            continue
        order = np.flatnonzero(keep)[np.argsort(bound[keep], kind="stable")]  # best cells popped first
        for s in range(0, len(order), batch):
            part = order[s : s + batch]
            stack.append((c_lo[part], c_hi[part], fc_lo[part], fc_hi[part], bound[part]))
    corner = np.array([grids[j][best_corner[j]] for j in range(d)])
    return max(best, 0.0), corner, best_closed
