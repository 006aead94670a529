"""`ferrograd.autograd.functional`: jacobian, hessian, vjp, jvp, hvp, vhp, with PyTorch's
signatures and tuple conventions, over the library's `functional` module (single output
functions; several outputs are handled one output at a time, and `vjp` of several outputs
or with `v=None` is one call to `autograd.grad`, PyTorch's own algorithm)."""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Callable, List, Optional, Tuple, Union

    _Tensors = Union[Tensor, Tuple[Tensor, ...]]

from .. import _C
from .._grad_mode import enable_grad, set_grad_enabled

Tensor = _C.Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(inp: Any, arg_name: str, fn_name: str) -> Tuple[bool, Tuple[Tensor, ...]]:
    is_tuple = isinstance(inp, tuple)
    tup = inp if is_tuple else (inp,)
    for i, el in enumerate(tup):
        if not isinstance(el, Tensor):
            if is_tuple:
                raise TypeError(
                    f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                    f"Tensors but the value at index {i} has type {type(el)}."
                )
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                f"Tensors but the given {arg_name} has type {type(el)}."
            )
    return is_tuple, tup


def _validate_v(v: Tuple[Tensor, ...], other: Tuple[Tensor, ...], is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (a, b) in enumerate(zip(v, other)):
        if a.shape != b.shape:
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prepend}v has invalid size: should be {b.shape} but got {a.shape}."
            )


def _check_outputs(outs: Tuple[Tensor, ...], strict: bool) -> None:
    if not strict:
        return
    for i, o in enumerate(outs):
        if not o.requires_grad:
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients."
                " The outputs must be computed in a differentiable manner from the input"
                " when running in strict mode."
            )


def _post(res: Tuple[Any, ...], is_tuple: bool) -> Any:
    return res if is_tuple else res[0]


class _Func:
    """The user's function as the library calls it (a list of tensors in, output `k` out),
    remembering how many outputs it has and whether they came as a tuple."""

    def __init__(self, func: Callable[..., Any], fn_name: str, strict: bool,
                 check: Optional[Callable[[Tuple[Tensor, ...]], None]] = None) -> None:
        self.func, self.fn_name, self.strict, self.check = func, fn_name, strict, check
        self.is_tuple = False
        self.n = 1

    def outputs(self, xs: List[Tensor]) -> Tuple[Tensor, ...]:
        out = self.func(*xs)
        self.is_tuple, outs = _as_tuple(out, "outputs of the user-provided function",
                                        self.fn_name)
        self.n = len(outs)
        _check_outputs(outs, self.strict)
        if self.check is not None:
            self.check(outs)
        return outs

    def output(self, k: int) -> Callable[[List[Tensor]], Tensor]:
        def f(xs: List[Tensor]) -> Tensor:
            outs = self.outputs(xs)
            if k >= len(outs):
                raise RuntimeError("the user-provided function returned fewer outputs than before")
            return outs[k]

        return f


def _fix_output_index(e: RuntimeError, k: int) -> RuntimeError:
    msg = str(e)
    if msg.startswith("functional: "):
        msg = msg[len("functional: "):]
        e = RuntimeError(msg)
    if k and "Output 0 of the user-provided function" in msg:
        return RuntimeError(msg.replace("Output 0 ", f"Output {k} ", 1))
    return e


def _reverse_fallback(call: Callable[[], Any]) -> Any:
    """Runs `call`; if a custom Function without `jvp` stopped the library's forward-mode
    path, runs it again inside a dual level, where the library uses reverse passes only (as
    PyTorch's functional API does, which needs no `jvp`)."""
    try:
        return call()
    except NotImplementedError as e:
        if "You must implement the jvp function" not in str(e) or _C._dual_level_open():
            raise
    from .forward_ad import dual_level

    with dual_level():
        return call()


def _ones_like(t: Tensor) -> Tensor:
    return _C._full(list(t.shape), 1.0, t.dtype)


