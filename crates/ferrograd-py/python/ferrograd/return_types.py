"""`torch.return_types`: the named tuples of the ops with several results.

Each type is a `tuple` (unpacking, indexing, `==` and slicing behave as a tuple's) with its
fields as attributes (`x.max(0).values`, `x.aminmax().max`, `linalg.svd(A).Vh`), PyTorch's
`repr` and constructor (one sequence of exactly its length) and `n_fields`. Nothing here
computes: the ops that return them call the registry and wrap the result.

>>> import ferrograd as torch
>>> r = torch.tensor([3.0, 1.0, 2.0]).topk(2)
>>> r.values, r.indices
(tensor([3., 2.]), tensor([0, 2]))
"""

from __future__ import annotations

import operator

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterable, Tuple

__all__ = [
    "aminmax",
    "cummax",
    "cummin",
    "kthvalue",
    "linalg_eigh",
    "linalg_lstsq",
    "linalg_lu",
    "linalg_lu_factor",
    "linalg_qr",
    "linalg_slogdet",
    "linalg_svd",
    "max",
    "median",
    "min",
    "mode",
    "nanmedian",
    "slogdet",
    "sort",
    "svd",
    "topk",
]


class _ReturnType(tuple):
    """A fixed-length tuple with named fields (PyTorch's structseq)."""

    __slots__ = ()
    _fields: Tuple[str, ...] = ()
    n_fields = 0
    n_sequence_fields = 0
    n_unnamed_fields = 0

    def __new__(cls, sequence: Iterable[Any]) -> "_ReturnType":
        if isinstance(sequence, (str, bytes)) or not hasattr(sequence, "__iter__"):
            raise TypeError("constructor requires a sequence")
        items = tuple(sequence)
        if len(items) != len(cls._fields):
            raise TypeError(
                f"torch.return_types.{cls.__name__}() takes a {len(cls._fields)}-sequence "
                f"({len(items)}-sequence given)"
            )
        return tuple.__new__(cls, items)

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{body})"

    __str__ = __repr__

    def __reduce__(self):
        return (type(self), (tuple(self),))


def _field(i: int) -> Any:
    return property(operator.itemgetter(i), doc=f"Field {i} of the result.")


# One class per result, written out so that type checkers and the stub see the fields.
class max(_ReturnType):
    """`torch.return_types.max`: `(values, indices)`."""

    __slots__ = ()
    _fields = ("values", "indices")
    n_fields = n_sequence_fields = 2
    values = _field(0)
    indices = _field(1)


class min(_ReturnType):
    """`torch.return_types.min`: `(values, indices)`."""

    __slots__ = ()
    _fields = ("values", "indices")
    n_fields = n_sequence_fields = 2
    values = _field(0)
    indices = _field(1)


class sort(_ReturnType):
    """`torch.return_types.sort`: `(values, indices)`."""

    __slots__ = ()
    _fields = ("values", "indices")
    n_fields = n_sequence_fields = 2
    values = _field(0)
    indices = _field(1)


class topk(_ReturnType):
    """`torch.return_types.topk`: `(values, indices)`."""

    __slots__ = ()
    _fields = ("values", "indices")
    n_fields = n_sequence_fields = 2
    values = _field(0)
    indices = _field(1)


class kthvalue(_ReturnType):
    """`torch.return_types.kthvalue`: `(values, indices)`."""

    __slots__ = ()
    _fields = ("values", "indices")
    n_fields = n_sequence_fields = 2
    values = _field(0)
    indices = _field(1)


class mode(_ReturnType):
    """`torch.return_types.mode`: `(values, indices)`."""

    __slots__ = ()
    _fields = ("values", "indices")
    n_fields = n_sequence_fields = 2
    values = _field(0)
    indices = _field(1)


class median(_ReturnType):
    """`torch.return_types.median`: `(values, indices)`."""

    __slots__ = ()
    _fields = ("values", "indices")
    n_fields = n_sequence_fields = 2
    values = _field(0)
    indices = _field(1)


