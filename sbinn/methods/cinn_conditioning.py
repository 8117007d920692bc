r"""What the cINN's conditioning network reads: observation layouts, their checks and scaling.

A conditional INN summarises an observation :math:`x` by a conditioning network
:math:`c = \varphi(x)` (Ardizzone 2022, §3.4). The network depends on what :math:`x` is:

========================  =====================  ============================================
``conditioning``          layout                 observations ``x``
========================  =====================  ============================================
``"mlp"``, ``"none"``     ``vector``             ``(n, *shape)``, read flat, finite
``"conv1d"``              ``signal``             ``(n, channels, length)``, or ``(n, length)``
``"deepset"``,            ``set``                NaN-padded sets ``(n, n_max, d)``, or
``"set_transformer"``                            ``(n, n_max)`` for sets of scalars
========================  =====================  ============================================

``"none"`` is the ablation without a conditioning network: the standardised observation
itself is the condition. Scaling is per feature: per column of a vector, per channel of a
signal (over all grid points, so that the shape of a spectrum survives), and per element
feature of a set, over the real elements only. A set element is padding when all its
features are NaN; its mask entry is then False. Sets may have any length when sampled, so
one network serves sets of 5 and of 500 elements.

Examples:
    >>> import numpy as np
    >>> x = np.array([[[1.0], [3.0]], [[5.0], [np.nan]]])
    >>> layout = ObservationLayout.fit(x, "deepset")
    >>> values, mask = layout.prepare(x, "x")
    >>> mask.tolist(), values[..., 0].round(2).tolist()
    ([[True, True], [True, False]], [[-1.22, 0.0], [1.22, 0.0]])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from sbinn._validation import to_numpy
from sbinn.data import Standardizer
from sbinn.summary import Conv1dSummary, DeepSet, MLPSummary, SetTransformer

__all__ = [
    "CONDITIONINGS",
    "SET_CONDITIONINGS",
    "ObservationLayout",
    "build_conditioner",
    "default_conditioning",
]

CONDITIONINGS = ("mlp", "conv1d", "deepset", "set_transformer", "none")
SET_CONDITIONINGS = ("deepset", "set_transformer")
_LAYOUTS = {"mlp": "vector", "none": "vector", "conv1d": "signal"} | {
    name: "set" for name in SET_CONDITIONINGS
}


def default_conditioning(x: np.ndarray) -> str:
    """``"deepset"`` for 3-D observations (sets), ``"mlp"`` otherwise.

    A 2-D array with NaN is *not* taken for sets of scalars: NaN rows there are more often
    failed simulations. Pass ``conditioning="deepset"`` for such sets.

    Examples:
        >>> default_conditioning(np.zeros((4, 10, 1))), default_conditioning(np.zeros((4, 3)))
        ('deepset', 'mlp')
    """
    return "deepset" if np.ndim(x) == 3 else "mlp"


def _as_float(x: object, name: str) -> np.ndarray:
    array = to_numpy(x)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real-valued, got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _first_bad_row(bad: np.ndarray) -> str:
    rows = np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))
    return f"{rows.size} row(s), first at row {rows[0]}"


@dataclass(frozen=True)
class ObservationLayout:
    """How observations are checked, masked and standardised before the conditioning network.

    Attributes:
        kind: ``"vector"``, ``"signal"`` or ``"set"``.
        shape: One observation's shape: ``(d...)`` of a vector as given, ``(channels,
            length)`` of a signal, ``(d,)`` element features of a set (any set length).
        scaler: Per-feature standardisation (columns, channels or element features).
        mean_set_size: Average number of real elements per training set (sets only).
    """

    kind: str
    shape: tuple[int, ...]
    scaler: Standardizer
    mean_set_size: float = 0.0

    @classmethod
    def fit(cls, x: object, conditioning: str) -> ObservationLayout:
        """Read the layout from training observations ``x`` and fit the scaling."""
        kind = _LAYOUTS[conditioning]
        array = _as_float(x, "x")
        if array.ndim < 2:
            raise ValueError(
                f"x must have one row per simulation, shape (n, ...), got shape {array.shape}; "
                "for scalar observations use x[:, None]"
            )
        if kind == "vector":
            layout = cls(kind, tuple(array.shape[1:]), Standardizer(np.zeros(1), np.ones(1)))
            flat = layout._values(array, "x")
            return cls(kind, layout.shape, Standardizer.fit(flat))
        if kind == "signal":
            if array.ndim not in (2, 3):
                raise ValueError(
                    f"conditioning='conv1d' needs x of shape (n, channels, length) or "
                    f"(n, length), got shape {array.shape}"
                )
            signal = array if array.ndim == 3 else array[:, None, :]
            layout = cls(kind, tuple(signal.shape[1:]), Standardizer(np.zeros(1), np.ones(1)))
            values = layout._values(signal, "x")
            per_channel = np.moveaxis(values, 1, 2).reshape(-1, signal.shape[1])
            return cls(kind, layout.shape, Standardizer.fit(per_channel))
        if array.ndim not in (2, 3):
            raise ValueError(
                f"conditioning={conditioning!r} needs NaN-padded sets of shape (n, n_max, d), "
                f"or (n, n_max) for sets of scalars, got shape {array.shape}"
            )
        sets = array if array.ndim == 3 else array[..., None]
        layout = cls(kind, (sets.shape[2],), Standardizer(np.zeros(1), np.ones(1)))
        values, mask = layout._set_values(sets, "x")
        return cls(kind, layout.shape, Standardizer.fit(values[mask]), float(mask.sum(1).mean()))

    @property
    def flat_features(self) -> int:
        """Width of a flattened vector observation (vectors only)."""
        return int(np.prod(self.shape))

    def prepare(self, x: object, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Check observations against the layout; return standardised values and set mask.

        Returns:
            ``(values, mask)``: vectors ``(n, flat_features)``, signals ``(n, channels,
            length)``, sets ``(n, n_max, d)`` with padding set to 0; ``mask`` ``(n, n_max)``
            for sets (True = real element), ``None`` otherwise.
        """
        array = _as_float(x, name)
        if self.kind == "set":
            values, mask = self._set_values(self._as_sets(array, name), name)
            return np.where(mask[..., None], self.scaler.transform(values), 0.0), mask
        if self.kind == "signal":
            values = self._values(self._as_batch(array, name), name)
            scaled = self.scaler.transform(np.moveaxis(values, 1, 2))
            return np.moveaxis(scaled, 2, 1), None
        return self.scaler.transform(self._values(self._as_batch(array, name), name)), None

    def _as_batch(self, array: np.ndarray, name: str) -> np.ndarray:
        if array.shape == self.shape:
            return array[None]
        if self.kind == "signal" and self.shape[0] == 1 and array.shape[1:] == self.shape[1:]:
            return array[:, None, :]
        if array.ndim == len(self.shape) + 1 and array.shape[1:] == self.shape:
            return array
        expected = f"(n, {', '.join(map(str, self.shape))})"
        if self.kind == "signal" and self.shape[0] == 1:
            expected += f" or (n, {self.shape[1]})"
        raise ValueError(
            f"{name} must have shape {expected}: the cINN was trained on observations of shape "
            f"{self.shape}; got shape {array.shape}"
        )

    def _values(self, array: np.ndarray, name: str) -> np.ndarray:
        bad = ~np.isfinite(array)
        if bad.any():
            hint = (
                "; NaN-padded sets need conditioning='deepset' or 'set_transformer'"
                if self.kind == "vector"
                else ""
            )
            raise ValueError(
                f"{name} must be finite, got NaN or inf in {_first_bad_row(bad)} "
                f"(drop failed simulations first{hint})"
            )
        return array.reshape(array.shape[0], -1) if self.kind == "vector" else array

    def _as_sets(self, array: np.ndarray, name: str) -> np.ndarray:
        d = self.shape[0]
        if array.ndim == 2 and d == 1:
            array = array[..., None]
        if array.ndim != 3 or array.shape[2] != d:
            scalar = " or (n, n_max)" if d == 1 else ""
            raise ValueError(
                f"{name} must hold NaN-padded sets of shape (n, n_max, {d}){scalar}: the cINN "
                f"was trained on set elements of {d} feature(s); got shape {array.shape}"
            )
        return array

    def _set_values(self, sets: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
        missing = np.isnan(sets)
        mask = ~missing.all(axis=2)
        partial = missing.any(axis=2) & mask
        if partial.any():
            raise ValueError(
                f"{name} has set elements with some but not all features NaN in "
                f"{_first_bad_row(partial)}; padding elements must be NaN in every feature"
            )
        if np.isinf(sets).any():
            raise ValueError(f"{name} must be finite, got inf in {_first_bad_row(np.isinf(sets))}")
        empty = ~mask.any(axis=1)
        if empty.any():
            raise ValueError(
                f"{name} has empty sets (all NaN) in {_first_bad_row(empty)}; "
                "every set needs at least one element"
            )
        return sets, mask

    def to_config(self) -> dict:
        """JSON-serialisable form."""
        return {
            "kind": self.kind,
            "shape": list(self.shape),
            "scaler": self.scaler.to_config(),
            "mean_set_size": self.mean_set_size,
        }

    @classmethod
    def from_config(cls, config: dict) -> ObservationLayout:
        """Inverse of :meth:`to_config`."""
        return cls(
            config["kind"],
            tuple(config["shape"]),
            Standardizer.from_config(config["scaler"]),
            config["mean_set_size"],
        )


def build_conditioner(
    conditioning: str,
    layout: ObservationLayout,
    *,
    features: int,
    hidden_features: int,
    hidden_layers: int,
) -> tuple[nn.Module, int]:
    """The conditioning network for ``layout`` and the width of the condition it returns.

    ``hidden_layers`` sets the depth of the MLP only; the set and convolutional networks keep
    their own defaults.

    Examples:
        >>> layout = ObservationLayout("vector", (3,), Standardizer(np.zeros(3), np.ones(3)))
        >>> net, width = build_conditioner("none", layout, features=8, hidden_features=16,
        ...                                hidden_layers=1)
        >>> type(net).__name__, width
        ('Flatten', 3)
    """
    if conditioning == "none":
        return nn.Flatten(), layout.flat_features
    if conditioning == "mlp":
        net = MLPSummary(layout.flat_features, features, hidden_features, hidden_layers)
    elif conditioning == "conv1d":
        channels, length = layout.shape
        net = Conv1dSummary(length, features, in_channels=channels)
    elif conditioning == "deepset":
        # The sum pooling is divided by the typical set size, so it stays O(1).
        net = DeepSet(
            layout.shape[0], features, hidden_features, sum_scale=max(layout.mean_set_size, 1.0)
        )
    else:
        net = SetTransformer(layout.shape[0], features, hidden_features)
    return net, features
