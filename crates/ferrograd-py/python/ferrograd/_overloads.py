"""PyTorch's names, overloads and keyword arguments over the registry's ops.

Where PyTorch folds several registry ops under one name (`sum()` and `sum(dim)`,
`max()`, `max(dim)` and `max(other)`, `pow(tensor)` and `pow(number)`) or spells its
arguments differently (`view(*shape)`, `transpose(dim0, dim1)`), the function here picks the
registry op; it computes nothing itself. Each is installed as a `Tensor` method and as a
`ferrograd.<name>` function (`input` first).
"""

from __future__ import annotations

import builtins
import functools
import numbers
TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from . import _C, return_types
from ._registry import LINALG_OPS, OPS

Tensor = _C.Tensor
_py_bool = builtins.bool
_py_float = builtins.float
_py_int = builtins.int

#: What `install` adds: name -> (function, also a Tensor method?).
OVERLOADS: Dict[str, Callable[..., Any]] = {}
METHODS: Dict[str, Callable[..., Any]] = {}


def overload(*names: str, method: _py_bool = True, function: _py_bool = True):
    """Registers `f` under `names` as a `ferrograd` function and (if `method`) a method."""

    def deco(f):
        for n in names:
            if function:
                OVERLOADS[n] = f
            if method:
                METHODS[n] = f
        return f

    return deco


def _op(name: str):
    return OPS[name]


_PLAIN_NUMBERS = (_py_float, _py_int, _py_bool)


def _is_number(x: Any) -> _py_bool:
    # The common cases first: the ABC check below costs about a microsecond.
    if type(x) in _PLAIN_NUMBERS:
        return True
    if type(x) is Tensor:
        return False
    return isinstance(x, numbers.Number) and not isinstance(x, Tensor)


def _dims(dim: Any) -> list:
    if dim is None:
        return []
    if isinstance(dim, _py_bool) or isinstance(dim, (str, bytes, _py_float)):
        raise TypeError(f"dim must be an int or a tuple of ints, not {type(dim).__name__}")
    if isinstance(dim, (_py_int,)) or hasattr(dim, "__index__") and not isinstance(dim, (list, tuple)):
        return [dim.__index__()]
    try:
        items = list(dim)
    except TypeError:
        raise TypeError(f"dim must be an int or a tuple of ints, not {type(dim).__name__}") from None
    out = []
    for d in items:
        if isinstance(d, (_py_bool, str, bytes, _py_float)) or not hasattr(d, "__index__"):
            raise TypeError(
                f"dim must be an int or a tuple of ints, but got an element of type {type(d).__name__}"
            )
        out.append(d.__index__())
    return out


def _sizes(args: Sequence[Any]) -> list:
    """`f(2, 3)`, `f((2, 3))`, `f([2, 3])` and `f(torch.Size([2, 3]))` alike."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    out = []
    for a in args:
        if isinstance(a, Tensor):
            a = a.item()
        if isinstance(a, _py_bool) or not isinstance(a, (_py_int,)) and not hasattr(a, "__index__"):
            raise TypeError(
                f"size must be a sequence of ints, but got an element of type {type(a).__name__}"
            )
        out.append(int(a))
    return out


def _tensor_arg(name: str, arg: str, x: Any, pos: int = 2) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}"
        )
    return x


def _dtype_cast(x: Tensor, dtype: Any) -> Tensor:
    return x if dtype is None or x.dtype is dtype else _op("to_dtype")(x, dtype)


class Size(tuple):
    """`torch.Size`: a tuple of ints with PyTorch's repr."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)!r})"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


Tensor.shape = property(lambda self: Size(self._shape), doc="The sizes, as `torch.Size`.")
# As PyTorch's: numpy's operators defer to the tensor's reflected ones (`np.sqrt(2) * x` and
# `np.ones(2) + x` are tensors, recorded in the graph), instead of converting `x` to an array.
Tensor.__array_priority__ = 1000


@overload("size")
def size(input: Tensor, dim: Optional[int] = None):
    """`x.size()` (a `torch.Size`) or `x.size(dim)` (an int)."""
    shape = input._shape
    if dim is None:
        return Size(shape)
    n = len(shape)
    if not -builtins.max(n, 1) <= dim < builtins.max(n, 1):
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-builtins.max(n, 1)}, {builtins.max(n, 1) - 1}], but got {dim})"
        )
    return shape[dim] if n else 1


@overload("stride")
def stride(input: Tensor, dim: Optional[int] = None):
    """The strides in elements (`x.stride()` or `x.stride(dim)`)."""
    s = input._strides
    return s if dim is None else s[dim]


# ------------------------------------------------------------------ arithmetic


def _binary(tensor_op: str, scalar_op: Optional[str]):
    def f(input, other, *, alpha=None, out=None):
        _no_out(out)
        if alpha is not None and alpha != 1:
            other = other * alpha
        if not isinstance(input, Tensor):
            input = _C.tensor(input, dtype=other.dtype if isinstance(other, Tensor) and
                              other.is_floating_point() else None)
        if _is_number(other):
            if scalar_op is not None:
                return _OPERATORS[tensor_op](input, other)
            other = _C.tensor(other, dtype=input.dtype)
        return _op(tensor_op)(input, other)

    f.__name__ = tensor_op
    return f


_OPERATORS: Dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "remainder": lambda a, b: a % b,
}


def _no_out(out: Any, name: str = "") -> None:
    if out is not None:
        raise TypeError(
            (f"{name}(): " if name else "")
            + "the out= argument is not supported by ferrograd; assign the result instead"
        )


def _refusing_out(f: Callable[..., Any]) -> Callable[..., Any]:
    """`f` as a `ferrograd.<name>` function that also takes `out=None` (and refuses any other
    `out`, as every function of this package does). A plain wrapper: compiling one per
    signature cost 10 ms of import time (inspect and exec for every overload)."""

    @functools.wraps(f)
    def g(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if out is not None:
            _no_out(out, f.__name__)
        return f(*args, **kwargs)

    return g


def _takes_out(f: Callable[..., Any]) -> _py_bool:
    code = getattr(f, "__code__", None)
    return code is None or "out" in code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]


add = overload("add")(_binary("add", "add"))
sub = overload("sub", "subtract")(_binary("sub", "sub"))
mul = overload("mul", "multiply")(_binary("mul", "mul"))
remainder = overload("remainder")(_binary("remainder", "remainder"))


