"""`ferrograd.nn.functional`: the Rust `nn` module's ops with PyTorch's signatures, and the
activations (`relu`, `gelu`, `softmax`, ...) as functions of `input`."""

from __future__ import annotations

from .. import _C, _overloads
from .._registry import NN_OPS, OPS

Tensor = _C.Tensor

# Every free function of the Rust `nn` module, under its registry name and parameters.
globals().update(NN_OPS)

# Activations PyTorch keeps in `torch.nn.functional`: the registry's methods, as functions.
for _name in (
    "relu relu6 elu selu leaky_relu hardtanh silu mish sigmoid tanh logsigmoid "
    "softplus"
).split():
    globals().setdefault(_name, OPS[_name])

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
