"""Shared helpers of the invertible-block tests: block factories and the autograd reference."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from sbinn.nn import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    InvertibleModule,
    InvertibleNetwork,
    Permutation,
    RandomOrthogonalMixing,
)
from sbinn.nn.scale import SCALE_KINDS

BLOCK_KINDS = ("affine", "additive", "orthogonal", "permutation", "actnorm", "network")
# Small subnetworks keep hundreds of hypothesis examples fast; width does not change the algebra.
HIDDEN = 16


def build_block(kind: str, dim: int, cond_dim: int, options: dict) -> InvertibleModule:
    """One block of ``kind``; ``options`` holds the drawn clamp, depth, coupling, actnorm, seed."""
    subnet = {"hidden_features": HIDDEN, "num_hidden_layers": options.get("layers", 2)}
    if kind == "affine":
        return AffineCoupling(
            dim,
            cond_dim=cond_dim,
            clamp=options["clamp"],
            clamp_kind=options["clamp_kind"],
            **subnet,
        )
    if kind == "additive":
        return AdditiveCoupling(dim, cond_dim=cond_dim, **subnet)
    if kind == "orthogonal":
        return RandomOrthogonalMixing(dim, seed=options["seed"])
    if kind == "permutation":
        return Permutation(dim, seed=options["seed"])
    if kind == "actnorm":
        return ActNorm(dim)
    return InvertibleNetwork.coupling_stack(
        dim,
        options["depth"],
        cond_dim=cond_dim,
        coupling=options["coupling"],
        clamp=options["clamp"],
        clamp_kind=options["clamp_kind"],
        actnorm=options["actnorm"],
        seed=options["seed"],
        **subnet,
    )


@st.composite
def block_specs(draw: st.DrawFn, kinds: tuple[str, ...] = BLOCK_KINDS) -> dict:
    """A random block configuration: kind, widths, batch size, seeds and options."""
    kind = draw(st.sampled_from(kinds))
    conditional = kind in ("affine", "additive", "network")
    return {
        "kind": kind,
        "dim": draw(st.integers(2, 9)),
        "cond_dim": draw(st.integers(1, 4)) if conditional and draw(st.booleans()) else 0,
        "batch": draw(st.integers(1, 33)),
        "seed": draw(st.integers(0, 2**32 - 1)),
        "options": {
            "clamp": draw(st.floats(0.5, 3.0)),
            "clamp_kind": draw(st.sampled_from(SCALE_KINDS)),
            "coupling": draw(st.sampled_from(["affine", "additive"])),
            "actnorm": draw(st.booleans()),
            "depth": draw(st.integers(1, 5)),
            "layers": draw(st.integers(1, 2)),
            "seed": draw(st.integers(0, 2**32 - 1)),
        },
    }


def perturb(module: torch.nn.Module, generator: torch.Generator, std: float = 0.1) -> None:
    """Overwrite every parameter with N(0, std²) noise, so no block is the trivial identity."""
    with torch.no_grad():
        for parameter in module.parameters():
            noise = torch.randn(parameter.shape, generator=generator, dtype=torch.float64)
            parameter.copy_(std * noise)


def prepared(spec: dict, dtype: torch.dtype) -> tuple[InvertibleModule, torch.Tensor, torch.Tensor]:
    """Build the block of ``spec`` in ``dtype`` with random weights; return it, x and c."""
    generator = torch.Generator().manual_seed(spec["seed"])
    block = build_block(spec["kind"], spec["dim"], spec["cond_dim"], spec["options"]).to(dtype)
    perturb(block, generator)
    for module in block.modules():
        if isinstance(module, ActNorm):
            # Keep the perturbed parameters: no data-dependent re-initialisation on first use.
            module.initialized.fill_(True)
    x = torch.randn(spec["batch"], spec["dim"], generator=generator, dtype=torch.float64)
    c = None
    if spec["cond_dim"]:
        c = torch.randn(spec["batch"], spec["cond_dim"], generator=generator, dtype=torch.float64)
        c = c.to(dtype)
    return block, x.to(dtype), c


def autograd_log_dets(function, x: torch.Tensor) -> torch.Tensor:
    """Per-row log|det J| of the row-wise map ``function`` at ``x``, from autograd Jacobians.

    For a map that treats the rows of the batch independently, the Jacobian of the
    row sum with respect to row ``b`` is row ``b``'s own ``(dim, dim)`` Jacobian, so
    one ``jacobian`` call with ``dim`` outputs gives all of them. Check row
    independence separately with :func:`rows_interact`.
    """
    jacobian = torch.autograd.functional.jacobian(
        lambda x_: function(x_).sum(dim=0), x, vectorize=True
    )
    return torch.linalg.slogdet(jacobian.permute(1, 0, 2)).logabsdet


def rows_interact(function, x: torch.Tensor) -> bool:
    """Whether changing the first row of ``x`` changes any other row of ``function(x)``."""
    moved = x.clone()
    moved[0] += 1.0
    return not torch.equal(function(x)[1:], function(moved)[1:])
