"""Tail probabilities and quantiles the default analysis needs, without SciPy.

SciPy's statistics module costs about a second to import, more than a small analysis
itself, for two numbers: Student's t survival function at an integer number of degrees
of freedom (:func:`student_t_sf`, the signal test's p-value) and a normal quantile
(:func:`normal_quantile`, an interval's half-width).

For ``ν`` integer degrees of freedom and ``θ = atan(t / √ν)`` the distribution function
has a closed form (Abramowitz & Stegun 26.7.3–4): with ``s = sin θ``, ``c = cos θ``,

* ``ν`` even: ``P(|T| < t) = s · Σ_{k < ν/2} a_k c^{2k}``, ``a_k = (2k−1)!! / (2k)!!``;
* ``ν`` odd: ``P(|T| < t) = (2/π) (θ + s · Σ_{k < (ν−1)/2} b_k c^{2k+1})``,
  ``b_k = (2k)!! / (2k+1)!!``.

The full series sum to ``1 / s`` and ``(π/2 − θ) / s``, so the upper tail ``P(T > t)``
is also the series' remainder from term ``ν/2`` (or ``(ν−1)/2``) on. The remainder is
summed where the tail is small (no cancellation in ``1 − P``); the finite sum elsewhere.
"""

from __future__ import annotations

import math
from statistics import NormalDist

#: Upper tails below this are summed as the series' remainder (no cancellation).
_TAIL_SWITCH = 0.1


def student_t_sf(t: float, df: int) -> float:
    """``P(T > t)`` for Student's t with ``df`` (a positive integer) degrees of freedom.

    Parameters
    ----------
    t
        The score (``±inf`` allowed; NaN gives NaN).
    df
        Degrees of freedom, an integer ``>= 1``.

    Returns
    -------
    float
        The survival function, to a relative error near 1e-14.

    Raises
    ------
    ValueError
        When ``df`` is not a positive integer.
    """
    if isinstance(df, bool) or int(df) != df or df < 1:
        raise ValueError(f"degrees of freedom must be a positive integer, not {df!r}")
    df = int(df)
    t = float(t)
    if math.isnan(t):
        return math.nan
    if t < 0.0:
        return 1.0 - _upper(-t, df)
    return _upper(t, df)


def _upper(t: float, nu: int) -> float:
    """``P(T > t)`` for ``t >= 0``."""
    if math.isinf(t):
        return 0.0
    q = nu + t * t
    s = t / math.sqrt(q)
    c2 = nu / q
    if nu % 2 == 0:
        total, term = 0.0, 1.0  # term = a_k c^{2k}
        for k in range(nu // 2):
            if k:
                term *= (2 * k - 1) / (2 * k) * c2
            total += term
        upper = 0.5 * (1.0 - s * total)
        if upper >= _TAIL_SWITCH:
            return upper
        return 0.5 * s * _remainder(term, nu // 2, c2, even=True)
    phi = math.atan2(math.sqrt(nu), t)  # π/2 − θ
    if nu == 1:
        return phi / math.pi
    c = math.sqrt(c2)
    total, term = 0.0, c  # term = b_k c^{2k+1}
    for k in range((nu - 1) // 2):
        if k:
            term *= (2 * k) / (2 * k + 1) * c2
        total += term
    upper = (phi - s * total) / math.pi
    if upper >= _TAIL_SWITCH:
        return upper
    return s / math.pi * _remainder(term, (nu - 1) // 2, c2, even=False)


def _remainder(last: float, start: int, c2: float, *, even: bool) -> float:
    """Sum of the series' terms from index ``start`` on, given term ``start − 1``."""
    total, term, k = 0.0, last, start
    while True:
        term *= ((2 * k - 1) / (2 * k) if even else (2 * k) / (2 * k + 1)) * c2
        total += term
        if term <= 1e-17 * total or term == 0.0:
            return total
        k += 1


def normal_quantile(p: float) -> float:
    """The standard normal quantile of ``p`` (``0 < p < 1``)."""
    return NormalDist().inv_cdf(p)