@overload("div", "divide", "true_divide")
def div(input, other, *, rounding_mode=None, out=None):
    """`input / other`; `rounding_mode` `"trunc"` or `"floor"` rounds the quotient."""
    _no_out(out)
    if rounding_mode is None:
        return input / other if isinstance(input, Tensor) else _C.tensor(input) / other
    if rounding_mode not in ("floor", "trunc"):
        raise ValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
        )
    # Integers divide exactly, in integers; a number operand is a 0-d tensor of its kind
    # (which promotes as the number would).
    a = input if isinstance(input, Tensor) else _C.tensor(input)
    b = other if isinstance(other, Tensor) else _C.tensor(other)
    return _op("floor_divide" if rounding_mode == "floor" else "div_trunc")(a, b)


@overload("floor_divide")
def floor_divide(input, other):
    """`input // other`."""
    return input // other


@overload("rsub")
def rsub(input, other, *, alpha=1):
    """`other - alpha * input`."""
    return other - input * alpha


@overload("fmod")
def fmod(input, other):
    """C's `fmod` (sign of the dividend)."""
    if _is_number(other):
        other = _C.tensor(other, dtype=input.dtype)
    return _op("fmod")(input, other)


@overload("pow")
def pow(input, exponent):
    """`input ** exponent` (also `torch.pow(number, tensor)`)."""
    return input ** exponent


@overload("float_power")
def float_power(input, exponent):
    """`input ** exponent` in float64."""
    x = input.double() if isinstance(input, Tensor) else input
    e = exponent.double() if isinstance(exponent, Tensor) else exponent
    return x ** e


@overload("neg", "negative")
def neg(input):
    """`-input`."""
    return _op("neg")(input)


@overload("positive")
def positive(input):
    """`+input` (the tensor itself)."""
    return input


@overload("square")
def square(input):
    """`input ** 2`."""
    return _op("square")(input)


@overload("matmul")
def matmul(input, other):
    """Matrix product with NumPy's rules."""
    return _op("matmul")(input, other)


@overload("tensordot")
def tensordot(a, b, dims=2):
    """Contraction of `a`'s dims with `b`'s: `dims=n` the last `n` of `a` with the first `n`
    of `b`, or `dims=(dims_a, dims_b)`."""
    if isinstance(dims, _py_int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        first = [a.dim() - dims + k for k in range(dims)]
        return _op("tensordot")(a, b, first, list(range(dims)))
    da, db = dims
    da = [da] if isinstance(da, _py_int) else list(da)
    db = [db] if isinstance(db, _py_int) else list(db)
    return _op("tensordot")(a, b, da, db)


@overload("index_put")
def index_put(input, indices, values, accumulate=False):
    """`input` with `values` at `input[indices]` (out of place; `indices` a tuple of tensors)."""
    return _op("index_put")(input, list(indices), values, accumulate)


@overload("index")
def index(input, indices):
    """`input[indices]` for a tuple of index tensors (`torch.ops.aten.index`)."""
    return _op("index")(input, list(indices))


def _compare(name: str):
    scalar = OPS[name + "_scalar"]
    tensor_op = OPS[name]

    def f(input, other, *, out=None):
        _no_out(out)
        if _is_number(other):
            if isinstance(other, _py_float) and not input.is_floating_point():
                input = input.double()
            return scalar(input, other)
        return tensor_op(input, other)

    f.__name__ = name
    f.__doc__ = tensor_op.__doc__
    return f


for _n, _aliases in [
    ("eq", ()),
    ("ne", ("not_equal",)),
    ("lt", ("less",)),
    ("le", ("less_equal",)),
    ("gt", ("greater",)),
    ("ge", ("greater_equal",)),
]:
    overload(_n, *_aliases)(_compare(_n))


def _logical(name: str):
    scalar = OPS[name + "_scalar"]
    tensor_op = OPS[name]

    def f(input, other):
        return scalar(input, other) if _is_number(other) else tensor_op(input, other)

    f.__name__ = name
    return f


for _n in ("logical_and", "logical_or", "logical_xor"):
    overload(_n)(_logical(_n))


@overload("equal")
def equal(input, other) -> _py_bool:
    """Whether both have the same shape and elements."""
    _tensor_arg("equal", "other", other)
    return tuple(input.shape) == tuple(other.shape) and _py_bool(_op("all")(input == other))


@overload("allclose")
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> _py_bool:
    """Whether `|input - other| <= atol + rtol * |other|` everywhere."""
    return _py_bool(isclose(input, other, rtol, atol, equal_nan).all())


@overload("isclose")
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise `|input - other| <= atol + rtol * |other|`."""
    if _is_number(other):
        other = _C.tensor(other, dtype=input.dtype)
    a, b = input.detach(), other.detach()
    close = (a - b).abs() <= (b.abs() * rtol + atol)
    close = close.logical_or(a == b)
    if equal_nan:
        close = close.logical_or(a.isnan().logical_and(b.isnan()))
    return close


@overload("isnan")
def isnan(input):
    """Where the elements are NaN."""
    return input != input


@overload("isinf")
def isinf(input):
    """Where the elements are infinite."""
    return input.abs() == builtins.float("inf")


@overload("isfinite")
def isfinite(input):
    """Where the elements are finite."""
    return (input == input).logical_and(input.abs() != builtins.float("inf"))


@overload("clamp", "clip")
def clamp(input, min=None, max=None):
    """`input` clamped to `[min, max]` (numbers or tensors)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        dt = input.dtype
        lo = min if min is None or isinstance(min, Tensor) else _C.tensor(min, dtype=dt)
        hi = max if max is None or isinstance(max, Tensor) else _C.tensor(max, dtype=dt)
        return _op("clamp_tensor")(input, lo, hi)
    return _op("clamp")(input, min, max)


@overload("clamp_min")
def clamp_min(input, min):
    """`input` clamped below at `min`."""
    return clamp(input, min=min)


@overload("clamp_max")
def clamp_max(input, max):
    """`input` clamped above at `max`."""
    return clamp(input, max=max)


@overload("lerp")
def lerp(input, end, weight):
    """`input + weight * (end - input)`; `weight` a number or a tensor."""
    if isinstance(weight, Tensor):
        return _op("lerp_tensor")(input, end, weight)
    return _op("lerp")(input, end, weight)


@overload("where", method=False)
def where(condition, input=None, other=None):
    """`input` where `condition`, `other` elsewhere (numbers allowed); with one argument,
    the indices where `condition` is true (`nonzero(as_tuple=True)`)."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    ref = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else None
    if ref is None:
        dt = None
    elif ref.is_floating_point():
        dt = ref.dtype
    else:
        dt = None
    if not isinstance(input, Tensor):
        input = _C.tensor(input, dtype=dt if dt is not None else None)
    if not isinstance(other, Tensor):
        other = _C.tensor(other, dtype=dt if dt is not None else input.dtype if not
                          isinstance(other, _py_float) else None)
    return _op("where_")(condition, input, other)


METHODS["where"] = lambda self, condition, other: where(condition, self, other)


# ------------------------------------------------------------------ reductions


@overload("sum")
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of all elements, or over `dim` (an int or a tuple)."""
    x = _dtype_cast(input, dtype)
    if not x.is_floating_point() and dtype is None and x.dtype is _C.bool:
        x = _op("to_dtype")(x, _C.int64)
    if dim is None:
        return _op("sum")(x) if not keepdim else _op("sum_dims")(x, list(range(x.dim())), True)
    return _op("sum_dims")(x, _dims(dim), keepdim)


@overload("mean")
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of all elements, or over `dim`."""
    x = _dtype_cast(input, dtype)
    if not x.is_floating_point():
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_dtype_word(x.dtype)}"
        )
    if dim is None:
        return _op("mean")(x) if not keepdim else _op("mean_dims")(x, list(range(x.dim())), True)
    return _op("mean_dims")(x, _dims(dim), keepdim)


def _dtype_word(d) -> str:
    return {"torch.float32": "Float", "torch.float64": "Double", "torch.int64": "Long",
            "torch.bool": "Bool"}[repr(d)]


@overload("prod")
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements, or along `dim`."""
    x = _dtype_cast(input, dtype)
    if dim is None:
        return _op("prod")(x)
    return _op("prod_dim")(x, int(dim), keepdim)


@overload("max")
def max(input, dim=None, keepdim=False, *, other=None):
    """`max()` (all elements), `max(dim)` (values and indices) or `max(other)` (elementwise)."""
    if isinstance(dim, Tensor):
        return _op("maximum")(input, dim)
    if other is not None:
        return _op("maximum")(input, other)
    if dim is None:
        return _op("max")(input)
    v, i = _op("max_dim")(input, int(dim), keepdim)
    return return_types.max((v, i))


@overload("min")
def min(input, dim=None, keepdim=False, *, other=None):
    """`min()`, `min(dim)` or `min(other)`, as `max`."""
    if isinstance(dim, Tensor):
        return _op("minimum")(input, dim)
    if other is not None:
        return _op("minimum")(input, other)
    if dim is None:
        return _op("min")(input)
    v, i = _op("min_dim")(input, int(dim), keepdim)
    return return_types.min((v, i))


@overload("unique")
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted); with `return_inverse` / `return_counts` a tuple that adds
    each element's index into them and each value's count, as PyTorch's."""
    if dim is not None:
        raise NotImplementedError("unique(): the dim argument is not supported yet")
    out = _op("unique")(input, sorted, return_inverse, return_counts)
    return out if return_inverse or return_counts else out[0]


