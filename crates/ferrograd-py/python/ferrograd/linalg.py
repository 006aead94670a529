"""`ferrograd.linalg`, PyTorch's `torch.linalg`: every free function of the Rust `linalg`
module (factorizations, spectral decompositions, products, norms, powers) under its registry
name and parameters, and `torch.linalg`'s names for the tensor ops it shares with `torch`
(`inv`, `det`, `solve`, `matmul`, `diagonal`), with `norm` choosing the vector or matrix norm
as PyTorch does. Nothing here computes: each name calls a registry op.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Optional, Sequence, Union

from . import _C
from ._registry import LINALG_OPS, OPS

Tensor = _C.Tensor

# Every free function of the Rust `linalg` module, under its registry name and parameters.
globals().update(LINALG_OPS)

inv = OPS["inv"]
det = OPS["det"]
matmul = OPS["matmul"]


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The solution `X` of `A X = B` (`left=True`) or `X A = B` (`left=False`)."""
    if left:
        return OPS["solve"](A, B)
    return OPS["solve"](OPS["m_t"](A), OPS["m_t"](B)).mT


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonal of the matrices of `A` (by default its last two dims)."""
    return OPS["diagonal"](A, offset, dim1, dim2)


def norm(
    A: Tensor,
    ord: Optional[Union[float, str]] = None,
    dim: Optional[Union[int, Sequence[int]]] = None,
    keepdim: bool = False,
) -> Tensor:
    """`torch.linalg.norm`: a matrix norm when `ord` is a string, `dim` names two dims, or
    `ord` is given for a 2-d `A` without `dim`; a vector norm otherwise (of the flattened `A`
    when neither `ord` nor `dim` is given)."""
    dims = [dim] if isinstance(dim, int) else (None if dim is None else list(dim))
    if dims is not None and len(dims) == 2 or isinstance(ord, str):
        if "matrix_norm" not in globals():
            raise NotImplementedError("linalg.norm: matrix norms need linalg.matrix_norm")
        return globals()["matrix_norm"](A, "fro" if ord is None else ord, dims or [-2, -1], keepdim)
    if dims is None and ord is not None:
        if A.dim() == 2:
            return norm(A, ord, [-2, -1], keepdim)
        if A.dim() != 1:
            raise RuntimeError(
                f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.dim()}D."
            )
    return LINALG_OPS["vector_norm"](A, 2.0 if ord is None else float(ord), dims, keepdim)
