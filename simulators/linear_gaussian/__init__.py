"""A linear-Gaussian model whose posterior is Gaussian and known in closed form."""

from simulators.linear_gaussian.linear import GaussianPrior, LinearGaussianSimulator, mixing_matrix

__all__ = ["GaussianPrior", "LinearGaussianSimulator", "mixing_matrix"]
