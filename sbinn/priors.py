r"""Priors over simulator parameters.

A prior is anything with ``names``, ``dim``, ``bounds``, ``sample(n, rng)`` and
``log_prob(theta)``, as declared by :class:`Prior`. Most scientific priors are
products of independent one-dimensional factors; :class:`JointPrior` builds such
a product from :class:`Normal`, :class:`Uniform`, :class:`LogUniform` and
:class:`TruncatedNormal` factors and gives every parameter a name.

Every factor takes array-like arguments, so one factor can describe several
independent parameters at once, e.g. ``Normal(0.0, [0.25, 0.5])``.

Examples:
    >>> import numpy as np
    >>> prior = JointPrior({"height": Normal(0.0, 0.25), "angles": Uniform(-1.0, [1.0, 2.0])})
    >>> prior.names
    ('height', 'angles_1', 'angles_2')
    >>> theta = prior.sample(4, np.random.default_rng(0))
    >>> theta.shape
    (4, 3)
    >>> bool(np.all(np.isfinite(prior.log_prob(theta))))
    True
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

import numpy as np
from scipy import stats

from sbinn._validation import as_2d_float_array, check_nonnegative_int

__all__ = [
    "Distribution",
    "JointPrior",
    "LogUniform",
    "Normal",
    "Prior",
    "TruncatedNormal",
    "Uniform",
]


class Prior(ABC):
    """A distribution over named parameter vectors.

    Subclasses implement :meth:`sample` and :meth:`log_prob` and set
    :attr:`names`; :attr:`dim` follows from the names.
    """

    names: tuple[str, ...]

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.names)

    @property
    def bounds(self) -> np.ndarray:
        """Support as an array of shape ``(dim, 2)``; unbounded sides are ``±inf``."""
        return np.tile([-np.inf, np.inf], (self.dim, 1))

    @abstractmethod
    def sample(self, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``num_samples`` parameter vectors as an array ``(num_samples, dim)``."""

    @abstractmethod
    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        """Log-density of each row of ``theta`` (``-inf`` outside the support)."""

    def _check_theta(self, theta: np.ndarray) -> np.ndarray:
        return as_2d_float_array(theta, self.dim, "theta", allow_nan=True)


class Distribution(Prior):
    """Independent one-dimensional factors sharing one family.

    The parameters broadcast against each other; the broadcast length is the
    number of parameters this factor describes. Names default to
    ``theta_1 ... theta_d``; a :class:`JointPrior` names the parameters after
    its keys and leaves the factor unchanged.
    """

    _may_be_infinite: tuple[str, ...] = ()

    def __init__(self, **parameters: float | np.ndarray) -> None:
        arrays = {}
        for key, value in parameters.items():
            array = np.asarray(value)
            if array.dtype == object or not (
                np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
            ):
                raise TypeError(
                    f"{type(self).__name__}: {key} must be a real number or a 1-D array of them, "
                    f"got {type(value).__name__} {value!r}"
                )
            array = array.astype(float)
            if array.ndim > 1:
                raise ValueError(
                    f"{type(self).__name__}: {key} must be a scalar or a 1-D array, "
                    f"got shape {array.shape}"
                )
            bad = np.isnan(array) if key in self._may_be_infinite else ~np.isfinite(array)
            if np.any(bad):
                raise ValueError(f"{type(self).__name__}: {key} must be finite, got {value!r}")
            arrays[key] = array
        try:
            broadcast = np.broadcast_arrays(*[np.atleast_1d(a) for a in arrays.values()])
        except ValueError as error:
            shapes = {k: np.shape(v) for k, v in arrays.items()}
            raise ValueError(
                f"{type(self).__name__}: parameter shapes {shapes} do not broadcast"
            ) from error
        if broadcast[0].shape[0] == 0:
            shapes = {k: np.shape(v) for k, v in arrays.items()}
            raise ValueError(
                f"{type(self).__name__}: needs at least one parameter, got empty arrays {shapes}"
            )
        self.parameters = {k: b.copy() for k, b in zip(arrays, broadcast, strict=True)}
        for key, array in self.parameters.items():
            setattr(self, key, array)
        self.names = tuple(f"theta_{i + 1}" for i in range(broadcast[0].shape[0]))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v.tolist()}" for k, v in self.parameters.items())
        return f"{type(self).__name__}({args})"

    def to_config(self) -> dict:
        """JSON-serialisable description, used in benchmark records and stores."""
        # JSON has no infinity, so open bounds are written as strings.
        return {"family": type(self).__name__} | {
            k: [x if np.isfinite(x) else str(x) for x in v.tolist()]
            for k, v in self.parameters.items()
        }