@overload("sort")
def sort(input, dim=-1, descending=False, stable=False) -> "return_types.sort":
    """The elements sorted along `dim` and the indices that sort them (`return_types.sort`)."""
    return return_types.sort(_op("sort")(input, dim, descending, stable))


@overload("topk")
def topk(input, k, dim=-1, largest=True, sorted=True) -> "return_types.topk":
    """The `k` largest (or smallest) elements along `dim` and their indices."""
    return return_types.topk(_op("topk")(input, k, dim, largest, sorted))


@overload("kthvalue")
def kthvalue(input, k, dim=-1, keepdim=False) -> "return_types.kthvalue":
    """The `k`-th smallest element along `dim` and its index."""
    return return_types.kthvalue(_op("kthvalue")(input, k, dim, keepdim))


@overload("mode")
def mode(input, dim=-1, keepdim=False) -> "return_types.mode":
    """The most frequent value along `dim` and the index of its last occurrence."""
    return return_types.mode(_op("mode")(input, dim, keepdim))


@overload("cummax")
def cummax(input, dim) -> "return_types.cummax":
    """The running maximum along `dim` and where it was attained."""
    return return_types.cummax(_op("cummax")(input, dim))


@overload("cummin")
def cummin(input, dim) -> "return_types.cummin":
    """The running minimum along `dim` and where it was attained."""
    return return_types.cummin(_op("cummin")(input, dim))


@overload("median")
def median(input, dim=None, keepdim=False):
    """The lower median of all elements, or along `dim` with its index (`return_types.median`)."""
    if dim is None:
        return _op("median")(input)
    return return_types.median(_op("median_dim")(input, dim, keepdim))


@overload("nanmedian")
def nanmedian(input, dim=None, keepdim=False):
    """`median` of the elements that are not NaN."""
    if dim is None:
        return _op("nanmedian")(input)
    return return_types.nanmedian(_op("nanmedian_dim")(input, dim, keepdim))


@overload("aminmax")
def aminmax(input, *, dim=None, keepdim=False) -> "return_types.aminmax":
    """The minimum and maximum over `dim` (all elements when `None`): `return_types.aminmax`."""
    return return_types.aminmax(_op("aminmax")(input, dim, keepdim))


@overload("maximum")
def maximum(input, other):
    """Elementwise maximum."""
    return _op("maximum")(input, other)


@overload("minimum")
def minimum(input, other):
    """Elementwise minimum."""
    return _op("minimum")(input, other)


@overload("amax")
def amax(input, dim=(), keepdim=False):
    """Maximum over `dim` (all when empty)."""
    return _op("amax")(input, _dims(dim), keepdim)


@overload("amin")
def amin(input, dim=(), keepdim=False):
    """Minimum over `dim` (all when empty)."""
    return _op("amin")(input, _dims(dim), keepdim)


@overload("all")
def all(input, dim=None, keepdim=False):
    """Whether every element (over `dim`) is non-zero."""
    return _op("all")(input, _dims(dim), keepdim)


