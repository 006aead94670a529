"""Tensor construction with PyTorch's signatures: `zeros(2, 3, dtype=..., requires_grad=...)`."""

from __future__ import annotations

import builtins
import math
TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

from . import _C
from ._overloads import _sizes

Tensor = _C.Tensor


def _shape(size) -> list:
    """`_sizes(size)`, refusing negative sizes as PyTorch does."""
    shape = _sizes(size)
    for i, d in enumerate(shape):
        if not -2 ** 63 <= d < 2 ** 63:
            raise TypeError(
                f"argument 'size' failed to unpack the object at pos {i + 1} with error "
                "\"Overflow when unpacking long long\""
            )
    for d in shape:
        if d < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {d}: {shape}")
    return shape


def _float_dtype(dtype, what: str):
    d = _default(dtype)
    if not d.is_floating_point:
        name = {"torch.int64": "Long", "torch.bool": "Bool"}.get(str(d), str(d))
        raise RuntimeError(f"\"{what}\" not implemented for '{name}'")
    return d


def _like(input: Any, name: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    return input


def _finish(t: Tensor, requires_grad: builtins.bool) -> Tensor:
    return t.requires_grad_(True) if requires_grad else t


def _check_device(device: Any) -> None:
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"ferrograd runs on the CPU only, not on '{device}'")


def _default(dtype, fallback=None):
    return dtype if dtype is not None else (fallback if fallback is not None else _C.float32)


def full(size, fill_value, *, dtype=None, requires_grad=False, device=None, out=None, layout=None,
         pin_memory=False):
    """A tensor of `size` filled with `fill_value` (its dtype inferred as PyTorch's)."""
    _check_device(device)
    if dtype is None:
        if isinstance(fill_value, builtins.bool):
            dtype = _C.bool
        elif isinstance(fill_value, builtins.int):
            dtype = _C.int64
        else:
            dtype = _C.float32
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _finish(_C._full(_shape((size,)), builtins.float(fill_value), dtype), requires_grad)