class Normal(Distribution):
    """Independent normal factors :math:`\\mathcal{N}(\\mu, \\sigma^2)`.

    Args:
        loc: Mean(s) :math:`\\mu`.
        scale: Standard deviation(s) :math:`\\sigma > 0`.

    Examples:
        >>> Normal(0.0, [0.25, 0.5]).dim
        2
    """

    def __init__(self, loc: float | np.ndarray, scale: float | np.ndarray) -> None:
        super().__init__(loc=loc, scale=scale)
        if np.any(self.scale <= 0):
            raise ValueError(f"Normal: scale must be > 0, got {self.scale.tolist()}")

    def sample(self, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        n = check_nonnegative_int(num_samples, "num_samples")
        return self.loc + self.scale * rng.standard_normal((n, self.dim))

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        theta = self._check_theta(theta)
        return stats.norm.logpdf(theta, self.loc, self.scale).sum(axis=1)


class Uniform(Distribution):
    """Independent uniform factors on the box ``[low, high]``.

    Examples:
        >>> Uniform([0.0, -1.0], [1.0, 1.0]).bounds.tolist()
        [[0.0, 1.0], [-1.0, 1.0]]
    """

    def __init__(self, low: float | np.ndarray, high: float | np.ndarray) -> None:
        super().__init__(low=low, high=high)
        if np.any(self.high <= self.low):
            raise ValueError(
                f"Uniform: need low < high, got low={self.low.tolist()}, high={self.high.tolist()}"
            )
        with np.errstate(over="ignore"):
            width = self.high - self.low
        if not np.all(np.isfinite(width)):
            raise ValueError(
                "Uniform: high - low must be a finite float, "
                f"got low={self.low.tolist()}, high={self.high.tolist()}"
            )

    @property
    def bounds(self) -> np.ndarray:
        return np.stack([self.low, self.high], axis=1)

    def sample(self, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        n = check_nonnegative_int(num_samples, "num_samples")
        return rng.uniform(self.low, self.high, size=(n, self.dim))

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        theta = self._check_theta(theta)
        inside = np.all((theta >= self.low) & (theta <= self.high), axis=1)
        log_volume = np.log(self.high - self.low).sum()
        return np.where(inside, -log_volume, -np.inf)


class LogUniform(Distribution):
    """Independent log-uniform factors: :math:`\\log\\theta` uniform on ``[log low, log high]``.

    The density is :math:`p(\\theta) = 1 / (\\theta \\log(\\mathrm{high}/\\mathrm{low}))`.

    Examples:
        >>> import numpy as np
        >>> prior = LogUniform(1e5, 10**7.5)
        >>> float(np.log10(prior.sample(10_000, np.random.default_rng(0))).mean().round(1))
        6.2
    """

    def __init__(self, low: float | np.ndarray, high: float | np.ndarray) -> None:
        super().__init__(low=low, high=high)
        if np.any(self.low <= 0) or np.any(self.high <= self.low):
            raise ValueError(
                "LogUniform: need 0 < low < high, "
                f"got low={self.low.tolist()}, high={self.high.tolist()}"
            )

    @property
    def bounds(self) -> np.ndarray:
        return np.stack([self.low, self.high], axis=1)

    def sample(self, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        n = check_nonnegative_int(num_samples, "num_samples")
        log_theta = rng.uniform(np.log(self.low), np.log(self.high), size=(n, self.dim))
        return np.clip(np.exp(log_theta), self.low, self.high)

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        theta = self._check_theta(theta)
        inside = np.all((theta >= self.low) & (theta <= self.high), axis=1)
        safe = np.where(inside[:, None], theta, 1.0)
        density = -np.log(safe) - np.log(np.log(self.high) - np.log(self.low))
        return np.where(inside, density.sum(axis=1), -np.inf)


class TruncatedNormal(Distribution):
    """Independent normal factors restricted to ``[low, high]`` and renormalised.

    Args:
        loc: Mean of the untruncated normal.
        scale: Standard deviation of the untruncated normal (> 0).
        low: Lower truncation point (may be ``-inf``).
        high: Upper truncation point (may be ``inf``).

    Examples:
        >>> import numpy as np
        >>> prior = TruncatedNormal(0.0, 1.0, 0.0, np.inf)
        >>> bool((prior.sample(100, np.random.default_rng(0)) >= 0).all())
        True
    """

    _may_be_infinite = ("low", "high")

    def __init__(
        self,
        loc: float | np.ndarray,
        scale: float | np.ndarray,
        low: float | np.ndarray,
        high: float | np.ndarray,
    ) -> None:
        super().__init__(loc=loc, scale=scale, low=low, high=high)
        if np.any(self.scale <= 0):
            raise ValueError(f"TruncatedNormal: scale must be > 0, got {self.scale.tolist()}")
        if np.any(self.high <= self.low):
            raise ValueError(
                "TruncatedNormal: need low < high, "
                f"got low={self.low.tolist()}, high={self.high.tolist()}"
            )
        self._a = (self.low - self.loc) / self.scale
        self._b = (self.high - self.loc) / self.scale

    @property
    def bounds(self) -> np.ndarray:
        return np.stack([self.low, self.high], axis=1)

    def sample(self, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        n = check_nonnegative_int(num_samples, "num_samples")
        draws = stats.truncnorm.rvs(
            self._a, self._b, self.loc, self.scale, size=(n, self.dim), random_state=rng
        )
        return np.clip(draws, self.low, self.high)

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        theta = self._check_theta(theta)
        return stats.truncnorm.logpdf(theta, self._a, self._b, self.loc, self.scale).sum(axis=1)


class JointPrior(Prior):
    """Product of independent named factors.

    Args:
        factors: Mapping from a name to a :class:`Distribution`. A factor of
            dimension ``d > 1`` named ``"a"`` yields parameters ``a_1 ... a_d``.

    Examples:
        >>> import numpy as np
        >>> prior = JointPrior({"mass": LogUniform(1e5, 1e7), "age": Uniform(0.1, 10.0)})
        >>> prior.log_prob(np.array([[1e6, 5.0], [1e8, 5.0]])).round(2).tolist()
        [-17.64, -inf]
    """

    def __init__(self, factors: Mapping[str, Distribution]) -> None:
        if not isinstance(factors, Mapping):
            raise TypeError(
                "JointPrior expects a non-empty mapping {name: Distribution}, "
                f"got {type(factors).__name__}"
            )
        if not factors:
            raise ValueError(
                "JointPrior expects a non-empty mapping {name: Distribution}, got an empty mapping"
            )
        names: list[str] = []
        for name, factor in factors.items():
            if not isinstance(name, str) or not name:
                raise TypeError(f"JointPrior: factor names must be non-empty strings, got {name!r}")
            if not isinstance(factor, Distribution):
                raise TypeError(
                    f"JointPrior: factor {name!r} must be a Distribution (Normal, Uniform, "
                    f"LogUniform, TruncatedNormal), got {type(factor).__name__}"
                )
            if factor.dim == 1:
                names.append(name)
            else:
                names.extend(f"{name}_{i + 1}" for i in range(factor.dim))
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"JointPrior: parameter names must be unique, got {names} "
                f"with {duplicates} more than once"
            )
        self.factors = dict(factors)
        self.names = tuple(names)
        self._slices = []
        start = 0
        for factor in self.factors.values():
            self._slices.append(slice(start, start + factor.dim))
            start += factor.dim

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v!r}" for k, v in self.factors.items())
        return f"JointPrior({{{inner}}})"

    @property
    def bounds(self) -> np.ndarray:
        return np.concatenate([f.bounds for f in self.factors.values()], axis=0)

    def sample(self, num_samples: int, rng: np.random.Generator) -> np.ndarray:
        n = check_nonnegative_int(num_samples, "num_samples")
        return np.concatenate([f.sample(n, rng) for f in self.factors.values()], axis=1)

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        theta = self._check_theta(theta)
        total = np.zeros(theta.shape[0])
        for factor, part in zip(self.factors.values(), self._slices, strict=True):
            total += factor.log_prob(theta[:, part])
        return total

    def to_config(self) -> dict:
        """JSON-serialisable description of every factor."""
        return {name: factor.to_config() for name, factor in self.factors.items()}
