"""`x[key]` and `x[key] = value` with NumPy's and PyTorch's rules, written over the
registry's view and index ops (select, slice, unsqueeze, index_select, scatter, copy_).

Basic indexing (ints, slices with steps, `None`, `...`) gives views that share storage;
advanced indexing (lists, int64 and bool tensors) gives copies, with the broadcast index
dimensions placed as NumPy places them.
"""

from __future__ import annotations

import builtins
TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, List, Tuple

from . import _C
from ._registry import OPS

Tensor = _C.Tensor


def _is_int(k: Any) -> bool:
    if isinstance(k, builtins.bool):
        return False
    if isinstance(k, builtins.int):
        return True
    if isinstance(k, Tensor):
        return k.dim() == 0 and k.dtype is _C.int64
    return hasattr(k, "__index__") and not isinstance(k, (list, tuple, Tensor))


def _as_index_tensor(k: Any) -> Tensor:
    if isinstance(k, Tensor):
        t = k
    else:
        t = _C.tensor(k)
        if t.numel() == 0:
            t = t.to(_C.int64)
    if t.is_floating_point():
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return t


def _expand_key(x: Tensor, key: Any) -> List[Any]:
    if not isinstance(key, tuple):
        key = (key,)
    items: List[Any] = []
    for k in key:
        if isinstance(k, (list, tuple)) or (isinstance(k, Tensor) and not _is_int(k)):
            k = _as_index_tensor(k)
        items.append(k)
    consumed = 0
    for k in items:
        if k is None or k is Ellipsis:
            continue
        if isinstance(k, Tensor) and k.dtype is _C.bool:
            consumed += builtins.max(k.dim(), 1) if k.dim() else 0
        else:
            consumed += 1
    if builtins.sum(1 for k in items if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > x.dim():
        raise IndexError(
            f"too many indices for tensor of dimension {x.dim()}"
        )
    out: List[Any] = []
    for k in items:
        if k is Ellipsis:
            out.extend([slice(None)] * (x.dim() - consumed))
        else:
            out.append(k)
    return out


def getitem(x: Tensor, key: Any) -> Tensor:
    """`x[key]`."""
    items = _expand_key(x, key)
    d = 0
    advanced: List[Tuple[int, Tensor]] = []
    for k in items:
        if k is None:
            x = OPS["unsqueeze"](x, d)
            d += 1
        elif isinstance(k, slice):
            size = x._shape[d]
            start, stop, step = k.indices(size) if (k.step is None or k.step > 0) else (0, 0, 0)
            if k.step is not None and k.step <= 0:
                raise ValueError("step must be greater than zero")
            if stop < start:
                stop = start
            if (start, stop, step) != (0, size, 1):
                x = OPS["slice"](x, d, start, stop, step)
            d += 1
        elif _is_int(k):
            i = k.__index__()
            size = x._shape[d]
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {d} with size {size}")
            x = OPS["select"](x, d, i)
        elif isinstance(k, Tensor) and k.dtype is _C.bool:
            if k.dim() == 0:
                # x[True] adds a dimension of size 1; x[False] of size 0.
                x = OPS["unsqueeze"](x, d)
                if not k.item():
                    x = OPS["slice"](x, d, 0, 0, 1)
                d += 1
                continue
            shape = x._shape[d:d + k.dim()]
            if tuple(k._shape) != tuple(shape):
                raise IndexError(
                    f"The shape of the mask {list(k._shape)} at index {d} does not match the "
                    f"shape of the indexed tensor {list(x._shape)} at index {d}"
                )
            for j, idx in enumerate(_nonzero_columns(k)):
                advanced.append((d + j, idx))
            d += k.dim()
        elif isinstance(k, Tensor):
            advanced.append((d, k))
            d += 1
        elif isinstance(k, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(k).__name__}'")  # PyTorch's words
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                "Variables are valid indices (got " + type(k).__name__ + ")"
            )
    if not advanced:
        return x
    return _advanced(x, advanced)