def zeros(*size, dtype=None, requires_grad=False, device=None, out=None, layout=None,
          pin_memory=False):
    """A tensor of zeros."""
    _check_device(device)
    return _finish(_C._full(_shape(size), 0.0, _default(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None, out=None, layout=None,
         pin_memory=False):
    """A tensor of ones."""
    _check_device(device)
    return _finish(_C._full(_shape(size), 1.0, _default(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None, out=None, layout=None,
          pin_memory=False, memory_format=None):
    """An uninitialised tensor (ferrograd fills it with zeros)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def zeros_like(input, *, dtype=None, requires_grad=False, device=None, memory_format=None,
               layout=None):
    """Zeros of `input`'s shape (and dtype)."""
    _like(input, "zeros_like")
    return _finish(_C._full(list(input.shape), 0.0, _default(dtype, input.dtype)), requires_grad)


def ones_like(input, *, dtype=None, requires_grad=False, device=None, memory_format=None,
              layout=None):
    """Ones of `input`'s shape (and dtype)."""
    _like(input, "ones_like")
    return _finish(_C._full(list(input.shape), 1.0, _default(dtype, input.dtype)), requires_grad)


def empty_like(input, *, dtype=None, requires_grad=False, device=None, memory_format=None,
               layout=None):
    """An uninitialised tensor like `input` (zeros)."""
    _like(input, "empty_like")
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, requires_grad=False, device=None,
              memory_format=None, layout=None):
    """`fill_value` in `input`'s shape (and dtype)."""
    _like(input, "full_like")
    return _finish(_C._full(list(input.shape), builtins.float(fill_value),
                            _default(dtype, input.dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None, out=None,
         layout=None, pin_memory=False):
    """Uniform samples in `[0, 1)`."""
    _check_device(device)
    return _finish(_C._rand(_shape(size), _float_dtype(dtype, "check_uniform_bounds")), requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None, out=None,
          layout=None, pin_memory=False):
    """Standard normal samples."""
    _check_device(device)
    return _finish(_C._randn(_shape(size), _float_dtype(dtype, "normal_kernel_cpu")), requires_grad)


def rand_like(input, *, dtype=None, requires_grad=False, device=None, memory_format=None,
              layout=None):
    """Uniform samples in `input`'s shape."""
    _like(input, "rand_like")
    return _finish(_C._rand(list(input.shape), _default(dtype, input.dtype)), requires_grad)


def randn_like(input, *, dtype=None, requires_grad=False, device=None, memory_format=None,
               layout=None):
    """Normal samples in `input`'s shape."""
    _like(input, "randn_like")
    return _finish(_C._randn(list(input.shape), _default(dtype, input.dtype)), requires_grad)


def randint(low, high=None, size=None, *, dtype=None, requires_grad=False, generator=None,
            device=None, out=None, layout=None, pin_memory=False):
    """Integers uniform in `[low, high)` (`randint(high, size)` or `randint(low, high, size)`)."""
    if size is None:
        if high is None:
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    u = _C._rand(_shape((size,)), _C.float64)
    t = (u * (high - low)).floor() + low
    t = t.clamp(max=high - 1).to(_C.int64)
    return t if dtype is None else t.to(dtype)


def randint_like(input, low, high=None, *, dtype=None):
    """`randint` in `input`'s shape."""
    return randint(low, high, list(input.shape), dtype=dtype or input.dtype)


def randperm(n, *, dtype=None, requires_grad=False, generator=None, device=None):
    """A random permutation of `0..n` (int64)."""
    keys = _C._rand([n], _C.float64)
    order = sorted(range(n), key=lambda i: keys[i].item())
    t = _C.tensor(order, dtype=_C.int64)
    return t if dtype is None else t.to(dtype)


def arange(start, end=None, step=1, *, dtype=None, requires_grad=False, device=None, out=None,
           layout=None, pin_memory=False):
    """`[start, end)` by `step` (int64 when every bound is an integer)."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    vals = [start, end, step]
    if dtype is None:
        dtype = _C.int64 if builtins.all(isinstance(v, builtins.int) or
                                          isinstance(v, Tensor) and not v.is_floating_point()
                                          for v in vals) else _C.float32
    vals = [v.item() if isinstance(v, Tensor) else v for v in vals]
    t = _C._arange(builtins.float(vals[0]), builtins.float(vals[1]), builtins.float(vals[2]), dtype)
    return _finish(t, requires_grad)


def linspace(start, end, steps, *, dtype=None, requires_grad=False, device=None, out=None,
             layout=None, pin_memory=False):
    """`steps` evenly spaced values from `start` to `end`."""
    _check_device(device)
    t = _C._linspace(builtins.float(start), builtins.float(end), builtins.int(steps),
                     _default(dtype))
    return _finish(t, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, requires_grad=False, device=None):
    """`base ** linspace(start, end, steps)`."""
    t = base ** _C._linspace(builtins.float(start), builtins.float(end), builtins.int(steps),
                             _C.float64)
    return _finish(t.to(_default(dtype)), requires_grad)


def eye(n, m=None, *, dtype=None, requires_grad=False, device=None, out=None, layout=None,
        pin_memory=False):
    """The identity matrix (`n x m`)."""
    _check_device(device)
    m = n if m is None else m
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    k = builtins.max(n, m)
    t = _C._eye(k, _default(dtype))
    if (n, m) != (k, k):
        t = t[:n, :m].contiguous()
    return _finish(t, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """`data` as a tensor (a tensor of the right dtype is returned as is)."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype is dtype):
        return data
    return _C.tensor(data, dtype=dtype)


def from_numpy(ndarray):
    """A tensor from a numpy array (ferrograd copies the data)."""
    return _C.tensor(ndarray)


def scalar_tensor(s, *, dtype=None, requires_grad=False):
    """A 0-d tensor."""
    return _finish(_C.tensor(s, dtype=_default(dtype)), requires_grad)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor holding a copy of `data` (numbers, nested lists, numpy arrays)."""
    _check_device(device)
    return _C.tensor(data, dtype=dtype, requires_grad=requires_grad)


def _new(kind):
    def f(self, *args, dtype=None, requires_grad=False, device=None, **kw):
        d = dtype if dtype is not None else self.dtype
        if kind == "tensor":
            return tensor(args[0], dtype=d, requires_grad=requires_grad)
        if kind == "full":
            return full(args[0], args[1], dtype=d, requires_grad=requires_grad)
        return {"zeros": zeros, "ones": ones, "empty": empty}[kind](*args, dtype=d,
                                                                      requires_grad=requires_grad)

    f.__name__ = "new_" + kind
    return f


for _k in ("tensor", "zeros", "ones", "empty", "full"):
    setattr(Tensor, "new_" + _k, _new(_k))


def _rebuild_tensor(data: Any, dtype_name: str, requires_grad: builtins.bool) -> Tensor:
    """The tensor `Tensor.__reduce_ex__` describes (pickle, `copy.copy`)."""
    return _C.tensor(data, dtype=getattr(_C, dtype_name), requires_grad=requires_grad)


def _reduce_ex(self: Tensor, protocol: builtins.int) -> Any:
    """Pickling and `copy.copy`: the data (a numpy array), dtype and `requires_grad`."""
    return (_rebuild_tensor,
            (self.detach().numpy(), str(self.dtype).split(".")[-1], self.requires_grad))


def _deepcopy(self: Tensor, memo: Dict[builtins.int, Any]) -> Tensor:
    """`copy.deepcopy`: a new leaf with copied data and `grad` (graph leaves only)."""
    if not self.is_leaf:
        raise RuntimeError(
            "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
            "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
            "because of a torch.nn.utils.weight_norm usage, see "
            "https://github.com/pytorch/pytorch/pull/103001"
        )
    if id(self) in memo:
        return memo[id(self)]
    new = _C.tensor(self.detach(), requires_grad=self.requires_grad)
    memo[id(self)] = new
    if self.grad is not None:
        new.grad = _C.tensor(self.grad)
    return new


Tensor.__reduce_ex__ = _reduce_ex
Tensor.__deepcopy__ = _deepcopy

__all__ = [
    "tensor", "as_tensor", "from_numpy", "scalar_tensor", "full", "zeros", "ones", "empty",
    "zeros_like", "ones_like", "empty_like", "full_like", "rand", "randn", "rand_like",
    "randn_like", "randint", "randint_like", "randperm", "arange", "linspace", "logspace", "eye",
]