@overload("any")
def any(input, dim=None, keepdim=False):
    """Whether any element (over `dim`) is non-zero."""
    return _op("any")(input, _dims(dim), keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return _py_float(correction)
    if unbiased is None:
        return 1.0
    return 1.0 if unbiased else 0.0


@overload("var")
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over `dim` (all when `None`), with `correction` (1: Bessel's)."""
    if isinstance(dim, _py_bool):
        dim, unbiased = None, dim
    return _op("var")(input, _dims(dim), _correction(unbiased, correction), keepdim)


@overload("std")
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over `dim`, as `var`."""
    if isinstance(dim, _py_bool):
        dim, unbiased = None, dim
    return _op("std")(input, _dims(dim), _correction(unbiased, correction), keepdim)


@overload("var_mean", method=False)
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> "Tuple[Tensor, Tensor]":
    """`(var, mean)` over `dim`, as `var` (a plain tuple, as PyTorch's)."""
    if isinstance(dim, _py_bool):
        dim, unbiased = None, dim
    return tuple(_op("var_mean")(input, _dims(dim), _correction(unbiased, correction), keepdim))


@overload("std_mean", method=False)
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> "Tuple[Tensor, Tensor]":
    """`(std, mean)` over `dim`, as `std` (a plain tuple, as PyTorch's)."""
    if isinstance(dim, _py_bool):
        dim, unbiased = None, dim
    return tuple(_op("std_mean")(input, _dims(dim), _correction(unbiased, correction), keepdim))


@overload("norm")
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The p-norm (2 and `"fro"`: Euclidean, also `inf`, 1, ...) of all elements or over `dim`."""
    x = _dtype_cast(input, dtype)
    if p == "fro" or p is None:
        p = 2.0
    if p == "nuc":
        raise RuntimeError("norm(): the nuclear norm needs an SVD, which ferrograd does not have yet")
    if p == 2.0 and dim is None and not keepdim:
        return _op("norm")(x)
    return _op("norm_dims")(x, _py_float(p), _dims(dim), keepdim)


@overload("logsumexp")
def logsumexp(input, dim, keepdim=False):
    """`log(sum(exp(input)))` over `dim`, stably."""
    return _op("logsumexp")(input, _dims(dim), keepdim)


@overload("cumsum")
def cumsum(input, dim, *, dtype=None):
    """Running sum along `dim`."""
    return _op("cumsum")(_dtype_cast(input, dtype), dim)


@overload("cumprod")
def cumprod(input, dim, *, dtype=None):
    """Running product along `dim`."""
    return _op("cumprod")(_dtype_cast(input, dtype), dim)


@overload("argmax")
def argmax(input, dim=None, keepdim=False):
    """Index of the first maximum (of the flattened tensor when `dim` is `None`)."""
    return _op("argmax")(input, dim, keepdim)


@overload("argmin")
def argmin(input, dim=None, keepdim=False):
    """Index of the first minimum."""
    return _op("argmin")(input, dim, keepdim)


@overload("count_nonzero")
def count_nonzero(input, dim=None):
    """How many elements (over `dim`) are non-zero."""
    return sum(input != 0, dim)


@overload("nonzero")
def nonzero(input, *, as_tuple=False):
    """The indices of the non-zero elements: `[n, dim]` int64, or one tensor per dim."""
    shape = list(input.shape)
    flat = (input.reshape(-1) != 0)
    idx = _op("masked_select")(_C._arange(0.0, _py_float(flat.numel()), 1.0, _C.int64), flat)
    cols = []
    rem = idx
    for d in reversed(shape):
        cols.append(rem % d if d else rem)
        rem = rem // d if d else rem
    cols.reverse()
    if as_tuple:
        return tuple(cols) if shape else (idx * 0,)
    if not shape:
        return idx.reshape(-1, 0)
    return _op("stack")(cols, 1) if cols else idx.reshape(-1, 0)


# ------------------------------------------------------------------ shapes


def _infer(shape: list, numel: int, op: str) -> list:
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        shape = [numel // known if s == -1 else s for s in shape]
    for s in shape:
        if s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
    return shape


def _only_key(name: str, key: str, kwargs: Dict[str, Any]) -> Any:
    for k in kwargs:
        if k != key:
            raise TypeError(f"{name}() got an unexpected keyword argument '{k}'")
    return kwargs[key]


def _star_or_keyword(name: str, key: str, args: tuple, value: Any) -> tuple:
    """`f(*args)` or `f(key=value)` (PyTorch takes both), not both at once."""
    if value is None:
        return args
    if args:
        raise TypeError(f"{name}() got multiple values for argument '{key}'")
    return (value,)


@overload("reshape")
def reshape(input, *shape, **kwargs):
    """The elements in a new shape (one entry may be -1); a view when possible."""
    if kwargs:
        shape = _star_or_keyword("reshape", "shape", shape, _only_key("reshape", "shape", kwargs))
    return _op("reshape")(input, _infer(_sizes(shape), input.numel(), "reshape"))


@overload("view", function=False)
def view(input, *shape):
    """`reshape` (ferrograd copies only when the strides require it); `view(dtype)` is not
    supported."""
    if len(shape) == 1 and isinstance(shape[0], _C.dtype):
        raise RuntimeError("view(dtype) is not supported by ferrograd; use .to(dtype)")
    return _op("reshape")(input, _infer(_sizes(shape), input.numel(), "view"))


@overload("view_as", "reshape_as", function=False)
def view_as(input, other):
    """`input` in `other`'s shape."""
    return _op("reshape")(input, list(_tensor_arg("view_as", "other", other).shape))


@overload("expand", function=False)
def expand(input, *sizes):
    """`input` broadcast to `sizes` (-1 keeps a size)."""
    sizes = _sizes(sizes)
    shape = list(input.shape)
    lead = len(sizes) - len(shape)
    out = [shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes)]
    return _op("expand")(input, out)


@overload("expand_as", function=False)
def expand_as(input, other):
    """`input` broadcast to `other`'s shape."""
    return _op("expand")(input, list(_tensor_arg("expand_as", "other", other).shape))


@overload("broadcast_to")
def broadcast_to(input, size):
    """`input` broadcast to `size`."""
    return expand(input, *_sizes((size,)))


@overload("permute")
def permute(input, *dims, **kwargs):
    """The dimensions reordered."""
    if kwargs:
        dims = _star_or_keyword("permute", "dims", dims, _only_key("permute", "dims", kwargs))
    return _op("permute")(input, _sizes(dims) if not (len(dims) == 1 and isinstance(dims[0], (list, tuple))) else list(dims[0]))


@overload("repeat", function=False)
def repeat(input, *sizes):
    """`input` tiled `sizes[i]` times along each dimension."""
    return _op("repeat")(input, _sizes(sizes))


@overload("tile")
def tile(input, dims):
    """`repeat` with `dims` padded with ones on the left."""
    dims = _sizes((dims,))
    dims = [1] * (input.dim() - len(dims)) + dims
    return _op("repeat")(input, dims)


@overload("flip")
def flip(input, *dims, **kwargs):
    """Elements reversed along `dims`."""
    if kwargs:
        dims = _star_or_keyword("flip", "dims", dims, _only_key("flip", "dims", kwargs))
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = dims[0]
    return _op("flip")(input, [int(d) for d in dims])


@overload("fliplr")
def fliplr(input):
    """Reversed along dimension 1."""
    return _op("flip")(input, [1])


@overload("flipud")
def flipud(input):
    """Reversed along dimension 0."""
    return _op("flip")(input, [0])


@overload("roll")
def roll(input, shifts, dims=None):
    """Elements shifted cyclically."""
    return _op("roll")(input, _dims(shifts), _dims(dims))


@overload("squeeze")
def squeeze(input, dim=None):
    """Size-1 dimensions removed (all, or those in `dim`)."""
    if dim is None:
        return _op("reshape")(input, [s for s in input.shape if s != 1])
    x = input
    n = builtins.max(input.dim(), 1)
    dims = _dims(dim)
    for d in dims:
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
    for d in sorted({d % n for d in dims}, reverse=True):
        x = _op("squeeze")(x, d)
    return x


@overload("unsqueeze")
def unsqueeze(input, dim):
    """A size-1 dimension inserted at `dim`."""
    return _op("unsqueeze")(input, dim)


@overload("transpose", "swapaxes", "swapdims")
def transpose(input, dim0, dim1):
    """Dimensions `dim0` and `dim1` swapped (a view)."""
    return _op("transpose")(input, dim0, dim1)


@overload("t")
def t(input):
    """The transpose of a tensor of at most 2 dimensions."""
    return _op("t")(input)


@overload("adjoint", method=True)
def adjoint(input):
    """The last two dimensions swapped (real tensors: `mT`)."""
    return _op("m_t")(input)


Tensor.mT = property(lambda self: _op("m_t")(self), doc="The last two dimensions swapped.")
Tensor.mH = Tensor.mT
Tensor.H = property(lambda self: _op("t")(self), doc="The transpose (real tensors).")


def _T(self):
    # PyTorch's `x.T` is a permute at every rank (`PermuteBackward0`), `x.t()` a transpose.
    return _op("permute")(self, list(range(self.dim() - 1, -1, -1)))


Tensor.T = property(_T, doc="The dimensions reversed.")


@overload("flatten")
def flatten(input, start_dim=0, end_dim=-1):
    """Dimensions `start_dim..=end_dim` merged into one."""
    return _op("flatten")(input, start_dim, end_dim)


@overload("ravel")
def ravel(input):
    """The elements as a 1-d tensor."""
    return _op("reshape")(input, [input.numel()])


@overload("unflatten")
def unflatten(input, dim, sizes):
    """Dimension `dim` split into `sizes` (one may be -1)."""
    n = input.shape[dim]
    return _op("unflatten")(input, dim, _infer(_sizes((sizes,)), n, "unflatten"))


@overload("narrow")
def narrow(input, dim, start, length):
    """`length` elements from `start` along `dim` (a view)."""
    return _op("narrow")(input, dim, int(start), length)


@overload("select")
def select(input, dim, index):
    """The sub-tensor at `index` along `dim` (a view)."""
    return _op("select")(input, dim, int(index))


@overload("split")
def split(tensor, split_size_or_sections, dim=0):
    """Pieces of `split_size` (an int) or of the given sizes (a list) along `dim`."""
    if isinstance(split_size_or_sections, (list, tuple)):
        return _op("split_sizes")(tensor, list(split_size_or_sections), dim)
    return _op("split")(tensor, split_size_or_sections, dim)


@overload("tensor_split", method=True)
def tensor_split(input, indices_or_sections, dim=0):
    """Pieces at the given indices, or `n` nearly equal pieces."""
    size = input.shape[dim]
    if isinstance(indices_or_sections, _py_int):
        n = indices_or_sections
        q, r = divmod(size, n)
        sizes = [q + 1] * r + [q] * (n - r)
    else:
        bounds = [0] + [builtins.min(builtins.max(int(i), 0), size) for i in indices_or_sections] + [size]
        sizes = [builtins.max(b - a, 0) for a, b in zip(bounds, bounds[1:])]
    # Slices (`SliceBackward0`, as PyTorch's), not a split node.
    starts = [0]
    for n in sizes[:-1]:
        starts.append(starts[-1] + n)
    return tuple(_op("narrow")(input, dim, a, n) for a, n in zip(starts, sizes))


@overload("chunk")
def chunk(input, chunks, dim=0):
    """`chunks` pieces along `dim`."""
    return _op("chunk")(input, chunks, dim)


@overload("unbind")
def unbind(input, dim=0):
    """The slices along `dim`, as a tuple."""
    return tuple(_op("select")(input, dim, i) for i in range(input.shape[dim]))


@overload("cat", "concat", "concatenate", method=False)
def cat(tensors, dim=0, *, out=None):
    """Concatenation along `dim`."""
    _no_out(out)
    ts = _tensor_seq("cat", tensors)
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    return _op("cat")(ts, dim)


def _tensor_seq(name: str, tensors: Any) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) and \
            not hasattr(tensors, "__iter__"):
        raise TypeError(
            f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
            f"{type(tensors).__name__}"
        )
    return list(tensors)


@overload("stack", method=False)
def stack(tensors, dim=0, *, out=None):
    """Stacking along a new dimension `dim`."""
    _no_out(out)
    return _op("stack")(_tensor_seq("stack", tensors), dim)


@overload("hstack", method=False)
def hstack(tensors):
    """Concatenation along dimension 1 (0 for 1-d tensors)."""
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


@overload("vstack", method=False)
def vstack(tensors):
    """Concatenation along dimension 0 of at-least-2-d tensors."""
    return cat([x.reshape(1, -1) if x.dim() < 2 else x for x in tensors], 0)


@overload("einsum", method=False)
def einsum(equation, *operands):
    """Einstein summation (`einsum("ij,jk->ik", a, b)`)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    return _op("einsum")(equation, list(operands))


@overload("contiguous", function=False)
def contiguous(input, memory_format=None):
    """This tensor with contiguous storage."""
    return _op("contiguous")(input)


@overload("clone")
def clone(input, *, memory_format=None):
    """A copy with its own storage, recorded in the graph (`CloneBackward0`)."""
    return _op("deep_clone")(input)


@overload("diag")
def diag(input, diagonal=0):
    """A 1-d tensor as a diagonal matrix, or a matrix's diagonal."""
    return _op("diag")(input, diagonal)


@overload("diagonal")
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal `offset` over `dim1` and `dim2` (a view)."""
    return _op("diagonal")(input, offset, dim1, dim2)


@overload("tril")
def tril(input, diagonal=0):
    """The lower triangle."""
    return _op("tril")(input, diagonal)


@overload("triu")
def triu(input, diagonal=0):
    """The upper triangle."""
    return _op("triu")(input, diagonal)


@overload("masked_fill")
def masked_fill(input, mask, value):
    """`input` with `value` where `mask` is true."""
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.dim()} dimension(s)."
            )
        if value.requires_grad:
            return where(mask, value.to(input.dtype), input)
        value = value.item()
    return _op("masked_fill")(input, mask, _py_float(value))


@overload("index_select")
def index_select(input, dim, index):
    """The slices at `index` along `dim`."""
    return _op("index_select")(input, dim, index)


@overload("gather")
def gather(input, dim, index, *, sparse_grad=False):
    """`out[i][j] = input[i][index[i][j]]` for `dim = 1`."""
    return _op("gather")(input, dim, index)


@overload("scatter")
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of `input` with `src` (or `value`) written where `gather` would read."""
    if reduce is not None:
        if reduce != "add":
            raise RuntimeError(f"scatter(): reduce='{reduce}' is not supported, only 'add'")
        return scatter_add(input, dim, index, src)
    if src is None:
        src = value
    if _is_number(src):
        src = _C._full(list(index.shape), _py_float(src), input.dtype)
    return _op("scatter")(input, dim, index, src)


@overload("scatter_add")
def scatter_add(input, dim, index, src):
    """A copy of `input` with `src` added where `gather` would read."""
    return _op("scatter_add")(input, dim, index, src)


@overload("index_add")
def index_add(input, dim, index, source, *, alpha=1):
    """A copy of `input` with `alpha * source` added at `index` along `dim`."""
    if alpha != 1:
        source = source * alpha
    return _op("index_add")(input, dim, index, source)


@overload("take")
def take(input, index):
    """`input` read as 1-d at `index`."""
    return _op("index_select")(input.reshape(-1), 0, index.reshape(-1)).reshape(list(index.shape))


# ------------------------------------------------------------------ dtype and copies


@overload("to", function=False)
def to(input, *args, dtype=None, device=None, copy=False, non_blocking=False, **kwargs):
    """`to(dtype)`, `to(other)` (its dtype) or `to("cpu")`."""
    for a in args:
        if isinstance(a, _C.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, Device)):
            device = a
    if device is not None and str(device) not in ("cpu", "cpu:0"):
        raise RuntimeError(f"ferrograd runs on the CPU only; cannot move a tensor to {device}")
    out = input if dtype is None or dtype is input.dtype else _op("to_dtype")(input, dtype)
    return _op("deep_clone")(out) if copy and out is input else out