def vjp(
    func: Callable[..., Any],
    inputs: _Tensors,
    v: Optional[_Tensors] = None,
    create_graph: bool = False,
    strict: bool = False,
) -> Tuple[Any, Any]:
    """`(func(*inputs), vᵀ J)`: the vector-Jacobian product of `func` at `inputs`. `v` has the
    outputs' structure (`None`: allowed for a single one-element output)."""
    is_inputs_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
    if v is not None:
        _, vs = _as_tuple(v, "v", "vjp")
        if len(vs) == 1:
            f = _Func(func, "vjp", strict)

            def check(outs: Tuple[Tensor, ...]) -> None:
                _validate_v(tuple(t.detach() for t in vs), outs, f.is_tuple)

            f.check = check
            with enable_grad():
                out, grads = _C._vjp(f.output(0), list(xs), vs[0].detach(), create_graph,
                                     strict)
            outs = (out,)
            if f.n == 1:
                return _post(outs, f.is_tuple), _post(tuple(grads), is_inputs_tuple)
    # Several outputs (or v=None): one `autograd.grad` call, as PyTorch does.
    from . import grad as _grad

    with enable_grad():
        prepared = tuple(
            x if (create_graph and x.requires_grad)
            else x.detach().requires_grad_(x.is_floating_point())
            for x in xs
        )
        out = func(*prepared)
        is_outputs_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "vjp")
        _check_outputs(outs, strict)
        if v is not None:
            _, vs = _as_tuple(v, "v", "vjp")
            vs = tuple(t.detach() for t in vs)
            _validate_v(vs, outs, is_outputs_tuple)
        else:
            if len(outs) != 1 or outs[0].numel() != 1:
                raise RuntimeError(
                    "The vector v can only be None if the user-provided function returns "
                    "a single Tensor with a single element."
                )
            vs = (_ones_like(outs[0]),)
    with set_grad_enabled(True if create_graph else _C.is_grad_enabled()):
        pairs = [(o, g) for o, g in zip(outs, vs) if o.requires_grad]
        if pairs:
            res = _grad([o for o, _ in pairs], list(prepared), [g for _, g in pairs],
                        retain_graph=True, create_graph=create_graph, allow_unused=True)
        else:
            res = (None,) * len(prepared)
    grads = []
    for i, (g, x) in enumerate(zip(res, prepared)):
        if g is None:
            if strict:
                raise RuntimeError(
                    "The output of the user-provided function is independent of "
                    f"input {i}. This is not allowed in strict mode."
                )
            g = _C._full(list(x.shape), 0.0, x.dtype)
        grads.append(g if create_graph else g.detach())
    outs = tuple(o if create_graph else o.detach() for o in outs)
    return _post(outs, is_outputs_tuple), _post(tuple(grads), is_inputs_tuple)


def jvp(
    func: Callable[..., Any],
    inputs: _Tensors,
    v: Optional[_Tensors] = None,
    create_graph: bool = False,
    strict: bool = False,
) -> Tuple[Any, Any]:
    """`(func(*inputs), J v)`: the Jacobian-vector product of `func` at `inputs` (forward
    mode). `v` has the inputs' structure (`None`: allowed for a single one-element input)."""
    is_inputs_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
    if v is not None:
        _, vs = _as_tuple(v, "v", "jvp")
        vs = tuple(t.detach() for t in vs)
        _validate_v(vs, xs, is_inputs_tuple)
    else:
        if len(xs) != 1 or xs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function "
                "is a single Tensor with a single element."
            )
        vs = (_ones_like(xs[0]),)
    f = _Func(func, "jvp", strict)
    outs: List[Tensor] = []
    jvps: List[Tensor] = []
    k = 0
    while k < f.n:
        try:
            with enable_grad():
                o, j = _reverse_fallback(
                    lambda: _C._jvp(f.output(k), list(xs), list(vs), create_graph, strict))
        except RuntimeError as e:
            raise _fix_output_index(e, k) from None
        outs.append(o)
        jvps.append(j)
        k += 1
    return _post(tuple(outs), f.is_tuple), _post(tuple(jvps), f.is_tuple)


