"""Which BLAS kernel this process computes with: part of what makes a run bit-reproducible.

An optimized BLAS picks its CPU kernel when it loads (OpenBLAS: ``Haswell``, ``Zen``,
``SkylakeX``, ...), and linear algebra computed by different kernels can differ in the last bits.
Optimizers whose next trial depends on an eigendecomposition or a Cholesky factor (CMA-ES, Gaussian
processes) then follow different trajectories after a few dozen trials: on one AMD EPYC machine,
archived ``cma_es`` and ``ng_cmaes`` runs re-ran bit for bit with ``OPENBLAS_CORETYPE=Haswell`` or
``Zen`` and diverged after 12-42 trials with the ``SkylakeX`` kernel OpenBLAS chose by default.
Every run records the kernel in its metadata (``host.blas``) so that a re-run can ask for the same one
(``OPENBLAS_CORETYPE=<kernel>`` before the process starts).

Example:
    >>> kernel = blas_kernel()
    >>> kernel is None or kernel.count(" ") >= 2
    True
"""

from __future__ import annotations

import functools

__all__ = ["blas_kernel", "openblas_coretype"]


@functools.cache
def blas_kernel() -> str | None:
    """``"<library> <version> <kernel>"`` of numpy's BLAS (``"openblas 0.3.31.188.0 SkylakeX"``), or
    ``None`` where it cannot be told (``threadpoolctl``, which reads it, is not installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    import numpy  # noqa: F401  (loads numpy's BLAS, the one the optimizers' linear algebra uses)

    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not blas:
        return None
    mine = next((i for i in blas if "numpy" in str(i.get("filepath", ""))), blas[0])
    return f"{mine.get('internal_api')} {mine.get('version')} {mine.get('architecture')}"


def openblas_coretype(kernel: str | None) -> str | None:
    """The ``OPENBLAS_CORETYPE`` value that selects a recorded OpenBLAS kernel (``None`` otherwise).

    Example:
        >>> openblas_coretype("openblas 0.3.31.188.0 SkylakeX"), openblas_coretype("mkl 2024.1 skylake")
        ('SkylakeX', None)
    """
    if not kernel:
        return None
    parts = kernel.split()
    return parts[-1] if parts[0] == "openblas" and len(parts) >= 3 else None