def _caster(d):
    def f(self, memory_format=None):
        return self if self.dtype is d else _op("to_dtype")(self, d)

    return f


for _n, _d in [("float", _C.float32), ("double", _C.float64), ("long", _C.int64), ("bool", _C.bool)]:
    METHODS[_n] = _caster(_d)


@overload("type_as", function=False)
def type_as(input, other):
    """`input` in `other`'s dtype."""
    return to(input, _tensor_arg("type_as", "other", other).dtype)


class Device:
    """`torch.device`: ferrograd runs on the CPU only."""

    def __init__(self, type: str = "cpu", index: Optional[int] = None):
        kind = str(type).split(":")[0]
        if kind != "cpu":
            raise RuntimeError(f"ferrograd runs on the CPU only, not on '{type}'")
        self.type = "cpu"
        self.index = index

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __str__(self) -> str:
        return "cpu"

    def __eq__(self, other) -> _py_bool:
        return str(other) == "cpu"

    def __hash__(self) -> int:
        return hash("cpu")


Tensor.device = property(lambda self: Device("cpu"), doc="Always the CPU.")
Tensor.is_cuda = property(lambda self: False)
METHODS["cpu"] = lambda self, memory_format=None: self
METHODS["cuda"] = lambda self, *a, **k: to(self, "cuda")


