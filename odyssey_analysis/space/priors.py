"""Priors of numeric hyperparameters: truncated normal and beta distributions.

A prior lives on the hyperparameter's *scale coordinate* ``t`` (the value itself on a
linear scale, ``log x`` on a log scale, ``-log(1 - x)`` for ``one_minus_log``), between
the bounds (widened by half a unit for integers, as for uniform ones). With
``z = (t - t_lo) / (t_hi - t_lo)`` in [0, 1]:

* ``beta``: ``z`` follows Beta(alpha, beta);
* ``normal``: ``t`` follows a normal with mean ``transform(mu)`` (``mu`` is given in
  the hyperparameter's own units, so ``log mu`` on a log scale) and standard deviation
  ``sigma`` (in units of ``t``: natural-log units on a log scale), truncated to the
  bounds.

The encoding of a value is the prior's CDF at its ``z``, so the uniform measure on the
encoded coordinate is the prior. SciPy is imported only when a prior is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError

PRIOR_TYPES = ("normal", "beta")


@dataclass(frozen=True)
class Prior:
    """A sampling distribution over a numeric hyperparameter's range.

    Parameters
    ----------
    type
        ``"normal"`` (truncated to the bounds) or ``"beta"`` (over the bounds).
    mu, sigma
        Normal: the mean, in the hyperparameter's units, and the standard deviation,
        in units of its scale coordinate (natural-log units on a log scale).
    alpha, beta
        Beta: the shape parameters (both positive).
    """

    type: str
    mu: float | None = None
    sigma: float | None = None
    alpha: float | None = None
    beta: float | None = None

    def check(self, name: str) -> None:
        """Raise :class:`InputError` naming ``name`` when the parameters are invalid."""
        if self.type not in PRIOR_TYPES:
            raise InputError(f"unknown prior type '{self.type}' (use normal or beta)",
                             column=name)
        if self.type == "normal":
            if not _finite(self.mu):
                raise InputError("a normal prior needs a finite 'mu'", column=name)
            if self.sigma is None or not _finite(self.sigma) or self.sigma <= 0:
                raise InputError(f"a normal prior needs sigma > 0, got {self.sigma!r}",
                                 column=name)
        else:
            for key in ("alpha", "beta"):
                value = getattr(self, key)
                if not _finite(value) or value <= 0:
                    raise InputError(f"a beta prior needs {key} > 0, got {value!r}",
                                     column=name)

    def describe(self) -> str:
        """The prior, in words (e.g. ``beta(2, 3)``, ``normal(mu=0.5, sigma=0.1)``)."""
        if self.type == "beta":
            return f"beta({self.alpha:g}, {self.beta:g})"
        return f"truncated normal(mu={self.mu:g}, sigma={self.sigma:g})"

    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-ready (the ``prior`` entry of our space spec)."""
        if self.type == "beta":
            return {"type": "beta", "alpha": self.alpha, "beta": self.beta}
        return {"type": "normal", "mu": self.mu, "sigma": self.sigma}

    # -- the distribution on z in [0, 1] ------------------------------------------------
    def _normal_unit(self, t_mu: float, t_lo: float, t_hi: float) -> Any:
        from scipy.stats import truncnorm

        assert self.sigma is not None  # checked on creation
        span = t_hi - t_lo
        m, s = (t_mu - t_lo) / span, self.sigma / span
        return truncnorm(a=(0.0 - m) / s, b=(1.0 - m) / s, loc=m, scale=s)

    def cdf(self, z: np.ndarray, t_mu: float | None, t_lo: float, t_hi: float
            ) -> np.ndarray:
        """The prior's CDF at ``z`` (positions in [0, 1] over the bounds).

        ``t_mu`` is the normal's mean in the scale coordinate (unused for beta).
        """
        z = np.clip(np.asarray(z, dtype=float), 0.0, 1.0)
        if self.type == "beta":
            from scipy.special import betainc

            u = betainc(self.alpha, self.beta, z)
        else:
            assert t_mu is not None  # a normal prior has its mean
            u = self._normal_unit(t_mu, t_lo, t_hi).cdf(z)
        return np.clip(np.asarray(u, dtype=float), 0.0, 1.0)

    def ppf(self, u: np.ndarray, t_mu: float | None, t_lo: float, t_hi: float
            ) -> np.ndarray:
        """The inverse of :meth:`cdf`: positions ``z`` in [0, 1] of probabilities ``u``."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.type == "beta":
            from scipy.special import betaincinv

            z = betaincinv(self.alpha, self.beta, u)
        else:
            assert t_mu is not None  # a normal prior has its mean
            z = self._normal_unit(t_mu, t_lo, t_hi).ppf(u)
        return np.clip(np.asarray(z, dtype=float), 0.0, 1.0)


def prior_from_spec(spec: Any, name: str) -> Prior:
    """Read the ``prior`` entry of our spec: ``{type: beta, alpha: 2, beta: 3}`` or
    ``{type: normal, mu: 0.1, sigma: 0.5}``.

    Raises
    ------
    InputError
        Naming ``name`` for a malformed entry or invalid parameters.
    """
    if not isinstance(spec, dict):
        raise InputError("'prior' must be a mapping such as {type: beta, alpha: 2, "
                         "beta: 3}", column=name)
    kind = str(spec.get("type", "")).lower()
    keys = {"normal": ("mu", "sigma"), "beta": ("alpha", "beta")}.get(kind)
    if keys is None:
        raise InputError(f"unknown prior type '{spec.get('type')}' (use normal or beta)",
                         column=name)
    params = {}
    for key in keys:
        value = spec.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"a {kind} prior needs a number '{key}', got {value!r}",
                             column=name)
        params[key] = float(value)
    extra = sorted(set(spec) - {"type", *keys})
    if extra:
        raise InputError(f"unknown setting(s) of a {kind} prior: {', '.join(extra)}",
                         column=name)
    prior = Prior(kind, **params)
    prior.check(name)
    return prior


def configspace_prior(kind: str, params: dict[str, float], lower: float, upper: float,
                      log: bool, integer: bool, name: str) -> Prior:
    """Our prior for ConfigSpace's (or DeepCAVE's) normal or beta hyperparameter.

    ConfigSpace puts the distribution on the position of the value (of ``log x`` when
    log) in ``[lower, upper]``; an integer takes the value of the equal-width bin the
    draw falls in, which is our integer encoding over ``[lower - 0.5, upper + 0.5]``
    exactly on a linear scale (on a log scale ConfigSpace bins in the values; our
    reading bins in ``log x``, a close approximation). Its normal's ``sigma`` is
    scaled to that position as ``sigma / (upper - lower)``, or as
    ``|log(lower + sigma)| / (log upper - log lower)`` when log; converted here to our
    parameters.

    Raises
    ------
    InputError
        Naming ``name`` for invalid parameters.
    """
    for key, value in params.items():
        if not _finite(value):
            raise InputError(f"a {kind} prior needs a number '{key}', got {value!r}",
                             column=name)
    if kind == "beta":
        prior = Prior("beta", alpha=float(params["alpha"]), beta=float(params["beta"]))
        prior.check(name)
        return prior
    mu, sigma = float(params["mu"]), float(params["sigma"])
    if sigma <= 0:
        raise InputError(f"a normal prior needs sigma > 0, got {sigma!r}", column=name)
    if not (log or integer):
        return Prior("normal", mu=mu, sigma=sigma)
    if log:
        if mu <= 0 or lower <= 0 or lower + sigma <= 0:
            raise InputError("a log-normal prior needs positive mu and bounds", column=name)
        span = math.log(upper) - math.log(lower)
        unit_mu = (math.log(mu) - math.log(lower)) / span
        unit_sigma = abs(math.log(lower + sigma)) / span
        t_lo = math.log(lower - 0.5) if integer and lower > 0.5 else math.log(lower)
        t_hi = math.log(upper + 0.5) if integer and lower > 0.5 else math.log(upper)
        new_mu = math.exp(t_lo + unit_mu * (t_hi - t_lo))
        new_sigma = unit_sigma * (t_hi - t_lo)
    else:
        unit_mu = (mu - lower) / (upper - lower)
        unit_sigma = sigma / (upper - lower)
        t_lo, t_hi = (lower - 0.5, upper + 0.5) if integer else (lower, upper)
        new_mu = t_lo + unit_mu * (t_hi - t_lo)
        new_sigma = unit_sigma * (t_hi - t_lo)
    if not (new_sigma > 0 and math.isfinite(new_sigma)):
        raise InputError(f"the normal prior's sigma {sigma:g} is degenerate on this range",
                         column=name)
    return Prior("normal", mu=new_mu, sigma=new_sigma)


def _finite(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))
