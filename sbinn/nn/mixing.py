r"""Fixed mixings between coupling blocks, so that every feature gets transformed.

A coupling block transforms each half conditioned on the other, always along
the same split. Between blocks, a fixed linear map mixes the features.

:class:`RandomOrthogonalMixing` draws a Haar-distributed orthogonal
:math:`Q \in O(d)`: take :math:`A` with i.i.d. :math:`\mathcal N(0, 1)` entries,
factor :math:`A = QR`, and flip the columns of :math:`Q` to make the diagonal of
:math:`R` positive. Without the flip, the QR routine's sign convention biases
:math:`Q` (Mezzadri 2007). The map :math:`y = Q x` (on rows: :math:`y = x Q^\top`)
has inverse :math:`x = Q^\top y` and :math:`|\det Q| = 1`, so both
log-determinants are exactly 0.

:class:`Permutation` is the special case of a random permutation matrix.

Examples:
    >>> mixing = RandomOrthogonalMixing(3, seed=0)
    >>> torch.allclose(mixing.weight @ mixing.weight.T, torch.eye(3), atol=1e-6)
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import torch
from torch import Tensor

from sbinn._validation import check_positive_int
from sbinn.nn.base import InvertibleModule, check_seed

__all__ = ["Permutation", "RandomOrthogonalMixing", "haar_orthogonal"]


def haar_orthogonal(dim: int, seed: int, *, dtype: torch.dtype = torch.float64) -> Tensor:
    """Draw a Haar-distributed ``(dim, dim)`` orthogonal matrix on the CPU, reproducibly.

    Examples:
        >>> torch.equal(haar_orthogonal(4, 7), haar_orthogonal(4, 7))
        True
    """
    dim = check_positive_int(dim, "dim")
    generator = torch.Generator().manual_seed(check_seed(seed))
    gaussian = torch.randn(dim, dim, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(gaussian)
    signs = torch.where(torch.diagonal(r) < 0, -1.0, 1.0).to(torch.float64)
    return (q * signs).to(dtype)


def _nearest_orthogonal(matrix: Tensor) -> Tensor:
    """Polar projection U Vᵀ, computed in float64 on the CPU and returned like ``matrix``."""
    u, _, vh = torch.linalg.svd(matrix.detach().to("cpu", torch.float64))
    return (u @ vh).to(device=matrix.device, dtype=matrix.dtype)


class RandomOrthogonalMixing(InvertibleModule):
    r"""Multiply by a fixed random orthogonal matrix, :math:`y = x Q^\top`.

    ``Q`` is the buffer :attr:`weight`: saved in the state dict, never trained.

    Args:
        dim: Number of features.
        seed: Seed of the matrix; equal seeds give equal matrices.

    Examples:
        >>> mixing = RandomOrthogonalMixing(4, seed=1)
        >>> x = torch.randn(2, 4)
        >>> y, log_det = mixing(x)
        >>> torch.allclose(mixing.inverse(y)[0], x, atol=1e-6), log_det.tolist()
        (True, [0.0, 0.0])
    """

    weight: Tensor

    def __init__(self, dim: int, seed: int) -> None:
        super().__init__(dim)
        self.seed = check_seed(seed)
        self.register_buffer(
            "weight", haar_orthogonal(self.dim, self.seed, dtype=torch.get_default_dtype())
        )

    # A float32 Q cast up to float64 (by `.double()` after `.float()`, or by loading a float32
    # checkpoint) is orthogonal only to ~1e-7: "log_det = 0" and the inverse Qᵀ would then be
    # wrong at float64 precision. Both paths re-project Q onto O(d) in the finer dtype.
    def _apply(self, fn: Callable[[Tensor], Tensor], *args: Any, **kwargs: Any) -> Self:
        source = self.weight.dtype
        super()._apply(fn, *args, **kwargs)
        self._reproject_if_finer_than(source)
        return self

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        incoming = state_dict.get(prefix + "weight")
        super()._load_from_state_dict(state_dict, prefix, *args)
        if isinstance(incoming, Tensor) and incoming.is_floating_point():
            self._reproject_if_finer_than(incoming.dtype)

    @torch.no_grad()
    def _reproject_if_finer_than(self, source: torch.dtype) -> None:
        if self.weight.is_floating_point() and (
            torch.finfo(self.weight.dtype).eps < torch.finfo(source).eps
        ):
            self.weight.copy_(_nearest_orthogonal(self.weight))

    def _forward(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return x @ self.weight.T, x.new_zeros(x.shape[0])

    def _inverse(self, y: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return y @ self.weight, y.new_zeros(y.shape[0])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, seed={self.seed}"


class Permutation(InvertibleModule):
    """Permute the features by a fixed random permutation, ``y[:, i] = x[:, perm[i]]``.

    Args:
        dim: Number of features.
        seed: Seed of the permutation; equal seeds give equal permutations.

    Examples:
        >>> permutation = Permutation(4, seed=0)
        >>> x = torch.arange(4.0)[None]
        >>> y, _ = permutation(x)
        >>> sorted(y[0].tolist()), torch.equal(permutation.inverse(y)[0], x)
        ([0.0, 1.0, 2.0, 3.0], True)
    """

    perm: Tensor
    inverse_perm: Tensor

    def __init__(self, dim: int, seed: int) -> None:
        super().__init__(dim)
        self.seed = check_seed(seed)
        generator = torch.Generator().manual_seed(self.seed)
        perm = torch.randperm(self.dim, generator=generator)
        self.register_buffer("perm", perm)
        self.register_buffer("inverse_perm", torch.argsort(perm))

    def _forward(self, x: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return x[:, self.perm], x.new_zeros(x.shape[0])

    def _inverse(self, y: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        return y[:, self.inverse_perm], y.new_zeros(y.shape[0])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, seed={self.seed}"