def _nonzero_columns(mask: Tensor) -> List[Tensor]:
    flat = mask.reshape(-1)
    pos = OPS["masked_select"](_C._arange(0.0, float(flat.numel()), 1.0, _C.int64), flat)
    cols = []
    for s in reversed(mask._shape):
        cols.append(pos % s)
        pos = pos // s
    cols.reverse()
    return cols


def _broadcast_shapes(shapes: List[Tuple[int, ...]]) -> List[int]:
    n = builtins.max((len(s) for s in shapes), default=0)
    out = [1] * n
    for s in shapes:
        for i, v in enumerate((1,) * (n - len(s)) + tuple(s)):
            if v != 1:
                if out[i] not in (1, v):
                    raise IndexError(
                        "shape mismatch: indexing tensors could not be broadcast together with "
                        "shapes " + " ".join(str(list(t)) for t in shapes)
                    )
                out[i] = v
    return out


def _advanced(x: Tensor, advanced: List[Tuple[int, Tensor]]) -> Tensor:
    dims = [d for d, _ in advanced]
    b = _broadcast_shapes([tuple(i._shape) for _, i in advanced])
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    if not adjacent:
        rest = [d for d in range(x.dim()) if d not in dims]
        x = OPS["permute"](x, dims + rest)
        dims = list(range(len(dims)))
    p = dims[0]
    shape = list(x._shape)
    sizes = [shape[d] for d in dims]
    linear = None
    for (_, idx), size in zip(advanced, sizes):
        bad = (idx >= size).logical_or(idx < -size)
        if idx.numel() and builtins.bool(bad.any()):
            first = int(OPS["masked_select"](idx, bad)[0].item())
            raise IndexError(
                f"index {first} is out of bounds for dimension with size {size}"
            )
        idx = idx % size if size else idx
        linear = idx if linear is None else linear * size + idx
    linear = linear.expand(*b) if list(linear._shape) != b else linear
    k = 1
    for s in sizes:
        k *= s
    merged = shape[:p] + [k] + shape[p + len(dims):]
    x = OPS["reshape"](x, merged)
    out = OPS["index_select"](x, p, linear.reshape(-1))
    return OPS["reshape"](out, merged[:p] + b + merged[p + 1:])


def setitem(x: Tensor, key: Any, value: Any) -> None:
    """`x[key] = value` (a number or a tensor broadcast to the indexed shape)."""
    items = _expand_key(x, key)
    basic = builtins.all(k is None or isinstance(k, slice) or _is_int(k) for k in items)
    if not isinstance(value, Tensor):
        value = _C.tensor(value, dtype=x.dtype)
    recorded = _C.is_grad_enabled() and (x.requires_grad or value.requires_grad)
    if basic and not recorded:
        view = getitem(x, tuple(items))
        OPS["copy_"](view, value)
        return
    if (not recorded and len(items) == 1 and isinstance(items[0], Tensor) and items[0].dtype is _C.bool
            and tuple(items[0]._shape) == tuple(x._shape)):
        OPS["copy_"](x, OPS["where_"](items[0], value.to(x.dtype), x))
        return
    positions = getitem(_C._arange(0.0, float(x.numel()), 1.0, _C.int64).reshape(list(x._shape)),
                        tuple(items))
    src = value.to(x.dtype).expand(*positions._shape).reshape(-1)
    # The flat copy is a new tensor, not a view of `x`: `x` must have no views for `copy_`
    # to write into it while the graph records (`y = zeros(2, 2); y[0] = w`).
    flat = OPS["reshape"](OPS["deep_clone"](x), [x.numel()])
    new = OPS["scatter"](flat, 0, positions.reshape(-1), src)
    OPS["copy_"](x, OPS["reshape"](new, list(x._shape)))


def _iter(x: Tensor):
    if x.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    for i in range(x._shape[0]):
        yield OPS["select"](x, 0, i)


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem
Tensor.__iter__ = _iter
