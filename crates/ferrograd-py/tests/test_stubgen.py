"""The committed type stub equals the generator's output, so it never goes stale
(regenerate with `python -m ferrograd._stubgen --write`)."""

import ast
import os
import subprocess
import sys

import ferrograd
from ferrograd import _C, _stubgen


def test_committed_stub_is_current():
    with open(_stubgen.stub_path(), encoding="utf-8") as f:
        committed = f.read()
    assert committed == _stubgen.generate(), (
        "ferrograd/__init__.pyi is stale: run `python -m ferrograd._stubgen --write`"
    )
    assert os.path.exists(os.path.join(os.path.dirname(_stubgen.stub_path()), "py.typed"))


def test_stub_covers_the_api():
    tree = ast.parse(_stubgen.generate())
    top = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    tensor = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    methods = {n.name for n in tensor.body if isinstance(n, ast.FunctionDef)}
    for op in _C.ops():
        if op.receiver == "method" and not op.module:
            assert op.name in methods, op.name
    for name in ("sum", "max", "view", "backward", "register_hook", "add_", "zero_", "__add__",
                 "__radd__", "__matmul__", "__getitem__", "shape", "grad", "T"):
        assert name in methods, name
    for name in ("tensor", "zeros", "ones", "arange", "exp", "cat", "no_grad", "Tensor", "dtype"):
        assert name in top, name
    annotated = {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign)}
    assert {"float32", "float64", "int64", "bool", "float", "double", "long"} <= annotated
    exp = next(n for n in tensor.body if isinstance(n, ast.FunctionDef) and n.name == "exp2")
    assert ast.get_docstring(exp)  # the registry op's Rust docs


def test_module_entry_point_prints_the_stub():
    out = subprocess.run([sys.executable, "-m", "ferrograd._stubgen"], capture_output=True,
                         text=True, check=True).stdout
    assert out == _stubgen.generate()
