"""`ferrograd.func`: torch.func's composable function transforms (`vmap`, `grad`,
`grad_and_value`, `vjp`, `jvp`, `jacrev`, `jacfwd`, `hessian`) with its signatures.

>>> import ferrograd as torch
>>> from ferrograd.func import vmap, grad
>>> loss = lambda w, x: ((w * x).sum()) ** 2
>>> w, xs = torch.ones(3), torch.eye(3)
>>> vmap(grad(loss), in_dims=(None, 0))(w, xs)   # per-sample gradients
tensor([[2., 0., 0.],
        [0., 2., 0.],
        [0., 0., 2.]])

The transforms are the library's (`ferrograd::func`, in Rust): this module only turns
Python's nested arguments and outputs (tuples, lists and dicts of tensors: pytrees) into the
flat lists of tensors the library's transforms take, and back. Values that are not tensors
(numbers, None, strings) pass through unchanged; `vmap` needs `None` as their `in_dims`.
"""

from __future__ import annotations

import functools

from . import _C
from ._creation import zeros_like

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, List, Optional, Tuple, Union

Tensor = _C.Tensor

__all__ = ["vmap", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian"]

# ------------------------------------------------------------------ pytrees
# A spec is None for a leaf, or (kind, keys, children) for a tuple, list or dict.


def _flatten(tree: Any, leaves: List[Any]) -> Any:
    if isinstance(tree, (tuple, list)):
        return (type(tree), None, [_flatten(c, leaves) for c in tree])
    if isinstance(tree, dict):
        keys = list(tree)
        return (dict, keys, [_flatten(tree[k], leaves) for k in keys])
    leaves.append(tree)
    return None


def _tree_flatten(tree: Any) -> Tuple[List[Any], Any]:
    leaves: List[Any] = []
    spec = _flatten(tree, leaves)
    return leaves, spec


def _unflatten(spec: Any, it: Any) -> Any:
    if spec is None:
        return next(it)
    kind, keys, children = spec
    values = [_unflatten(c, it) for c in children]
    if kind is dict:
        return dict(zip(keys, values))
    return tuple(values) if kind is tuple else list(values)


def _tree_unflatten(spec: Any, leaves: List[Any]) -> Any:
    return _unflatten(spec, iter(leaves))


def _spec_str(spec: Any) -> str:
    if spec is None:
        return "*"
    kind, keys, children = spec
    inner = ", ".join(_spec_str(c) for c in children)
    if kind is dict:
        inner = ", ".join(f"{k!r}: {_spec_str(c)}" for k, c in zip(keys, children))
        return "{" + inner + "}"
    return f"({inner}{',' if len(children) == 1 else ''})" if kind is tuple else f"[{inner}]"


def _broadcast(prefix: Any, spec: Any, out: List[Any]) -> bool:
    """Appends `prefix` broadcast to the leaves of `spec` (a prefix tree: a non-container
    value stands for a whole subtree) to `out`; False when the structures do not match."""
    if not isinstance(prefix, (tuple, list, dict)):
        out.extend([prefix] * _count(spec))
        return True
    if spec is None:
        return False
    kind, keys, children = spec
    if isinstance(prefix, dict):
        if kind is not dict or set(prefix) != set(keys):
            return False
        return all(_broadcast(prefix[k], c, out) for k, c in zip(keys, children))
    if kind is dict or len(prefix) != len(children) or (type(prefix) is tuple) != (kind is tuple):
        return False
    return all(_broadcast(p, c, out) for p, c in zip(prefix, children))


def _count(spec: Any) -> int:
    return 1 if spec is None else sum(_count(c) for c in spec[2])


def _name(func: Any) -> str:
    return getattr(func, "__name__", repr(func))


# ------------------------------------------------------------------ argument handling


def _argnums(argnums: Any, n: int) -> Tuple[int, ...]:
    """`argnums` checked and normalized (torch.func's messages)."""
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    if not isinstance(argnums, (int, tuple)) or isinstance(argnums, bool):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    out = []
    for a in nums:
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        if not -n <= a < n:
            raise RuntimeError(f"Got argnum={a}, but only {n} positional inputs")
        out.append(a % n)
    if len(set(out)) != len(out):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return tuple(out)


class _Args:
    """Positional arguments flattened: the tensors (what the library's transform receives),
    the other leaves kept here, and each argument's structure."""

    def __init__(self, args: Tuple[Any, ...]) -> None:
        self.specs = []
        self.leaves: List[Any] = []
        self.owner: List[int] = []  # argument of each leaf
        for i, a in enumerate(args):
            before = len(self.leaves)
            self.specs.append(_flatten(a, self.leaves))
            self.owner += [i] * (len(self.leaves) - before)
        self.where = [k for k, v in enumerate(self.leaves) if isinstance(v, Tensor)]
        self.tensors = [self.leaves[k] for k in self.where]

    def rebuild(self, tensors: List[Tensor]) -> Tuple[Any, ...]:
        leaves = list(self.leaves)
        for k, t in zip(self.where, tensors):
            leaves[k] = t
        it = iter(leaves)
        return tuple(_unflatten(s, it) for s in self.specs)

    def diff(self, nums: Tuple[int, ...], what: str) -> List[int]:
        """Positions in `tensors` of the leaves of the arguments `nums`, in that order."""
        pos = {k: j for j, k in enumerate(self.where)}
        out = []
        for a in nums:
            for k, owner in enumerate(self.owner):
                if owner != a:
                    continue
                if k not in pos:
                    raise RuntimeError(
                        f"{what}: Expected argument {a} to be a Tensor or a pytree of Tensors, "
                        f"got a leaf of type {type(self.leaves[k])}"
                    )
                out.append(pos[k])
        return out

    def structure(self, nums: Tuple[int, ...], int_argnums: bool, values: List[Any]) -> Any:
        """`values` (one per leaf of the arguments `nums`) in those arguments' structure."""
        it = iter(values)
        parts = tuple(_unflatten(self.specs[a], it) for a in nums)
        return parts[0] if int_argnums else parts


class _Outputs:
    """The user's outputs as the library sees them: a flat list of tensors (then the tensors
    of `aux`), with the structures and the non-tensor leaves kept to rebuild them."""

    def __init__(self) -> None:
        self.spec = None
        self.n = 0
        self.aux = None

    def flat(self, out: Any, aux: Any = None, has_aux: bool = False,
             check: Optional[Callable[[Any], None]] = None) -> List[Tensor]:
        leaves, self.spec = _tree_flatten(out)
        for v in leaves:
            if check is not None:
                check(v)
        self.n = len(leaves)
        ts = list(leaves)
        if has_aux:
            aux_leaves, spec = _tree_flatten(aux)
            where = [k for k, v in enumerate(aux_leaves) if isinstance(v, Tensor)]
            self.aux = (spec, aux_leaves, where)
            ts += [aux_leaves[k] for k in where]
        return ts

    def output(self, ys: List[Tensor]) -> Any:
        return _tree_unflatten(self.spec, ys[: self.n])

    def aux_value(self, ys: List[Tensor]) -> Any:
        spec, leaves, where = self.aux
        leaves = list(leaves)
        for k, t in zip(where, ys[self.n:]):
            leaves[k] = t
        return _tree_unflatten(spec, leaves)


def _split_aux(out: Any, what: str) -> Tuple[Any, Any]:
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(
            f"{what}: output of function f should be a tuple: (output, aux) if has_aux is True"
        )
    return out


# ------------------------------------------------------------------ vmap


def _batch_to(y: Tensor, d: int) -> Tensor:
    """`y` with its dim 0 (the batch) moved to `d`."""
    n = y.dim()
    if not -n <= d < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
        )
    d %= n
    if d == 0:
        return y
    perm = list(range(1, n))
    perm.insert(d, 0)
    return y.permute(*perm)


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0,
         randomness: str = "error", *, chunk_size: Optional[int] = None) -> Callable[..., Any]:
    """`func` mapped over a dimension of its inputs (torch.func.vmap): every operation runs
    once on the whole batch. `in_dims` gives, for each positional argument (or each leaf of
    a nested argument), the dimension mapped over, or `None` for an argument that is the same
    for every member; `out_dims` where the batch dimension goes in each output. `randomness`
    is `'error'` (random operations raise), `'different'` or `'same'`; `chunk_size` runs the
    batch in chunks of that many members. Keyword arguments are passed unmapped."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. "
            f"Got {randomness}"
        )
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    name = _name(func)

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        head = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
        if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
            raise ValueError(
                f"{head}: expected `in_dims` to be int or a (potentially nested) tuple matching "
                f"the structure of inputs, got: {type(in_dims)}."
            )
        if not args:
            raise ValueError(
                f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you "
                "are trying to vmap over a function with no inputs. The latter is unsupported."
            )
        a = _Args(args)
        arg_spec = (tuple, None, a.specs)
        dims: List[Any] = []
        if not _broadcast(in_dims, arg_spec, dims):
            raise ValueError(
                f"{head}: in_dims is not compatible with the structure of `inputs`. in_dims has "
                f"structure {_spec_str(_tree_flatten(in_dims)[1])} but inputs has structure "
                f"{_spec_str(arg_spec)}."
            )
        for v, d in zip(a.leaves, dims):
            if d is None:
                continue
            if not isinstance(d, int) or isinstance(d, bool):
                raise ValueError(
                    f"{head}: in_dim must be int or None, got {type(d)}: {d!r}"
                )
            if not isinstance(v, Tensor):
                raise ValueError(
                    f"{head}: Got in_dim={d} for an input but the input is of type {type(v)}. "
                    "We cannot vmap over non-Tensor arguments, please use None as the respective "
                    "in_dim"
                )
            n = v.dim()
            if not -n <= d < n:
                raise ValueError(
                    f"{head}: Got in_dim={d} for some input, but that input is a Tensor of "
                    f"dimensionality {n} so expected in_dim to satisfy -{n} <= in_dim < {n}."
                )
        tensor_dims = [dims[k] for k in a.where]
        if out_dims is None:
            raise NotImplementedError(
                f"vmap({name}, ..., out_dims=None): unmapped outputs (out_dims=None) are not "
                "supported by ferrograd.func.vmap yet"
            )
        simple = isinstance(out_dims, int) and not isinstance(out_dims, bool)
        outs = _Outputs()

        def check(v: Any) -> None:
            if not isinstance(v, Tensor):
                raise ValueError(
                    f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(v)}. "
                    "Did you mean to set out_dims= to None for output?"
                )

        def flat(ts: List[Tensor]) -> List[Tensor]:
            return outs.flat(func(*a.rebuild(ts), **kwargs), check=check)

        f = _C._func_vmap(_C._func(flat), tensor_dims, [out_dims] if simple else [0],
                          randomness, chunk_size)
        ys = f(a.tensors)
        if not simple:
            wanted: List[Any] = []
            if not _broadcast(out_dims, outs.spec, wanted):
                raise ValueError(
                    f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                    "compatible with the structure of `outputs`. out_dims has structure "
                    f"{_spec_str(_tree_flatten(out_dims)[1])} but outputs has structure "
                    f"{_spec_str(outs.spec)}."
                )
            for d in wanted:
                if d is None:
                    raise NotImplementedError(
                        f"vmap({name}, ..., out_dims=None): unmapped outputs (out_dims=None) "
                        "are not supported by ferrograd.func.vmap yet"
                    )
            ys = [_batch_to(y, d) for y, d in zip(ys, wanted)]
        return outs.output(ys)

    return wrapped


# ------------------------------------------------------------------ grad, vjp, jvp


def _grad(func: Callable[..., Any], argnums: Any, has_aux: bool, value: bool) -> Callable[..., Any]:
    what = "grad_and_value(f)(*args)"

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args))
        a = _Args(args)
        diff = a.diff(nums, what)
        outs = _Outputs()

        def flat(ts: List[Tensor]) -> List[Tensor]:
            out = func(*a.rebuild(ts), **kwargs)
            aux = None
            if has_aux:
                out, aux = _split_aux(out, what)
            if not isinstance(out, Tensor):
                raise RuntimeError(f"{what}: Expected f(*args) to return a Tensor, got {type(out)}")
            return outs.flat(out, aux, has_aux)

        r = _C._func_grad(_C._func(flat), diff, has_aux, value)(a.tensors)
        g = a.structure(nums, isinstance(argnums, int), r[: len(diff)])
        rest = r[len(diff):]
        if value:
            v = rest[0]
            if has_aux:
                outs.n = 1
                return g, (v, outs.aux_value(rest))
            return g, v
        if has_aux:
            outs.n = 0
            return g, outs.aux_value(rest)
        return g

    return wrapped


def grad(func: Callable[..., Any], argnums: Union[int, Tuple[int, ...]] = 0,
         has_aux: bool = False) -> Callable[..., Any]:
    """The gradient of `func`'s scalar output with respect to the arguments `argnums`
    (torch.func.grad): an int gives one gradient shaped like that argument, a tuple a tuple of
    them. With `has_aux`, `func` returns `(output, aux)` and the result is `(gradient, aux)`."""
    return _grad(func, argnums, has_aux, value=False)


def grad_and_value(func: Callable[..., Any], argnums: Union[int, Tuple[int, ...]] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """`(gradient, value)` of `func` (torch.func.grad_and_value); with `has_aux`,
    `(gradient, (value, aux))`."""
    return _grad(func, argnums, has_aux, value=True)


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """`(func(*primals), vjp_fn)` (torch.func.vjp): `vjp_fn(cotangents)`, with cotangents
    shaped like the output, returns a tuple of one gradient per primal. With `has_aux`,
    `func` returns `(output, aux)` and the result is `(output, vjp_fn, aux)`."""
    what = "vjp(f, *primals)"
    flat_primals, primals_spec = _tree_flatten(primals)
    for v in flat_primals:
        if not isinstance(v, Tensor):
            raise RuntimeError(f"{what}: Expected primals to only contain Tensors, got {type(v)}")
    outs = _Outputs()

    def check(v: Any) -> None:
        if not isinstance(v, Tensor):
            raise RuntimeError(f"{what}: Expected f to only return Tensors, got {type(v)}")

    def flat(ts: List[Tensor]) -> List[Tensor]:
        out = func(*_tree_unflatten(primals_spec, ts))
        aux = None
        if has_aux:
            out, aux = _split_aux(out, what)
        return outs.flat(out, aux, has_aux, check)

    ys, fn = _C._func_vjp(_C._func(flat), flat_primals)
    n = outs.n
    out_spec = outs.spec
    extra = [zeros_like(y) for y in ys[n:]]

    def vjp_fn(cotangents: Any, *, retain_graph: bool = True, create_graph: Optional[bool] = None) -> Tuple[Any, ...]:
        cts, spec = _tree_flatten(cotangents)
        if _spec_str(spec) != _spec_str(out_spec):
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of "
                f"outputs to the function. cotangents: {_spec_str(spec)}, primal output: "
                f"{_spec_str(out_spec)}"
            )
        for i, (c, y) in enumerate(zip(cts, ys)):
            if not isinstance(c, Tensor):
                raise RuntimeError(f"vjp_fn: Expected cotangents to only contain Tensors, got {type(c)}")
            if c.shape != y.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {c.shape} and "
                    f"output[{i}] has a shape of {y.shape}."
                )
        return _tree_unflatten(primals_spec, fn(cts + extra))

    output = outs.output(ys)
    if has_aux:
        return output, vjp_fn, outs.aux_value(ys)
    return output, vjp_fn


def jvp(func: Callable[..., Any], primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> Any:
    """`(func(*primals), J tangents)` (torch.func.jvp): `primals` and `tangents` are tuples of
    the same structure. With `has_aux`, `func` returns `(output, aux)` and the result is
    `(output, jvp_out, aux)`."""
    what = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{what}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    flat_primals, primals_spec = _tree_flatten(primals)
    flat_tangents, tangents_spec = _tree_flatten(tangents)
    if _spec_str(primals_spec) != _spec_str(tangents_spec):
        raise RuntimeError(
            f"{what}: Expected primals and tangents to have the same python structure. For "
            "example, if primals is a tuple of 3 tensors, tangents also must be. Got primals "
            f"with structure {_spec_str(primals_spec)} and tangents with structure "
            f"{_spec_str(tangents_spec)}"
        )
    for v in flat_primals + flat_tangents:
        if not isinstance(v, Tensor):
            raise RuntimeError(f"{what}: Expected primals and tangents to only contain Tensors, got {type(v)}")
    outs = _Outputs()

    def check(v: Any) -> None:
        if not isinstance(v, Tensor):
            raise RuntimeError(f"{what}: Expected f(*primals) to return only tensors, got unsupported type {type(v)}")

    def flat(ts: List[Tensor]) -> List[Tensor]:
        out = func(*_tree_unflatten(primals_spec, ts))
        aux = None
        if has_aux:
            out, aux = _split_aux(out, what)
        return outs.flat(out, aux, has_aux, check)

    ys, jv = _C._func_jvp(_C._func(flat), flat_primals, flat_tangents)
    result = (outs.output(ys), outs.output(jv))
    if has_aux:
        return result + (outs.aux_value(ys),)
    return result


# ------------------------------------------------------------------ Jacobians


def _jacobian(func: Callable[..., Any], argnums: Any, transform: Callable[..., Any],
              what: str, hess: bool) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args))
        a = _Args(args)
        diff = a.diff(nums, what)
        outs = _Outputs()

        def check(v: Any) -> None:
            if not isinstance(v, Tensor):
                raise RuntimeError(f"{what}: Expected f to return only Tensors, got {type(v)}")

        def flat(ts: List[Tensor]) -> List[Tensor]:
            return outs.flat(func(*a.rebuild(ts), **kwargs), check=check)

        r = transform(_C._func(flat), diff)(a.tensors)
        int_nums = isinstance(argnums, int)
        k = len(diff)
        per_out = k * k if hess else k
        blocks = []
        for o in range(outs.n):
            mine = r[o * per_out:(o + 1) * per_out]
            if hess:
                rows = [a.structure(nums, int_nums, mine[j * k:(j + 1) * k]) for j in range(k)]
                blocks.append(a.structure(nums, int_nums, rows))
            else:
                blocks.append(a.structure(nums, int_nums, mine))
        return outs.output(blocks)

    return wrapped


def _no_aux(name: str, has_aux: bool) -> None:
    if has_aux:
        raise NotImplementedError(f"ferrograd.func.{name}: has_aux=True is not supported yet")


def jacrev(func: Callable[..., Any], argnums: Union[int, Tuple[int, ...]] = 0, *,
           has_aux: bool = False) -> Callable[..., Any]:
    """The Jacobian of `func` with respect to the arguments `argnums` by reverse mode
    (torch.func.jacrev): for each output, a tensor of shape `output.shape + input.shape` (a
    tuple of them for a tuple `argnums`)."""
    _no_aux("jacrev", has_aux)
    return _jacobian(func, argnums, _C._func_jacrev, "jacrev(f)(*args)", hess=False)


def jacfwd(func: Callable[..., Any], argnums: Union[int, Tuple[int, ...]] = 0,
           has_aux: bool = False, *, randomness: str = "error") -> Callable[..., Any]:
    """The Jacobian of `func` by forward mode (torch.func.jacfwd); results as `jacrev`'s."""
    _no_aux("jacfwd", has_aux)
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. "
            f"Got {randomness}"
        )
    if randomness != "error":
        raise NotImplementedError(
            f"ferrograd.func.jacfwd: randomness={randomness!r} is not supported yet"
        )
    return _jacobian(func, argnums, _C._func_jacfwd, "jacfwd(f)(*args)", hess=False)


def hessian(func: Callable[..., Any], argnums: Union[int, Tuple[int, ...]] = 0) -> Callable[..., Any]:
    """The Hessian of `func`'s scalar output (torch.func.hessian: `jacfwd(jacrev(func))`): of
    shape `input.shape + input.shape`; for a tuple `argnums`, a tuple of tuples of blocks."""
    return _jacobian(func, argnums, _C._func_hessian, "hessian(f)(*args)", hess=True)