class nanmedian(_ReturnType):
    """`torch.return_types.nanmedian`: `(values, indices)`."""

    __slots__ = ()
    _fields = ("values", "indices")
    n_fields = n_sequence_fields = 2
    values = _field(0)
    indices = _field(1)


class cummax(_ReturnType):
    """`torch.return_types.cummax`: `(values, indices)`."""

    __slots__ = ()
    _fields = ("values", "indices")
    n_fields = n_sequence_fields = 2
    values = _field(0)
    indices = _field(1)


class cummin(_ReturnType):
    """`torch.return_types.cummin`: `(values, indices)`."""

    __slots__ = ()
    _fields = ("values", "indices")
    n_fields = n_sequence_fields = 2
    values = _field(0)
    indices = _field(1)


class aminmax(_ReturnType):
    """`torch.return_types.aminmax`: `(min, max)`."""

    __slots__ = ()
    _fields = ("min", "max")
    n_fields = n_sequence_fields = 2
    min = _field(0)
    max = _field(1)


class slogdet(_ReturnType):
    """`torch.return_types.slogdet`: `(sign, logabsdet)`."""

    __slots__ = ()
    _fields = ("sign", "logabsdet")
    n_fields = n_sequence_fields = 2
    sign = _field(0)
    logabsdet = _field(1)


class svd(_ReturnType):
    """`torch.return_types.svd`: `(U, S, V)`."""

    __slots__ = ()
    _fields = ("U", "S", "V")
    n_fields = n_sequence_fields = 3
    U = _field(0)
    S = _field(1)
    V = _field(2)


class linalg_eigh(_ReturnType):
    """`torch.return_types.linalg_eigh`: `(eigenvalues, eigenvectors)`."""

    __slots__ = ()
    _fields = ("eigenvalues", "eigenvectors")
    n_fields = n_sequence_fields = 2
    eigenvalues = _field(0)
    eigenvectors = _field(1)


class linalg_svd(_ReturnType):
    """`torch.return_types.linalg_svd`: `(U, S, Vh)`."""

    __slots__ = ()
    _fields = ("U", "S", "Vh")
    n_fields = n_sequence_fields = 3
    U = _field(0)
    S = _field(1)
    Vh = _field(2)


class linalg_slogdet(_ReturnType):
    """`torch.return_types.linalg_slogdet`: `(sign, logabsdet)`."""

    __slots__ = ()
    _fields = ("sign", "logabsdet")
    n_fields = n_sequence_fields = 2
    sign = _field(0)
    logabsdet = _field(1)


class linalg_qr(_ReturnType):
    """`torch.return_types.linalg_qr`: `(Q, R)`."""

    __slots__ = ()
    _fields = ("Q", "R")
    n_fields = n_sequence_fields = 2
    Q = _field(0)
    R = _field(1)


class linalg_lu_factor(_ReturnType):
    """`torch.return_types.linalg_lu_factor`: `(LU, pivots)`."""

    __slots__ = ()
    _fields = ("LU", "pivots")
    n_fields = n_sequence_fields = 2
    LU = _field(0)
    pivots = _field(1)


class linalg_lu(_ReturnType):
    """`torch.return_types.linalg_lu`: `(P, L, U)`."""

    __slots__ = ()
    _fields = ("P", "L", "U")
    n_fields = n_sequence_fields = 3
    P = _field(0)
    L = _field(1)
    U = _field(2)


class linalg_lstsq(_ReturnType):
    """`torch.return_types.linalg_lstsq`: `(solution, residuals, rank, singular_values)`."""

    __slots__ = ()
    _fields = ("solution", "residuals", "rank", "singular_values")
    n_fields = n_sequence_fields = 4
    solution = _field(0)
    residuals = _field(1)
    rank = _field(2)
    singular_values = _field(3)