# ------------------------------------------------------------------ activations


@overload("softmax")
def softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    """`exp(x) / sum(exp(x))` along `dim`."""
    return _op("softmax")(_dtype_cast(input, dtype), _softmax_dim(input, dim))


@overload("log_softmax")
def log_softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    """`log(softmax(x))` along `dim`, stably."""
    return _op("log_softmax")(_dtype_cast(input, dtype), _softmax_dim(input, dim))


def _softmax_dim(input, dim):
    if dim is not None:
        return dim
    # PyTorch's legacy implicit choice.
    return 0 if input.dim() in (0, 1, 3) else 1


@overload("gelu")
def gelu(input, approximate="none"):
    """GELU, exact (`"none"`) or with the tanh approximation."""
    if approximate == "none":
        return _op("gelu")(input)
    if approximate == "tanh":
        return _op("gelu_tanh")(input)
    raise RuntimeError(f"approximate argument must be either none or tanh, not {approximate}")


@overload("softplus")
def softplus(input, beta=1.0, threshold=20.0):
    """`log(1 + exp(beta x)) / beta`, linear above `threshold`."""
    if beta == 1.0 and threshold == 20.0:
        return _op("softplus")(input)
    return _op("softplus_with")(input, beta, threshold)


@overload("log_sigmoid", "logsigmoid")
def logsigmoid(input):
    """`log(sigmoid(x))`, stably."""
    return _op("logsigmoid")(input)


@overload("linalg_inv", method=False)
def _linalg_inv(input):
    return _op("inv")(input)


@overload("inverse")
def inverse(input):
    """The matrix inverse (`torch.linalg.inv`)."""
    return _op("inv")(input)


def _linalg(name: str):
    return LINALG_OPS[name]


@overload("svd")
def svd(input, some=True, compute_uv=True) -> "return_types.svd":
    """`torch.svd`: `(U, S, V)` with `A = U diag(S) V^T` (`V`, not `linalg.svd`'s `Vh`); `U`
    and `V` reduced unless `some` is false, zero-filled `m x m` and `n x n` without
    `compute_uv`."""
    if not compute_uv:
        s = _linalg("svdvals")(input)
        from ._creation import zeros

        *batch, m, n = input._shape
        return return_types.svd(
            (zeros(*batch, m, m, dtype=input.dtype), s, zeros(*batch, n, n, dtype=input.dtype))
        )
    u, s, vh = _linalg("svd")(input, not some)
    return return_types.svd((u, s, vh.mT))


@overload("slogdet")
def slogdet(input) -> "return_types.slogdet":
    """The sign and log of the absolute value of the determinant (`return_types.slogdet`)."""
    return return_types.slogdet(_linalg("slogdet")(input))


@overload("logdet")
def logdet(input) -> Tensor:
    """The log of the determinant (NaN for a negative one, -inf for a singular matrix)."""
    return _linalg("logdet")(input)


@overload("cholesky_solve")
def cholesky_solve(input, input2, upper=False) -> Tensor:
    """Solves `A X = input` given `A`'s Cholesky factor `input2`."""
    return _linalg("cholesky_solve")(input, input2, upper)


@overload("pinverse")
def pinverse(input, rcond=1e-15) -> Tensor:
    """The pseudo-inverse, singular values below `rcond` times the largest dropped."""
    return _linalg("pinv")(input, None, _py_float(rcond))


