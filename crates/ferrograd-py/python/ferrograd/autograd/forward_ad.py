"""`ferrograd.autograd.forward_ad`: forward-mode AD with dual tensors (`dual_level`,
`make_dual`, `unpack_dual`), over the library's `forward_ad` module."""

from __future__ import annotations

import collections

TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Optional

from .. import _C

Tensor = _C.Tensor

__all__ = [
    "UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual",
    "unpack_dual",
]


def enter_dual_level() -> int:
    """Opens a dual level and returns its index (levels do not nest)."""
    return _C._enter_dual_level()


def exit_dual_level(*, level: Optional[int] = None) -> None:
    """Closes the dual level; tangents made in it are dropped."""
    _C._exit_dual_level()


class dual_level:
    """Context manager for forward AD: dual tensors made inside carry their tangents until
    the block ends (`with fwAD.dual_level():`)."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def make_dual(tensor: Tensor, tangent: Tensor, *, level: Optional[int] = None) -> Tensor:
    """A dual tensor: `tensor`'s value with `tangent` (of the same shape) attached. It is a
    view of `tensor`, differentiable with respect to it in reverse mode."""
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(
            "make_dual(): expected Tensors for tensor and tangent, got "
            f"{type(tensor).__name__} and {type(tangent).__name__}"
        )
    if level is not None and level != 0:
        raise RuntimeError(
            f"Trying to create a dual Tensor at level {level} but that level does not exist"
        )
    return _C._make_dual(tensor, tangent)


UnpackedDualTensor = collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = (
    "The `(primal, tangent)` of a dual tensor (`tangent` is `None` for a plain tensor)."
)


def unpack_dual(tensor: Tensor, *, level: Optional[int] = None) -> UnpackedDualTensor:
    """The primal (a view) and the tangent at the open level (`None` if it has none)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual(): expected a Tensor, got {type(tensor).__name__}")
    p, t = _C._unpack_dual(tensor)
    return UnpackedDualTensor(p, t)
