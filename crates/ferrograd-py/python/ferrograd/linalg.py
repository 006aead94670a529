"""`ferrograd.linalg`, PyTorch's `torch.linalg`: every free function of the Rust `linalg`
module (factorizations, spectral decompositions, products, norms, powers) under its registry
name and parameters; PyTorch's named tuples (`eigh(A).eigenvalues`, `svd(A).Vh`, ...) and
spellings (`UPLO`, numeric matrix-norm orders) over them; and `torch.linalg`'s names for the
tensor ops it shares with `torch` (`inv`, `det`, `solve`, `matmul`, `diagonal`), with `norm`
choosing the vector or matrix norm as PyTorch does. Nothing here computes: each name calls a
registry op.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Optional, Sequence, Union

from . import _C, return_types
from ._registry import LINALG_OPS, OPS

Tensor = _C.Tensor

# Every free function of the Rust `linalg` module, under its registry name and parameters.
globals().update(LINALG_OPS)

# PyTorch's named tuples for the ops with several results (`torch.return_types.linalg_*`).
EighResult = return_types.linalg_eigh
SVDResult = return_types.linalg_svd
SlogdetResult = return_types.linalg_slogdet
QRResult = return_types.linalg_qr
LUFactorResult = return_types.linalg_lu_factor
LUResult = return_types.linalg_lu
LstsqResult = return_types.linalg_lstsq


def _ord(ord: Any) -> str:
    """A matrix norm order as the registry spells it: "fro", "nuc", "2", "-inf", ..."""
    if isinstance(ord, str):
        return ord
    f = float(ord)
    if f in (float("inf"), -float("inf")):
        return "inf" if f > 0 else "-inf"
    return str(int(f)) if f == int(f) else str(f)


def eigh(A: Tensor, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices (`UPLO`'s triangle)."""
    return EighResult(LINALG_OPS["eigh"](A, UPLO))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """Eigenvalues (ascending) of symmetric matrices (`UPLO`'s triangle)."""
    return LINALG_OPS["eigvalsh"](A, UPLO)


def svd(A: Tensor, full_matrices: bool = True) -> Any:
    """`U, S, Vh` with `A = U diag(S) Vh`, `S` descending."""
    return SVDResult(LINALG_OPS["svd"](A, full_matrices))


def slogdet(A: Tensor) -> Any:
    """The sign and the log of the absolute value of the determinant."""
    return SlogdetResult(LINALG_OPS["slogdet"](A))


def qr(A: Tensor, mode: str = "reduced") -> Any:
    """`Q, R` with `A = Q R` (`mode` "reduced", "complete" or "r")."""
    return QRResult(LINALG_OPS["qr"](A, mode))


def lu_factor(A: Tensor, *, pivot: bool = True) -> Any:
    """The packed LU factorization and its (1-based, int32 in PyTorch) pivots."""
    return LUFactorResult(LINALG_OPS["lu_factor"](A, pivot))


def lu(A: Tensor, *, pivot: bool = True) -> Any:
    """`P, L, U` with `A = P L U`."""
    return LUResult(LINALG_OPS["lu"](A, pivot))


def lstsq(A: Tensor, B: Tensor, rcond: Optional[float] = None, *, driver: Optional[str] = None) -> Any:
    """The least-squares solution of `A X = B`, with residuals, rank and singular values."""
    return LstsqResult(LINALG_OPS["lstsq"](A, B, rcond, driver))


def matrix_norm(
    A: Tensor,
    ord: Union[str, float] = "fro",
    dim: Sequence[int] = (-2, -1),
    keepdim: bool = False,
) -> Tensor:
    """A matrix norm: `ord` "fro", "nuc", 2, -2, 1, -1, inf or -inf."""
    return LINALG_OPS["matrix_norm"](A, _ord(ord), list(dim), keepdim)


def cond(A: Tensor, p: Optional[Union[str, float]] = None) -> Tensor:
    """The condition number in the `p` norm (the 2-norm by default)."""
    return LINALG_OPS["cond"](A, None if p is None else _ord(p))


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
        return matrix_norm(A, "fro" if ord is None else ord, dims or [-2, -1], keepdim)
    if dims is None and ord is not None:
        if A.dim() == 2:
            return norm(A, ord, [-2, -1], keepdim)
        if A.dim() != 1:
            raise RuntimeError(
                f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.dim()}D."
            )
    return LINALG_OPS["vector_norm"](A, 2.0 if ord is None else float(ord), dims, keepdim)
