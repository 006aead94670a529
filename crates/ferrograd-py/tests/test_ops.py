"""Operators and registry ops with PyTorch's dtype promotion, keywords and in-place forms.
Expected values are pasted from PyTorch 2.x runs or follow from arithmetic."""

import math
import operator

import numpy as np
import pytest

import ferrograd as torch
from ferrograd import _C


def close(a, b, tol=1e-5):
    a = a.tolist() if isinstance(a, torch.Tensor) else a
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=tol, rtol=tol)


BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
          operator.floordiv, operator.mod]


@pytest.mark.parametrize("op", BINARY, ids=lambda f: f.__name__)
def test_operators_tensor_tensor_and_numbers(op):
    a = np.array([[1.5, 2.0], [3.0, 4.5]])
    b = np.array([[2.0, 0.5], [1.5, 2.0]])
    ta, tb = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    assert close(op(ta, tb), op(a, b))
    assert close(op(ta, 2.0), op(a, 2.0))
    assert close(op(2.0, tb), op(2.0, b))
    assert close(op(ta, 3), op(a, 3))
    assert close(op(3, tb), op(3, b))
    assert op(ta, 2).dtype is torch.float64 and op(2.5, ta).dtype is torch.float64


def test_matmul_operator():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert (a @ torch.tensor([[1.0, 0.0], [1.0, 1.0]])).tolist() == [[3, 2], [7, 4]]  # PyTorch
    v = torch.tensor([1.0, 2.0])
    assert (v @ v).item() == 5.0
    m = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert (m @ v).tolist() == [5.0, 11.0] and (v @ m).tolist() == [7.0, 10.0]
    assert torch.matmul(m, m).tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert (torch.ones(5, 2, 3) @ torch.ones(3, 4)).shape == (5, 2, 4)


