r"""Biased and unbiased estimators of the squared maximum mean discrepancy.

For samples :math:`x_{1..n} \sim P` and :math:`y_{1..m} \sim Q`, the biased
estimator (a V-statistic) is the MMD between the two empirical distributions,

.. math::
    \widehat{\mathrm{MMD}}^2_b = \frac{1}{n^2} \sum_{i,j} k(x_i, x_j)
        + \frac{1}{m^2} \sum_{i,j} k(y_i, y_j) - \frac{2}{nm} \sum_{i,j} k(x_i, y_j),

which is never negative but exceeds :math:`\mathrm{MMD}^2` on average by about
:math:`(k(0) - \mathbb{E}\,k(x, x'))/n + (k(0) - \mathbb{E}\,k(y, y'))/m`. The
unbiased estimator (a U-statistic) drops the diagonal terms :math:`i = j` of the
within-set sums and divides by :math:`n(n-1)` and :math:`m(m-1)`; its mean is
exactly :math:`\mathrm{MMD}^2`, so it scatters around 0, negative values
included, when :math:`P = Q`.

Examples:
    >>> import torch
    >>> from sbinn.mmd import Gaussian
    >>> _ = torch.manual_seed(0)
    >>> x, y = torch.randn(300, 2), torch.randn(300, 2)
    >>> kernel = Gaussian(scales=1.0)
    >>> abs(float(mmd2(x, y, kernel, unbiased=True))) < 0.01
    True
    >>> float(mmd2(x, y + 1.0, kernel, unbiased=True)) > 0.1
    True
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from sbinn.mmd.distances import check_samples, squared_distances
from sbinn.mmd.kernels import Kernel

__all__ = ["mmd2"]


def mmd2(
    x: Tensor,
    y: Tensor,
    kernel: Kernel | Callable[[Tensor, Tensor], Tensor],
    *,
    unbiased: bool = False,
) -> Tensor:
    r"""Estimate :math:`\mathrm{MMD}^2(P, Q)` from samples ``x ~ P`` and ``y ~ Q``.

    Differentiable with respect to both sample sets. The result has the dtype
    and device of the inputs.

    Args:
        x: Samples from :math:`P`, shape ``(n, d)``.
        y: Samples from :math:`Q`, shape ``(m, d)``, same dtype and device.
        kernel: A :class:`~sbinn.mmd.kernels.Kernel`, or any callable returning
            the ``(n, m)`` Gram matrix of two sample sets.
        unbiased: If ``True``, the U-statistic (needs :math:`n, m \ge 2`);
            otherwise the V-statistic, which includes the diagonal terms.

    Returns:
        A scalar tensor.

    Raises:
        TypeError: on non-tensors, non-float or mixed dtypes, or a non-callable kernel.
        ValueError: on wrong shapes, NaN or inf values, or too few samples.
    """
    check_samples(x, y)
    if not isinstance(unbiased, bool):
        raise TypeError(f"unbiased must be a bool, got {type(unbiased).__name__}")
    if isinstance(kernel, type):
        raise TypeError(f"kernel must be an instance, e.g. {kernel.__name__}(), got the class")
    if not callable(kernel):
        raise TypeError(f"kernel must be callable as kernel(x, y), got {type(kernel).__name__}")
    minimum = 2 if unbiased else 1
    for name, value in (("x", x), ("y", y)):
        if value.shape[0] < minimum:
            estimator = "unbiased" if unbiased else "biased"
            raise ValueError(
                f"the {estimator} MMD needs at least {minimum} sample(s) in each set, "
                f"got {name} with shape {tuple(value.shape)}"
            )

    k_xx, k_yy, k_xy = (_gram(kernel, a, b) for a, b in ((x, x), (y, y), (x, y)))
    if not unbiased:
        return k_xx.mean() + k_yy.mean() - 2 * k_xy.mean()
    n, m = x.shape[0], y.shape[0]
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (n * (n - 1))
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return within_x + within_y - 2 * k_xy.mean()


def _gram(kernel: Kernel | Callable[[Tensor, Tensor], Tensor], a: Tensor, b: Tensor) -> Tensor:
    if isinstance(kernel, Kernel):
        return kernel.from_squared_distances(squared_distances(a, b))
    gram = kernel(a, b)
    expected = (a.shape[0], b.shape[0])
    if not isinstance(gram, Tensor) or tuple(gram.shape) != expected:
        shape = tuple(gram.shape) if isinstance(gram, Tensor) else type(gram).__name__
        raise ValueError(f"kernel must return a Gram matrix of shape {expected}, got {shape}")
    return gram
