"""`gradcheck` and `gradgradcheck`: analytical derivatives against finite differences,
over the library's `testing::check_grads`.

The inputs checked are the tensors among `inputs` that require grad (they should be
float64); the other arguments are passed to `func` unchanged. Index `i` in a failure message
counts those checked inputs only."""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Callable, List, Optional, Sequence, Union

    _TensorOrTensors = Union[Tensor, Sequence[Tensor]]

from .. import _C

Tensor = _C.Tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by `gradcheck` when analytical and numerical derivatives disagree."""


def _inputs_tuple(inputs: Any) -> tuple:
    if isinstance(inputs, Tensor):
        return (inputs,)
    return tuple(inputs)


def _tensor_outputs(out: Any) -> List[Tensor]:
    if isinstance(out, Tensor):
        return [out]
    return [o for o in out if isinstance(o, Tensor)]


def _prepare(func: Callable[..., Any], inputs: Any, fn_name: str):
    args = _inputs_tuple(inputs)
    pos = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not pos:
        raise ValueError(
            f"{fn_name} expects at least one input tensor to require gradient, but none of "
            "them have requires_grad=True."
        )

    def call(xs: List[Tensor]) -> List[Tensor]:
        full = list(args)
        for i, x in zip(pos, xs):
            full[i] = x
        return _tensor_outputs(func(*full))

    return call, [args[i] for i in pos]


def _run(call: Callable[[List[Tensor]], List[Tensor]], xs: List[Tensor], order: int,
         eps: float, atol: float, rtol: float, fast_mode: bool, check_forward_ad: bool,
         raise_exception: bool) -> bool:
    msg = _C._check_grads(call, xs, order, eps, atol, rtol, fast_mode, check_forward_ad)
    if msg is None:
        return True
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(
    func: Callable[..., Union[Tensor, Sequence[Tensor]]],
    inputs: _TensorOrTensors,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: Optional[bool] = None,
) -> bool:
    """Checks the first derivatives of `func` at `inputs` against central differences
    (step `eps`, tolerance `atol + rtol * |numerical|`). Returns `True`; on a mismatch raises
    `GradcheckError` (or returns `False` with `raise_exception=False`). `check_forward_ad`
    also checks forward mode (and batched tangents). The library always checks the
    gradients' shapes and dtypes, linearity, zero cotangents and determinism; the other flags
    are accepted for compatibility. Inputs checked should be float64."""
    call, xs = _prepare(func, inputs, "gradcheck")
    return _run(call, xs, 1, eps, atol, rtol, fast_mode,
                check_forward_ad or check_batched_forward_grad, raise_exception)


def gradgradcheck(
    func: Callable[..., Union[Tensor, Sequence[Tensor]]],
    inputs: _TensorOrTensors,
    grad_outputs: Optional[_TensorOrTensors] = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """Checks the second derivatives of `func`: the gradient of its vector-Jacobian product
    (with `grad_outputs`, or random ones) against central differences."""
    call, xs = _prepare(func, inputs, "gradgradcheck")
    if grad_outputs is None:
        return _run(call, xs, 2, eps, atol, rtol, fast_mode, check_fwd_over_rev,
                    raise_exception)
    from . import grad as _grad

    gos = [g.detach() if isinstance(g, Tensor) else g for g in _inputs_tuple(grad_outputs)]

    def vjp(zs: List[Tensor]) -> List[Tensor]:
        outs = call(zs)
        pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad and g is not None]
        if not pairs:
            return [_C._full(list(z.shape), 0.0, z.dtype) for z in zs]
        gs = _grad([o for o, _ in pairs], zs, [g for _, g in pairs], create_graph=True,
                   allow_unused=True)
        return [g if g is not None else _C._full(list(z.shape), 0.0, z.dtype)
                for g, z in zip(gs, zs)]

    if not _run(call, xs, 1, eps, atol, rtol, fast_mode, check_fwd_over_rev,
                raise_exception):
        return False
    return _run(vjp, xs, 1, eps, atol, rtol, fast_mode, check_fwd_over_rev, raise_exception)
