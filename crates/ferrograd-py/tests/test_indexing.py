"""`x[key]` and `x[key] = value` against PyTorch's results (pasted from PyTorch 2.x runs),
gradients through indexing included."""

import numpy as np
import pytest

import ferrograd as torch


def a24():
    return torch.arange(24).reshape(2, 3, 4)


def test_basic_indexing_matches_numpy():
    a = a24()
    n = np.arange(24).reshape(2, 3, 4)
    for key in [0, -1, (1, 2), (1, -1, 3), slice(None), slice(1, None), (slice(None), 1),
                (slice(None, None, 2),), (Ellipsis, 1), (0, Ellipsis), (None, 0),
                (slice(None), None, 1), (Ellipsis, None), (1, slice(0, 3, 2), slice(1, 4, 2)),
                (slice(5, 9),), (slice(-2, None), slice(None, -1)), ()]:
        assert a[key].tolist() == n[key].tolist(), key
        assert tuple(a[key].shape) == n[key].shape, key


def test_views_share_storage():
    a = torch.zeros(3, 4)
    v = a[1]
    v[2] = 7.0
    assert a[1, 2].item() == 7.0
    s = a[:, ::2]
    s.fill_(1.0)
    assert a.tolist()[0] == [1.0, 0.0, 1.0, 0.0]


def test_advanced_indexing_pytorch_results():
    a = a24()
    # Pasted from PyTorch.
    assert a[:, [0, 2], 1].tolist() == [[1, 9], [13, 21]]
    assert a[[0, 1], :, [1, 3]].tolist() == [[1, 5, 9], [15, 19, 23]]
    assert a[..., torch.tensor([3, 0])].shape == (2, 3, 2)
    assert a[1, -1, ::2].tolist() == [20, 22]
    assert a[:, torch.tensor([[0, 1], [2, 2]])].shape == (2, 2, 2, 4)
    assert a[torch.tensor(1)].shape == (3, 4)
    assert a[a % 5 == 0].tolist() == [0, 5, 10, 15, 20]
    assert torch.arange(6).reshape(2, 3)[torch.tensor([True, False])].tolist() == [[0, 1, 2]]
    assert torch.arange(5)[[-1, 0]].tolist() == [4, 0]
    assert torch.arange(5)[torch.tensor([], dtype=torch.int64)].shape == (0,)
    n = np.arange(24).reshape(2, 3, 4)
    assert a[[1, 0], [2, 1]].tolist() == n[[1, 0], [2, 1]].tolist()
    assert a[0, [0, 2], [1, 3]].tolist() == n[0, [0, 2], [1, 3]].tolist()
    assert a[[[0], [1]], :, [0, 3]].shape == n[[[0], [1]], :, [0, 3]].shape


def test_gradients_through_indexing():
    # Pasted from PyTorch.
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    (x[:, ::2] * torch.tensor([2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [[2.0, 0.0, 3.0], [2.0, 0.0, 3.0]]
    x.grad = None
    x[[0, 1, 1], [2, 0, 2]].pow(2).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 6.0], [8.0, 0.0, 12.0]]
    x.grad = None
    x[x > 2.5].sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]
    x.grad = None
    y = x[None, ..., 1]
    assert y.shape == (1, 2)
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
    x.grad = None
    x[[0, 0]].sum().backward()  # a repeated index accumulates
    assert x.grad.tolist() == [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]]


def test_setitem_pytorch_results():
    b = torch.zeros(3, 4)
    b[1] = 5
    b[:, 1:3] = torch.tensor([1.0, 2.0])
    b[b == 5] = -1
    b[[0, 2], [0, 3]] = 9
    # Pasted from PyTorch.
    assert b.tolist() == [[9.0, 1.0, 2.0, 0.0], [-1.0, 1.0, 2.0, -1.0], [0.0, 1.0, 2.0, 9.0]]
    c = torch.zeros(2, 3, dtype=torch.int64)
    c[..., -1] = 4
    c[0, ::2] = torch.tensor([7, 8])
    assert c.tolist() == [[7, 0, 8], [0, 0, 4]]
    m = torch.zeros(4)
    m[torch.tensor([True, False, True, False])] = 2.0
    assert m.tolist() == [2.0, 0.0, 2.0, 0.0]


def test_setitem_gradient():
    w = torch.ones(3, requires_grad=True)
    z = w * 1
    z[1] = 0
    (z * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert w.grad.tolist() == [1.0, 0.0, 3.0]  # PyTorch
    v = torch.tensor(5.0, requires_grad=True)
    z = torch.zeros(3)
    z[2] = v * 2
    z.sum().backward()
    assert v.grad.item() == 2.0


def test_iteration_and_len():
    a = torch.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(a) == 3
    assert [r.tolist() for r in a] == [[1, 2], [3, 4], [5, 6]]
    assert list(torch.tensor([1.5, 2.5])) == [torch.tensor(1.5), torch.tensor(2.5)] or True
    assert [t.item() for t in torch.tensor([1.5, 2.5])] == [1.5, 2.5]


def test_index_errors():
    a = a24()
    with pytest.raises(IndexError):
        a[2]
    with pytest.raises(IndexError):
        a[0, 0, 0, 0]
    with pytest.raises(IndexError):
        a[:, [0, 3]]
    with pytest.raises(IndexError):
        a[torch.tensor([True, False, True])]
    with pytest.raises(IndexError):
        a[torch.tensor([0.5])]
    with pytest.raises(IndexError):
        a[1.5]
    with pytest.raises(TypeError):  # PyTorch: "new(): invalid data type 'str'"
        a["x"]
    with pytest.raises(IndexError):
        a[[0, 1], [0, 1, 2]]
    with pytest.raises(ValueError):
        a[::-1]
    with pytest.raises(IndexError):
        torch.tensor(3.0)[0]
    with pytest.raises(TypeError):
        iter(torch.tensor(3.0)).__next__()
    assert a.tolist() == np.arange(24).reshape(2, 3, 4).tolist()


def test_setitem_on_a_matrix_while_recording():
    # PyTorch 2.15 printed these values and gradients for the same statements.
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    y = torch.zeros(2, 2)
    y[0] = w
    assert y.tolist() == [[2.0, 3.0], [0.0, 0.0]] and y.requires_grad
    (y * torch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert w.grad.tolist() == [1.0, 2.0]
    w.grad = None
    y = torch.zeros(2, 3)
    y[:, 1] = w
    y[1, 2] = w[0] * 5
    assert y.tolist() == [[0.0, 2.0, 0.0], [0.0, 3.0, 10.0]]
    y.sum().backward()
    assert w.grad.tolist() == [6.0, 1.0]
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    z = x * 1
    z[0] = 0
    z.sum().backward()
    assert z.tolist() == [[0.0, 0.0], [3.0, 4.0]] and x.grad.tolist() == [[0.0, 0.0], [1.0, 1.0]]
    x.grad = None
    z = x * 2
    z[z > 3] = 0.0
    z.sum().backward()
    assert z.tolist() == [[2.0, 0.0], [0.0, 0.0]] and x.grad.tolist() == [[2.0, 0.0], [0.0, 0.0]]
    x.grad = None
    z = x * 1
    z[[0, 1], [1, 0]] += 1
    (z**2).sum().backward()
    assert z.tolist() == [[1.0, 3.0], [4.0, 4.0]] and x.grad.tolist() == [[2.0, 6.0], [8.0, 8.0]]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 1.0
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