@overload("matrix_exp")
def matrix_exp(input) -> Tensor:
    """The matrix exponential."""
    return _linalg("matrix_exp")(input)


@overload("matrix_power")
def matrix_power(input, n) -> Tensor:
    """The `n`-th power of a square matrix (negative `n`: of its inverse)."""
    return _linalg("matrix_power")(input, n)


@overload("cross")
def cross(input, other, dim=None) -> Tensor:
    """The cross product along `dim` (`None`: the first dim of size 3, as `torch.cross`)."""
    if dim is None:
        shape = input._shape if len(input._shape) >= len(other._shape) else other._shape
        dim = next((i for i, n in enumerate(shape) if n == 3), -1)
    return _linalg("cross")(input, other, dim)


@overload("ger")
def ger(input, vec2) -> Tensor:
    """The outer product (an alias of `outer`)."""
    return _op("outer")(input, vec2)


@overload("xlogy")
def xlogy(input, other):
    """`input * log(other)`, 0 where `input` is 0."""
    if _is_number(other):
        other = _C.tensor(other, dtype=input.dtype)
    if _is_number(input):
        input = _C.tensor(input, dtype=other.dtype)
    return where(input == 0, 0.0, input * other.log())


# ------------------------------------------------------------------ in place


def _inplace_from(name: str, out_of_place: Callable[..., Any]):
    """`x.name_(...)`: the out-of-place op's result copied into `x` (`copy_`)."""

    def f(self, *args, **kwargs):
        OPS["copy_"](self, out_of_place(self, *args, **kwargs))
        return self

    f.__name__ = name
    f.__doc__ = f"In-place `{name[:-1]}` (the result copied into this tensor)."
    return f


def _native_inplace(tensor_op: str, scalar_op: Optional[str]):
    def f(self, other, *, alpha=None):
        if alpha is not None and alpha != 1:
            other = other * alpha
        if _is_number(other):
            if scalar_op is not None:
                OPS[scalar_op](self, other if tensor_op != "sub_" else -other)
                return self
            other = _C.tensor(other, dtype=self.dtype)
        OPS[tensor_op](self, other)
        return self

    f.__name__ = tensor_op
    return f


METHODS["add_"] = _native_inplace("add_", "add_scalar_")
METHODS["sub_"] = _native_inplace("sub_", "add_scalar_")
METHODS["subtract_"] = METHODS["sub_"]
METHODS["mul_"] = _native_inplace("mul_", "mul_scalar_")
METHODS["multiply_"] = METHODS["mul_"]
METHODS["div_"] = _native_inplace("div_", None)
METHODS["divide_"] = METHODS["div_"]


def _clamp_(self, min=None, max=None):
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        OPS["copy_"](self, clamp(self, min, max))
    else:
        OPS["clamp_"](self, min, max)
    return self


METHODS["clamp_"] = _clamp_
METHODS["clip_"] = _clamp_


def _fill_(self, value):
    OPS["fill_"](self, _py_float(value.item() if isinstance(value, Tensor) else value))
    return self


METHODS["fill_"] = _fill_


def _zero_(self):
    OPS["zero_"](self)
    return self


METHODS["zero_"] = _zero_


def _copy_(self, src, non_blocking=False):
    if _is_number(src):
        src = _C.tensor(src, dtype=self.dtype)
    OPS["copy_"](self, src)
    return self


METHODS["copy_"] = _copy_


def _format(self, format_spec: str) -> str:
    # PyTorch's Tensor.__format__: a 0-d tensor formats as its Python number.
    if self.dim() == 0:
        return self.item().__format__(format_spec)
    return object.__format__(self, format_spec)


METHODS["__format__"] = _format


def _requires_grad_default(self, requires_grad=True):
    return Tensor.requires_grad_(self, requires_grad)


def install(namespace: Dict[str, Any]) -> None:
    """Installs the overloads as `Tensor` methods and `namespace` functions, then in-place
    forms of the elementwise ops PyTorch has them for."""
    for name, f in METHODS.items():
        setattr(Tensor, name, f)
    for name, f in OVERLOADS.items():
        namespace[name] = f if _takes_out(f) else _refusing_out(f)
    for name in (
        "exp sin cos tan tanh sigmoid relu abs neg sqrt rsqrt log log1p log2 log10 expm1 "
        "reciprocal floor ceil round trunc sign asin acos atan sinh cosh asinh acosh atanh "
        "erf erfc square exp2 pow remainder fmod lerp masked_fill index_add scatter "
        "scatter_add hardtanh leaky_relu elu relu6 selu silu mish gelu logical_not "
        "logical_and logical_or logical_xor atan2 hypot maximum minimum tril triu"
    ).split():
        inplace = name + "_"
        if inplace in Tensor.__dict__:
            continue
        base = METHODS.get(name) or OPS.get(name)
        if base is None:
            continue
        setattr(Tensor, inplace, _inplace_from(inplace, base))


# ------------------------------------------------------------ everyday composites (ops/math.rs)


@overload("trapezoid", "trapz")
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule along `dim`, at points `x` or spaced `dx` (default 1) apart."""
    if isinstance(x, Tensor) or x is None:
        return _op("trapezoid")(y, x, 1.0 if dx is None else float(dx), dim)
    return _op("trapezoid")(y, None, float(x), dim)  # trapezoid(y, 0.5): a spacing


@overload("cumulative_trapezoid")
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid rule along `dim`."""
    if isinstance(x, Tensor) or x is None:
        return _op("cumulative_trapezoid")(y, x, 1.0 if dx is None else float(dx), dim)
    return _op("cumulative_trapezoid")(y, None, float(x), dim)


@overload("movedim", "moveaxis")
def movedim(input, source, destination):
    """The dimensions `source` (an int or a sequence) moved to `destination`."""
    return _op("movedim")(input, _dims(source), _dims(destination))