def test_dtype_promotion_like_pytorch():
    x = torch.tensor([1, 2, 3])
    # Pasted from PyTorch.
    assert (x * 2.5).dtype is torch.float32
    assert (x * 2).dtype is torch.int64
    assert (x + True).dtype is torch.int64
    assert (x / x).dtype is torch.float32 and (x / 2).dtype is torch.float32
    assert (2 / torch.tensor([1, 2])).tolist() == [2.0, 1.0]
    assert (x ** 2).tolist() == [1, 4, 9] and (x ** 2.0).dtype is torch.float32
    assert (2 ** torch.tensor([1, 2])).tolist() == [2, 4]
    assert (x // 2).tolist() == [0, 1, 1] and (x % 2).tolist() == [1, 0, 1]
    assert (-x).tolist() == [-1, -2, -3]
    assert (torch.tensor([True, False]) * True).dtype is torch.bool
    assert (torch.tensor([1.0], dtype=torch.float64) * torch.tensor([1.0])).dtype is torch.float64
    assert (torch.tensor([1, 2]) + torch.tensor([1.0, 2.0])).dtype is torch.float32
    assert (torch.tensor([True]) + torch.tensor([2])).dtype is torch.int64
    assert (torch.tensor([1.0], dtype=torch.float64) * 2.5).dtype is torch.float64
    assert (torch.tensor([1.0], dtype=torch.float64) + torch.tensor(1.0)).dtype is torch.float64


def test_floor_div_and_mod_signs():
    # Pasted from PyTorch.
    assert (-torch.tensor([5, -3]) // 2).tolist() == [-3, 1]
    assert (torch.tensor([-7.0, 7.0]) // 2).tolist() == [-4.0, 3.0]
    assert (-7 // torch.tensor([2.0, -2.0])).tolist() == [-4.0, 3.0]
    assert (torch.tensor([5.0, -5.0]) % -3).tolist() == [-1.0, -2.0]
    assert (torch.tensor(5) % 3.5).item() == 1.5
    assert (7 % torch.tensor([3, -3])).tolist() == [1, -2]


def test_comparisons():
    x = torch.tensor([1, 2, 3])
    # Pasted from PyTorch.
    assert (x > 1.5).tolist() == [False, True, True] and (x > 1.5).dtype is torch.bool
    assert (2 > x).tolist() == [True, False, False]
    assert (x == x).tolist() == [True, True, True]
    assert (x != 2).tolist() == [True, False, True]
    assert (1.5 <= x).tolist() == [False, True, True]
    assert (torch.tensor([1, 2]) == 1.5).tolist() == [False, False]
    assert (torch.tensor([1.5, 2.5]) > torch.tensor([2, 2])).tolist() == [False, True]
    assert (x < torch.tensor([2])).tolist() == [True, False, False]
    assert (x == "a") is False and (x != None) is True  # noqa: E711
    assert torch.equal(x, torch.tensor([1, 2, 3]))
    assert torch.allclose(torch.tensor([1.0]), torch.tensor([1.0 + 1e-9]))


def test_logical_operators_on_bool():
    a = torch.tensor([True, True, False])
    b = torch.tensor([True, False, False])
    assert (a & b).tolist() == [True, False, False]
    assert (a | b).tolist() == [True, True, False]
    assert (a ^ b).tolist() == [False, True, False]
    assert (~a).tolist() == [False, False, True]


def test_unary_operators():
    x = torch.tensor([-1.5, 2.0])
    assert (-x).tolist() == [1.5, -2.0] and (+x).tolist() == [-1.5, 2.0]
    assert abs(x).tolist() == [1.5, 2.0]


def test_gradients_of_operators():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    ((a * b + a / b - b ** 2 + 2 ** a) @ torch.tensor([1.0, 1.0])).backward()
    assert close(a.grad, [3 + 1 / 3 + 2 * math.log(2), 4 + 1 / 4 + 4 * math.log(2)])
    assert close(b.grad, [1 - 1 / 9 - 6, 2 - 2 / 16 - 8])
    a.grad = None
    (3 - a).sum().backward()
    assert a.grad.tolist() == [-1.0, -1.0]
    a.grad = None
    (1 / a).sum().backward()
    assert a.grad.tolist() == [-1.0, -0.25]


def test_inplace_operators_and_methods():
    x = torch.tensor([1.0, 2.0])
    y = x
    x += 1
    x -= torch.tensor([0.5, 0.5])
    x *= 2
    x /= 4
    assert y is x and x.tolist() == [0.75, 1.25]
    x **= 2
    assert x.tolist() == [0.5625, 1.5625]
    t = torch.tensor([1.0, 2.0])
    assert t.add_(1) is t and t.tolist() == [2.0, 3.0]
    assert t.add_(torch.tensor([1.0, 1.0]), alpha=2).tolist() == [4.0, 5.0]
    assert t.sub_(1).tolist() == [3.0, 4.0]
    assert t.mul_(torch.tensor([2.0, 0.5])).tolist() == [6.0, 2.0]
    assert t.div_(2).tolist() == [3.0, 1.0]
    assert t.clamp_(min=1.5).tolist() == [3.0, 1.5]
    assert t.exp_().tolist() == pytest.approx([math.exp(3.0), math.exp(1.5)], rel=1e-6)
    assert t.fill_(2.5).tolist() == [2.5, 2.5]
    assert t.zero_() is t and t.tolist() == [0.0, 0.0]
    assert t.copy_(torch.tensor([7.0, 8.0])).tolist() == [7.0, 8.0]
    i = torch.tensor([1, 2])
    i += 3
    assert i.tolist() == [4, 5] and i.dtype is torch.int64
    # in-place on a non-leaf keeps the gradient right
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    z = w * 2
    z.mul_(3)
    z.sum().backward()
    assert w.grad.tolist() == [6.0, 6.0]


def test_registry_ops_as_methods_and_functions():
    a = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    # Pasted from PyTorch.
    assert a.sum(dim=1, keepdim=True).tolist() == [[-1.0], [7.0]]
    assert torch.mean(a, dim=0).tolist() == [2.0, 1.0]
    assert a.norm(p=1).item() == 10.0
    assert a.norm().item() == pytest.approx(5.4772257804870605)
    assert close(torch.norm(a, p=2, dim=1), [2.2360680103302, 5.0])
    assert a.max().item() == 4.0
    m = a.max(dim=0)
    assert m.values.tolist() == [3.0, 4.0] and m.indices.tolist() == [1, 1]
    v, i = torch.max(a, 0)
    assert v.tolist() == [3.0, 4.0] and i.tolist() == [1, 1]
    assert torch.max(a, torch.zeros(2, 2)).tolist() == [[1.0, 0.0], [3.0, 4.0]]
    assert close(a.softmax(dim=1), [[0.9525741338729858, 0.04742587357759476],
                                     [0.2689414322376251, 0.7310585975646973]])
    assert torch.clamp(a, min=0, max=3).tolist() == [[1.0, 0.0], [3.0, 3.0]]
    assert a.std().item() == pytest.approx(2.6457512378692627, rel=1e-6)
    assert a.var(dim=0, unbiased=False).tolist() == [1.0, 9.0]
    assert a.prod().item() == -24.0
    assert a.cumsum(dim=1).tolist() == [[1.0, -1.0], [3.0, 7.0]]
    assert close(a.abs().sqrt(), [[1.0, 1.4142135381698608], [1.7320507764816284, 2.0]])
    assert torch.exp(torch.tensor([0.0])).tolist() == [1.0]
    assert torch.tensor([1.0, 4.0]).sqrt().tolist() == [1.0, 2.0]
    assert torch.add(torch.tensor([1.0]), torch.tensor([2.0]), alpha=3).tolist() == [7.0]
    assert torch.sub(torch.tensor([1.0]), 2).tolist() == [-1.0]
    assert torch.cat([torch.ones(1), torch.zeros(2)]).tolist() == [1.0, 0.0, 0.0]
    assert torch.stack([torch.ones(2), torch.zeros(2)], dim=1).shape == (2, 2)
    assert torch.ones(2, 3).reshape(3, 2).shape == (3, 2)
    assert torch.ones(2, 3).view(-1).shape == (6,)
    assert torch.ones(2, 3).transpose(0, 1).shape == (3, 2)
    assert torch.ones(2, 3).permute(1, 0).shape == (3, 2)
    assert torch.ones(2, 1, 3).squeeze().shape == (2, 3)
    assert torch.ones(2, 1, 3).squeeze(1).shape == (2, 3)
    assert torch.ones(3).unsqueeze(0).shape == (1, 3)
    assert torch.where(torch.tensor([True, False]), torch.tensor([1.0, 2.0]),
                       torch.tensor([3.0, 4.0])).tolist() == [1.0, 4.0]


def test_registry_metadata():
    ops = _C.ops()
    assert len(ops) > 100
    names = {op.name for op in ops}
    for n in ("exp", "sum", "matmul", "reshape", "softmax"):
        assert n in names
    exp = next(op for op in ops if op.name == "exp")
    assert exp.signature.startswith("exp(") and isinstance(exp.params, list)
    assert "exp" in exp.__doc__ and exp.returns
    assert torch.Tensor.exp.__doc__ and torch.exp.__name__ == "exp"


def test_out_keyword_refused_clearly():
    for f in (lambda: torch.add(torch.ones(2), torch.ones(2), out=torch.ones(2)),
              lambda: torch.exp(torch.ones(2), out=torch.ones(2)),
              lambda: torch.cat([torch.ones(2)], out=torch.ones(2))):
        with pytest.raises(TypeError, match="out="):
            f()
    with pytest.raises(TypeError):  # PyTorch: "TensorBase.exp() takes no keyword arguments"
        torch.ones(2).exp(out=torch.ones(2))
    # out=None is accepted as PyTorch does
    assert torch.exp(torch.zeros(1), out=None).tolist() == [1.0]


# `expr -> result` printed by PyTorch 2.x for x = [[1, -2, 3], [4, 5, -6]] (pasted): values
# rounded to 4 places, dtype and shape; tuples as (values, shape) pairs.
PYTORCH_KEYWORD_RESULTS = {'torch.sum(x, dim=(0, 1))': '(torch.float32, [5.0], ())', 'x.sum(dim=[0], keepdim=True)': '(torch.float32, [5.0, 3.0, -3.0], (1, 3))', 'x.norm(p=2, dim=1, keepdim=True)': '(torch.float32, [3.7417, 8.775], (2, 1))', 'x.norm(p=1, dim=0)': '(torch.float32, [5.0, 7.0, 9.0], (3,))', 'x.mean(dim=[0])': '(torch.float32, [2.5, 1.5, -1.5], (3,))', 'torch.max(x, dim=1, keepdim=True)[0]': '(torch.float32, [3.0, 5.0], (2, 1))', 'torch.max(x, dim=1, keepdim=True)[1]': '(torch.int64, [2, 1], (2, 1))', 'x.var(0, unbiased=False)': '(torch.float32, [2.25, 12.25, 20.25], (3,))', 'x.std(dim=0, correction=0)': '(torch.float32, [1.5, 3.5, 4.5], (3,))', 'torch.softmax(x, dim=-1)': '(torch.float32, [0.1185, 0.0059, 0.8756, 0.2689, 0.731, 0.0], (2, 3))', 'x.transpose(dim0=0, dim1=1)': '(torch.float32, [1.0, 4.0, -2.0, 5.0, 3.0, -6.0], (3, 2))', 'torch.cumsum(x, dim=1)': '(torch.float32, [1.0, -1.0, 2.0, 4.0, 9.0, 3.0], (2, 3))', 'x.prod(dim=1)': '(torch.float32, [-6.0, -120.0], (2,))', 'x.argmax(dim=1)': '(torch.int64, [2, 1], (2,))', 'x.argmin()': '(torch.int64, [5], ())', 'torch.amax(x, dim=(0, 1))': '(torch.float32, [5.0], ())', 'x.logsumexp(dim=1)': '(torch.float32, [3.1328, 5.3133], (2,))', 'torch.mean(x, 1, True)': '(torch.float32, [0.6667, 1.0], (2, 1))', 'x.squeeze(dim=0)': '(torch.float32, [1.0, -2.0, 3.0, 4.0, 5.0, -6.0], (2, 3))', 'x.unsqueeze(dim=1).shape': '[2, 1, 3]', 'torch.cat((x, x), dim=1).shape': '[2, 6]', 'torch.stack([x, x], dim=2).shape': '[2, 3, 2]', 'x.flatten(start_dim=0)': '(torch.float32, [1.0, -2.0, 3.0, 4.0, 5.0, -6.0], (6,))', 'x.clamp(min=-1, max=1)': '(torch.float32, [1.0, -1.0, 1.0, 1.0, 1.0, -1.0], (2, 3))', 'x.clamp(-1)': '(torch.float32, [1.0, -1.0, 3.0, 4.0, 5.0, -1.0], (2, 3))', 'torch.clamp(x, max=0)': '(torch.float32, [0.0, -2.0, 0.0, 0.0, 0.0, -6.0], (2, 3))', 'x.pow(exponent=2)': '(torch.float32, [1.0, 4.0, 9.0, 16.0, 25.0, 36.0], (2, 3))', 'torch.pow(2, x)': '(torch.float32, [2.0, 0.25, 8.0, 16.0, 32.0, 0.0156], (2, 3))', 'x.add(other=1, alpha=2)': '(torch.float32, [3.0, 0.0, 5.0, 6.0, 7.0, -4.0], (2, 3))', 'torch.sub(x, 1, alpha=3)': '(torch.float32, [-2.0, -5.0, 0.0, 1.0, 2.0, -9.0], (2, 3))', 'x.masked_fill(x > 0, value=0.0)': '(torch.float32, [0.0, -2.0, 0.0, 0.0, 0.0, -6.0], (2, 3))', 'torch.where(x > 0, x, 0.0)': '(torch.float32, [1.0, 0.0, 3.0, 4.0, 5.0, 0.0], (2, 3))', 'x.all(dim=1)': '(torch.bool, [True, True], (2,))', '(x > 0).any()': '(torch.bool, [True], ())', 'x.view(3, 2)': '(torch.float32, [1.0, -2.0, 3.0, 4.0, 5.0, -6.0], (3, 2))', 'x.reshape(shape=(3, 2))': '(torch.float32, [1.0, -2.0, 3.0, 4.0, 5.0, -6.0], (3, 2))', 'x.permute(dims=(1, 0))': '(torch.float32, [1.0, 4.0, -2.0, 5.0, 3.0, -6.0], (3, 2))', 'x.repeat(2, 1).shape': '[4, 3]', 'x.expand(2, 2, 3).shape': '[2, 2, 3]', 'x.split(2, dim=1)': '[([1.0, -2.0, 4.0, 5.0], (2, 2)), ([3.0, -6.0], (2, 1))]', 'x.chunk(3, dim=1)': '[([1.0, 4.0], (2, 1)), ([-2.0, 5.0], (2, 1)), ([3.0, -6.0], (2, 1))]', 'x.roll(1, dims=1)': '(torch.float32, [3.0, 1.0, -2.0, -6.0, 4.0, 5.0], (2, 3))', 'x.flip(dims=[0])': '(torch.float32, [4.0, 5.0, -6.0, 1.0, -2.0, 3.0], (2, 3))', 'x.tril(diagonal=0)': '(torch.float32, [1.0, 0.0, 0.0, 4.0, 5.0, 0.0], (2, 3))', 'x.narrow(1, 0, 2)': '(torch.float32, [1.0, -2.0, 4.0, 5.0], (2, 2))', 'x.gather(1, torch.tensor([[0], [2]]))': '(torch.float32, [1.0, -6.0], (2, 1))', 'x.index_select(1, torch.tensor([2, 0]))': '(torch.float32, [3.0, 1.0, -6.0, 4.0], (2, 2))', 'x.mul(2.5)': '(torch.float32, [2.5, -5.0, 7.5, 10.0, 12.5, -15.0], (2, 3))', "torch.div(x, 2, rounding_mode='floor')": '(torch.float32, [0.0, -1.0, 1.0, 2.0, 2.0, -3.0], (2, 3))', "torch.div(x, 4, rounding_mode='trunc')": '(torch.float32, [0.0, -0.0, 0.0, 1.0, 1.0, -1.0], (2, 3))', 'x.exp().log()': '(torch.float32, [1.0, -2.0, 3.0, 4.0, 5.0, -6.0], (2, 3))', 'x.sigmoid()': '(torch.float32, [0.7311, 0.1192, 0.9526, 0.982, 0.9933, 0.0025], (2, 3))', 'x.relu()': '(torch.float32, [1.0, 0.0, 3.0, 4.0, 5.0, 0.0], (2, 3))', 'torch.nn.functional.relu(x)': '(torch.float32, [1.0, 0.0, 3.0, 4.0, 5.0, 0.0], (2, 3))', 'torch.nn.functional.softmax(x, dim=0)': '(torch.float32, [0.0474, 0.0009, 0.9999, 0.9526, 0.9991, 0.0001], (2, 3))', 'torch.nn.functional.mse_loss(x, x * 0)': '(torch.float32, [15.1667], ())', 'torch.nn.functional.cross_entropy(x, torch.tensor([0, 2]))': '(torch.float32, [6.7231], ())'}


def _summary(r):
    if hasattr(r, "values") and hasattr(r, "indices") and not isinstance(r, torch.Tensor):
        r = (r.values, r.indices)
    if isinstance(r, torch.Tensor):
        return repr((r.dtype, [round(v, 4) if isinstance(v, float) else v
                               for v in r.reshape(-1).tolist()], tuple(r.shape)))
    if isinstance(r, tuple):
        return repr([(t.reshape(-1).tolist(), tuple(t.shape)) if isinstance(t, torch.Tensor)
                     else t for t in r])
    return repr(r)


@pytest.mark.parametrize("expr", sorted(PYTORCH_KEYWORD_RESULTS))
def test_pytorch_keywords_and_results(expr):
    x = torch.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
    assert _summary(eval(expr, {"torch": torch, "x": x})) == PYTORCH_KEYWORD_RESULTS[expr]
