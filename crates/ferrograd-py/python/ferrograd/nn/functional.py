"""`ferrograd.nn.functional`: the Rust `nn` module's ops with PyTorch's signatures, and the
activations (`relu`, `gelu`, `softmax`, ...) as functions of `input`."""

from __future__ import annotations

from .. import _C, _overloads
from .._registry import NN_OPS, OPS

Tensor = _C.Tensor

# Every free function of the Rust `nn` module, under its registry name and parameters.
globals().update(NN_OPS)



def _activation(name: str):
    """The registry's method `name` as `F.<name>(input, *args, inplace=False)`: `inplace`
    writes the result into `input` (PyTorch's in-place variant, recorded as a copy)."""
    op = OPS[name]

    def f(input, *args, inplace=False, **kwargs):
        out = op(input, *args, **kwargs)
        return input.copy_(out) if inplace else out

    f.__name__ = f.__qualname__ = name
    f.__doc__ = op.__doc__
    return f


# Activations PyTorch keeps in `torch.nn.functional`: the registry's methods, as functions
# (those with an `inplace` flag in PyTorch take it here too).
for _name in (
    "relu relu6 elu selu leaky_relu hardtanh silu mish celu hardswish hardsigmoid threshold"
).split():
    globals().setdefault(_name, _activation(_name))
for _name in (
    "sigmoid tanh softsign tanhshrink hardshrink softshrink glu prelu"
).split():
    globals().setdefault(_name, OPS[_name])


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """`softmax(-input)` along `dim` (`None`: PyTorch's legacy choice, 0 for 0-, 1- and 3-d
    inputs, 1 otherwise)."""
    if dim is None:
        dim = 0 if input.dim() in (0, 1, 3) else 1
    x = input if dtype is None else input.to(dtype)
    return OPS["softmin"](x, dim)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky relu in evaluation mode: the slope `(lower + upper) / 2` below 0."""
    if training:
        raise NotImplementedError("rrelu(): training mode (random slopes) is not supported yet")
    out = OPS["rrelu"](input, lower, upper)
    return input.copy_(out) if inplace else out

softmax = _overloads.softmax
log_softmax = _overloads.log_softmax
gelu = _overloads.gelu
softplus = _overloads.softplus
logsigmoid = _overloads.logsigmoid


def pad(input, pad, mode="constant", value=None):
    """Constant padding (`pad` lists `(left, right)` pairs from the last dimension)."""
    if mode != "constant":
        raise NotImplementedError(f"pad(): mode '{mode}' is not supported yet, only 'constant'")
    return OPS["pad"](input, list(pad), 0.0 if value is None else float(value))


def relu_(input):
    """`relu` in place."""
    return input.copy_(OPS["relu"](input))


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """`input / max(norm(input, p, dim), eps)`."""
    n = OPS["norm_dims"](input, float(p), [dim], True).clamp(min=eps)
    return input / n


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """`x1 . x2 / max(|x1| |x2|, eps)` along `dim`."""
    num = _overloads.sum(x1 * x2, dim)
    den = (OPS["norm_dims"](x1, 2.0, [dim], False) * OPS["norm_dims"](x2, 2.0, [dim], False))
    return num / den.clamp(min=eps)


def one_hot(tensor, num_classes=-1):
    """Class indices as one-hot int64 rows."""
    if num_classes < 0:
        num_classes = int(tensor.max().item()) + 1
    eye = _C._eye(num_classes, _C.int64)
    return OPS["index_select"](eye, 0, tensor.reshape(-1)).reshape(list(tensor.shape) + [num_classes])


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    """`softmax(q k^T * scale + mask) v` (see the Rust `nn::scaled_dot_product_attention`);
    `enable_gqa` repeats the key and value heads (dimension -3) to the query's."""
    if enable_gqa and key.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        reps = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(reps, -3)
        value = value.repeat_interleave(reps, -3)
    return NN_OPS["scaled_dot_product_attention"](query, key, value, attn_mask, dropout_p, is_causal, scale)
