"""The Rust registry's ops, installed as `Tensor` methods and module functions.

Every op the Rust library registers (`ferrograd._C.ops()`) becomes, under its registry
name, a `Tensor` method (for methods), a `ferrograd.<name>` function (for methods and
static functions), a `ferrograd.nn.functional.<name>` function (for the `nn` module) or a
`ferrograd.linalg.<name>` function (for the `linalg` module).
PyTorch's overloaded names (`sum(dim=...)`, `max(other)`, ...) are written on top of these in
`_overloads.py`; nothing here is a table kept by hand.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs ~10 ms of import time; annotations are strings
if TYPE_CHECKING:
    from typing import Any, Dict

from . import _C

#: Registry ops by name (the first registration of a name wins, as `registry::get`).
OPS: Dict[str, Any] = {}
for _op in _C.ops():
    OPS.setdefault(_op.name, _op)

#: Free functions of the Rust `nn` module, by name.
NN_OPS: Dict[str, Any] = {op.name: op for op in _C.ops() if op.module == "nn"}

#: Free functions of the Rust `linalg` module (`torch.linalg`), by name.
LINALG_OPS: Dict[str, Any] = {op.name: op for op in _C.ops() if op.module == "linalg"}


def install(namespace: Dict[str, Any]) -> None:
    """Adds every registry op as a `Tensor` method and a function of `namespace`."""
    tensor = _C.Tensor
    for name, op in OPS.items():
        if op.module:
            continue
        if op.receiver == "method" and name not in tensor.__dict__:
            setattr(tensor, name, op)
        namespace.setdefault(name, op)