@overload("repeat_interleave")
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element repeated `repeats` times (an int, or a tensor of counts) along `dim`
    (`None`: flattened); `repeat_interleave(counts)` repeats the indices `0..len(counts)`."""
    if repeats is None:
        counts = input
        return _op("repeat_interleave_tensor")(_C.tensor(list(range(counts.numel()))), counts, 0)
    if isinstance(repeats, Tensor):
        out = _op("repeat_interleave_tensor")(input, repeats.reshape(-1), dim)
    else:
        out = _op("repeat_interleave")(input, int(repeats), dim)
    if output_size is not None and out.shape[0 if dim is None else dim] != output_size:
        raise RuntimeError("repeat_interleave: the output size does not match output_size")
    return out


def _atleast(name: str):
    def f(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            return tuple(_op(name)(t) for t in tensors[0])
        if len(tensors) == 1:
            return _op(name)(tensors[0])
        return tuple(_op(name)(t) for t in tensors)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"`{name}` of one tensor, or a tuple of them for several (or a sequence)."
    return f


for _n in ("atleast_1d", "atleast_2d", "atleast_3d"):
    overload(_n, method=False)(_atleast(_n))


@overload("block_diag", method=False)
def block_diag(*tensors):
    """The tensors as the diagonal blocks of one matrix."""
    return _op("block_diag")(list(tensors))


@overload("cartesian_prod", method=False)
def cartesian_prod(*tensors):
    """The Cartesian product of 1-d tensors, one row per combination."""
    return _op("cartesian_prod")(list(tensors))


@overload("dstack", method=False)
def dstack(tensors, *, out=None):
    """Concatenation along the third dimension (tensors made at least 3-d)."""
    _no_out(out)
    return _op("dstack")(_tensor_seq("dstack", tensors))


@overload("column_stack", method=False)
def column_stack(tensors, *, out=None):
    """The tensors as columns side by side."""
    _no_out(out)
    return _op("column_stack")(_tensor_seq("column_stack", tensors))


@overload("row_stack", method=False)
def row_stack(tensors, *, out=None):
    """`vstack`."""
    _no_out(out)
    return vstack(tensors)


@overload("cdist", method=False)
def cdist(x1, x2, p=2.0, compute_mode=None):
    """The `p`-norm distances between the rows of `x1` and `x2`."""
    return _op("cdist")(x1, x2, float(p))


@overload("polygamma", method=False)
def polygamma(n, input, *, out=None):
    """`torch.polygamma(n, input)`: the `n`-th derivative of digamma."""
    _no_out(out)
    return _op("polygamma")(input, n)


# ------------------------------------------------------------ in-place sampling (nn.init's tools)


def _fill_sample(name: str, self, sample):
    """Writes `sample` (f64 samples of `self`'s shape) into `self`, unrecorded: PyTorch's
    in-place random fills are not differentiable (a leaf that requires grad is refused outside
    `no_grad`, as for any in-place op)."""
    if self.requires_grad and self.grad_fn is None and _C.is_grad_enabled():
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    from ._grad_mode import no_grad

    with no_grad():
        self.copy_(sample.to(self.dtype))
    return self


def _uniform(self):
    return _C._rand(list(self.shape), _C.float64)


@overload("uniform_", function=False)
def uniform_(self, a=0.0, b=1.0, *, generator=None, **kwargs):
    """Fills `self` with samples uniform in `[a, b)` (`from`/`to` as keywords too)."""
    a, b = kwargs.get("from", a), kwargs.get("to", b)
    return _fill_sample("uniform_", self, _uniform(self) * (b - a) + a)


@overload("normal_", function=False)
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fills `self` with normal samples of `mean` and `std`."""
    return _fill_sample("normal_", self, _C._randn(list(self.shape), _C.float64) * std + mean)


@overload("log_normal_", function=False)
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fills `self` with samples whose logarithm is normal of `mean` and `std`."""
    z = _C._randn(list(self.shape), _C.float64) * std + mean
    return _fill_sample("log_normal_", self, z.exp())


@overload("exponential_", function=False)
def exponential_(self, lambd=1.0, *, generator=None):
    """Fills `self` with exponential samples of rate `lambd` (inverse CDF)."""
    return _fill_sample("exponential_", self, (-_uniform(self)).log1p() * (-1.0 / lambd))


@overload("cauchy_", function=False)
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fills `self` with Cauchy samples (inverse CDF)."""
    u = _uniform(self)
    return _fill_sample("cauchy_", self, ((u - 0.5) * 3.141592653589793).tan() * sigma + median)


@overload("geometric_", function=False)
def geometric_(self, p, *, generator=None):
    """Fills `self` with the number of Bernoulli(`p`) trials up to the first success (>= 1)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    u = _uniform(self)
    k = ((-u).log1p() / _C.tensor(1.0 - p, dtype=_C.float64).log()).ceil().clamp(min=1)
    return _fill_sample("geometric_", self, k)


@overload("bernoulli_", function=False)
def bernoulli_(self, p=0.5, *, generator=None):
    """Fills `self` with 1 (probability `p`, a number or a tensor broadcast to `self`) or 0."""
    u = _uniform(self)
    prob = p.double() if isinstance(p, Tensor) else p
    return _fill_sample("bernoulli_", self, (u < prob).double())


@overload("random_", function=False)
def random_(self, a=None, b=None, *, generator=None, **kwargs):
    """Fills `self` with integers uniform in `[a, b)`: `random_(to)` is `[0, to)`, no bound is
    `[0, 2^mantissa]` for floats (2^24 for float32, 2^53 for float64) and `[0, 2^63)` for
    int64."""
    a, b = kwargs.get("from", a), kwargs.get("to", b)
    if b is None:
        lo, hi = (0, a) if a is not None else (0, None)
    else:
        lo, hi = a, b
    if hi is None:
        hi = {_C.float32: 2**24 + 1, _C.float64: 2**53 + 1}.get(self.dtype, 2**63 - 1)
    if hi <= lo:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}")
    k = (_uniform(self) * (hi - lo)).floor() + lo
    return _fill_sample("random_", self, k.clamp(max=hi - 1))


@overload("type", function=False)
def type_(self, dtype=None, non_blocking=False, **kwargs):
    """The type string (`'torch.FloatTensor'`), or a copy in `dtype` (a dtype or such a
    string)."""
    names = {_C.float32: "torch.FloatTensor", _C.float64: "torch.DoubleTensor",
             _C.int64: "torch.LongTensor", _C.bool: "torch.BoolTensor"}
    if dtype is None:
        return names[self.dtype]
    if isinstance(dtype, str):
        by_name = {v: k for k, v in names.items()}
        if dtype not in by_name:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = by_name[dtype]
    return self.to(dtype)


def _quantile(name: str):
    def f(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
        _no_out(out)
        if isinstance(q, Tensor):
            return _op(name + "_tensor")(input, q, dim, keepdim, interpolation)
        if isinstance(q, (list, tuple)):
            return _op(name + "_tensor")(input, _C.tensor(q, dtype=input.dtype), dim, keepdim, interpolation)
        return _op(name)(input, float(q), dim, keepdim, interpolation)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"`{name}(input, q, dim=None, keepdim=False, *, interpolation='linear')`: "
                 "`q` a number, or a tensor (or list) of them.")
    return f


quantile = overload("quantile")(_quantile("quantile"))
nanquantile = overload("nanquantile")(_quantile("nanquantile"))
