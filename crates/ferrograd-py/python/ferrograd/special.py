"""`ferrograd.special`: PyTorch's `torch.special` functions, each a registry op (no function
is computed here)."""

from __future__ import annotations

from . import _overloads
from ._registry import OPS

expit = OPS["sigmoid"]
logit = OPS["logit"]
erf = OPS["erf"]
erfc = OPS["erfc"]
erfinv = OPS["erfinv"]
gammaln = OPS["lgamma"]
digamma = psi = OPS["digamma"]
i0 = OPS["i0"]
xlogy = OPS["xlogy"]
xlog1py = OPS["xlog1py"]
log1p = OPS["log1p"]
expm1 = OPS["expm1"]
exp2 = OPS["exp2"]
sinc = OPS["sinc"]
round = OPS["round"]  # noqa: A001  (torch.special.round)
polygamma = _overloads.polygamma
softmax = _overloads.softmax
log_softmax = _overloads.log_softmax
logsumexp = _overloads.logsumexp

__all__ = [
    "expit", "logit", "erf", "erfc", "erfinv", "gammaln", "digamma", "psi", "i0", "xlogy",
    "xlog1py", "log1p", "expm1", "exp2", "sinc", "round", "polygamma", "softmax",
    "log_softmax", "logsumexp",
]