def jacobian(
    func: Callable[..., Any],
    inputs: _Tensors,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of `func` at `inputs`: for output `i` and input `j`, a tensor of shape
    `output_i.shape + input_j.shape`; nested in tuples as PyTorch nests them (outer: outputs,
    inner: inputs, each level only when the function returns / takes a tuple).

    The library batches the products in one pass whether or not `vectorize` is set
    (`strict=True` computes them one at a time)."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` "
                'and `strategy="forward-mode"` are not supported together (yet). '
                "Please either set `create_graph=False` or "
                '`strategy="reverse-mode"`.'
            )
        if strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` "
                'and `strategy="forward-mode"` are not supported together (yet). '
                "Please either set `strict=False` or "
                '`strategy="reverse-mode"`.'
            )
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                "only implemented for `vectorize=True`."
            )
    if vectorize and strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` "
            "and `vectorized=True` are not supported together. "
            "Please either set `strict=False` or "
            "`vectorize=False`."
        )
    is_inputs_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
    f = _Func(func, "jacobian", strict)
    rows: List[Tuple[Tensor, ...]] = []
    k = 0
    while k < f.n:
        try:
            with enable_grad():
                def call() -> Any:
                    return _C._jacobian(f.output(k), list(xs), create_graph, strict, strategy)

                blocks = call() if strategy == "forward-mode" else _reverse_fallback(call)
        except RuntimeError as e:
            raise _fix_output_index(e, k) from None
        rows.append(_post(tuple(blocks), is_inputs_tuple))
        k += 1
    return _post(tuple(rows), f.is_tuple)


def _scalar_check(fn_name: str) -> Callable[[Tuple[Tensor, ...]], None]:
    def check(outs: Tuple[Tensor, ...]) -> None:
        if len(outs) != 1:
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
        if outs[0].numel() != 1:
            raise RuntimeError(
                f"The Tensor returned by the function given to {fn_name} should contain a "
                "single element"
            )

    return check


class _Scalar(_Func):
    """A function that must return one one-element tensor (as a 0-d tensor)."""

    def __init__(self, func: Callable[..., Any], fn_name: str, strict: bool) -> None:
        super().__init__(func, fn_name, strict, _scalar_check(fn_name))
        self.shape: Tuple[int, ...] = ()

    def outputs(self, xs: List[Tensor]) -> Tuple[Tensor, ...]:
        outs = super().outputs(xs)
        if self.is_tuple:
            raise RuntimeError(f"The function given to {self.fn_name} should return a single Tensor")
        self.shape = tuple(outs[0].shape)
        return (outs[0].reshape(()),)


def hessian(
    func: Callable[..., Any],
    inputs: _Tensors,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of a scalar `func` at `inputs`: block `(i, j)` has shape
    `input_i.shape + input_j.shape`, nested in tuples when `inputs` is a tuple (the library
    computes it forward-over-reverse, batched, whatever `vectorize` says)."""
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    is_inputs_tuple, xs = _as_tuple(inputs, "inputs", "hessian")
    f = _Scalar(func, "hessian", strict)
    with enable_grad():
        h = _reverse_fallback(lambda: _C._hessian(f.output(0), list(xs), create_graph, strict))
    return _post(tuple(_post(tuple(r), is_inputs_tuple) for r in h), is_inputs_tuple)


def _hessian_product(fn_name: str, func: Callable[..., Any], inputs: _Tensors,
                     v: Optional[_Tensors], create_graph: bool, strict: bool,
                     hvp: bool) -> Tuple[Tensor, Any]:
    is_inputs_tuple, xs = _as_tuple(inputs, "inputs", fn_name)
    if v is not None:
        _, vs = _as_tuple(v, "v", fn_name)
        vs = tuple(t.detach() for t in vs)
        _validate_v(vs, xs, is_inputs_tuple)
    else:
        if len(xs) != 1 or xs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function "
                "is a single Tensor with a single element."
            )
        vs = (_ones_like(xs[0]),)
    f = _Scalar(func, fn_name, strict)
    with enable_grad():
        out, p = _reverse_fallback(lambda: _C._hessian_product(
            f.output(0), list(xs), list(vs), create_graph, strict, hvp))
    out = out.reshape(f.shape)
    return out, _post(tuple(p), is_inputs_tuple)


def vhp(
    func: Callable[..., Any],
    inputs: _Tensors,
    v: Optional[_Tensors] = None,
    create_graph: bool = False,
    strict: bool = False,
) -> Tuple[Tensor, Any]:
    """`(func(*inputs), vᵀ H)` for a scalar `func` (`v` has the inputs' structure)."""
    return _hessian_product("vhp", func, inputs, v, create_graph, strict, False)


def hvp(
    func: Callable[..., Any],
    inputs: _Tensors,
    v: Optional[_Tensors] = None,
    create_graph: bool = False,
    strict: bool = False,
) -> Tuple[Tensor, Any]:
    """`(func(*inputs), H v)` for a scalar `func` (`v` has the inputs' structure)."""
    return _hessian_product("hvp", func, inputs, v, create_graph, strict, True)
