"""`torch.return_types` and the ops that return them; every expected value, repr and
gradient below was printed by PyTorch 2.15 for the same input."""

import math
import pickle

import pytest

import ferrograd as torch

NAN = float("nan")


def x():
    return torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 5.0]])


def test_values_indices_ops_return_named_tuples():
    cases = {
        "topk": (x().topk(2), [[3.0, 2.0], [5.0, 5.0]], [[0, 2], [1, 2]]),
        "sort": (x().sort(1, descending=True), [[3.0, 2.0, 1.0], [5.0, 5.0, 0.0]],
                 [[0, 2, 1], [1, 2, 0]]),
        "kthvalue": (x().kthvalue(2, 1), [2.0, 5.0], [2, 1]),
        "mode": (x().mode(1), [1.0, 5.0], [1, 2]),
        "cummax": (x().cummax(1), [[3.0, 3.0, 3.0], [0.0, 5.0, 5.0]], [[0, 0, 0], [0, 1, 2]]),
        "cummin": (torch.cummin(x(), 0), [[3.0, 1.0, 2.0], [0.0, 1.0, 2.0]],
                   [[0, 0, 0], [1, 0, 0]]),
        "median": (torch.median(x(), 1), [2.0, 5.0], [2, 1]),
        "max": (x().max(1), [3.0, 5.0], [0, 1]),
        "min": (torch.min(x(), dim=1), [1.0, 0.0], [1, 0]),
    }
    for name, (r, values, indices) in cases.items():
        assert type(r).__name__ == name and isinstance(r, tuple) and len(r) == 2
        assert r.values.tolist() == values and r.indices.tolist() == indices
        v, i = r
        assert v is r[0] is r.values and i is r[1] is r.indices
        assert repr(r) == (
            f"torch.return_types.{name}(\nvalues={r.values!r},\nindices={r.indices!r})"
        )
        assert isinstance(r, getattr(torch.return_types, name))
    assert torch.topk(x(), 2, largest=False).values.tolist() == [[1.0, 2.0], [0.0, 5.0]]
    assert torch.sort(x(), stable=True).indices.tolist() == [[1, 2, 0], [0, 1, 2]]


def test_median_keywords_and_the_whole_tensor():
    assert torch.median(x()).item() == 2.0
    r = torch.median(x(), dim=0, keepdim=True)
    assert r.values.tolist() == [[0.0, 1.0, 2.0]] and r.indices.tolist() == [[1, 0, 0]]
    r = torch.median(torch.tensor(3.0), 0)
    assert r.values.item() == 3.0 and r.indices.item() == 0 and r.values.shape == ()
    with pytest.raises(RuntimeError, match="Expected reduction dim 1 to have non-zero size"):
        torch.median(torch.zeros(2, 0), 1)


def test_nanmedian_as_pytorch():
    n = torch.tensor([[NAN, 1.0, 2.0, NAN], [NAN] * 4, [4.0, NAN, 3.0, 1.0]])
    r = torch.nanmedian(n, 1)
    assert type(r).__name__ == "nanmedian"
    v = r.values.tolist()
    assert v[0] == 1.0 and math.isnan(v[1]) and v[2] == 3.0
    assert r.indices[0].item() == 1 and r.indices[2].item() == 2
    assert n.nanmedian().item() == 2.0
    assert math.isnan(torch.nanmedian(torch.tensor([NAN] * 3)).item())
    assert math.isnan(torch.nanmedian(torch.zeros(0)).item())
    r = torch.nanmedian(torch.tensor([[2.0, 1.0, 2.0, 1.0, NAN, 2.0]]), 1)
    assert r.values.tolist() == [2.0] and r.indices.tolist() == [0]
    a = torch.tensor([1.0, NAN, 1.0, 3.0], requires_grad=True)
    y = torch.nanmedian(a)
    assert y.grad_fn.name() == "NanmedianBackward0"
    y.backward()
    assert a.grad.tolist() == [0.5, 0.0, 0.5, 0.0]
    a = torch.tensor([[1.0, NAN, 2.0, 3.0]], requires_grad=True)
    v, i = torch.nanmedian(a, 1)
    v.sum().backward()
    assert a.grad.tolist() == [[0.0, 0.0, 1.0, 0.0]] and i.tolist() == [2]
    with pytest.raises(RuntimeError, match=r"median\(\): Expected reduction dim 1"):
        torch.nanmedian(torch.zeros(2, 0), 1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        torch.nanmedian(x(), 2)


def test_aminmax_as_pytorch():
    r = torch.aminmax(x())
    assert type(r).__name__ == "aminmax" and (r.min.item(), r.max.item()) == (0.0, 5.0)
    assert repr(r) == f"torch.return_types.aminmax(\nmin={r.min!r},\nmax={r.max!r})"
    r = x().aminmax(dim=1, keepdim=True)
    assert r.min.tolist() == [[1.0], [0.0]] and r.max.tolist() == [[3.0], [5.0]]
    assert torch.aminmax(x(), keepdim=True).min.shape == (1, 1)
    r = torch.aminmax(torch.tensor(3.0), dim=0)
    assert (r.min.item(), r.max.item()) == (3.0, 3.0)
    r = torch.aminmax(torch.tensor([1, 3, 2]))
    assert r.min.dtype == torch.int64 and (r.min.item(), r.max.item()) == (1, 3)
    assert torch.aminmax(torch.zeros(2, 0), dim=0).min.shape == (0,)
    a = torch.tensor([[1.0, 5.0, 2.0, 3.0]], requires_grad=True)
    mn, mx = torch.aminmax(a, dim=1)
    (mn * 2 + mx * 3).sum().backward()
    assert a.grad.tolist() == [[2.0, 3.0, 0.0, 0.0]]
    a = torch.tensor([2.0, 2.0, 1.0, 1.0], requires_grad=True)
    mn, mx = torch.aminmax(a)
    (mn * 2 + mx * 3).backward()
    assert a.grad.tolist() == [1.5, 1.5, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="cannot compute aminmax over an empty dimension"):
        torch.aminmax(torch.zeros(0))
    with pytest.raises(RuntimeError, match="Expected reduction dim 1 to have non-zero size"):
        torch.aminmax(torch.zeros(2, 0), dim=1)
    with pytest.raises(TypeError):
        torch.aminmax(x(), 1)  # `dim` is keyword-only, as in PyTorch


def test_std_mean_and_var_mean_are_plain_tuples():
    r = torch.std_mean(x())
    assert type(r) is tuple
    assert round(r[0].item(), 4) == 2.0656 and round(r[1].item(), 4) == 2.6667
    v, m = torch.var_mean(x(), 1, keepdim=True)
    assert v.shape == (2, 1) and [round(e, 4) for e in v.reshape(-1).tolist()] == [1.0, 8.3333]
    assert [round(e, 4) for e in m.reshape(-1).tolist()] == [2.0, 3.3333]
    v, _ = torch.var_mean(x(), dim=1, correction=0)
    assert [round(e, 4) for e in v.tolist()] == [0.6667, 5.5556]
    s, _ = torch.std_mean(x(), unbiased=False)
    assert round(s.item(), 4) == 1.8856
    s, m = torch.std_mean(x(), dim=None, keepdim=True)
    assert s.shape == (1, 1) and m.shape == (1, 1)
    a = x().requires_grad_(True)
    s, m = torch.std_mean(a, 1)
    (s + m).sum().backward()
    b = x().requires_grad_(True)
    (b.std(1) + b.mean(1)).sum().backward()
    assert a.grad.tolist() == b.grad.tolist()


def test_return_type_constructor_pickle_and_fields():
    r = torch.return_types.max((1, 2))
    assert (r.values, r.indices) == (1, 2) and r == (1, 2) and r.n_fields == 2
    assert repr(r) == "torch.return_types.max(\nvalues=1,\nindices=2)"
    with pytest.raises(TypeError, match="constructor requires a sequence"):
        torch.return_types.max(1)
    with pytest.raises(TypeError, match=r"takes a 2-sequence \(3-sequence given\)"):
        torch.return_types.max((1, 2, 3))
    t = pickle.loads(pickle.dumps(x().max(0)))
    assert type(t).__name__ == "max" and t.indices.tolist() == [0, 1, 1]
    assert type(x().max(0)[0:1]) is tuple
    with pytest.raises(AttributeError):
        x().max(0).values = 1


def test_linalg_results_are_return_types():
    a = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    r = torch.linalg.svd(a)
    assert type(r).__name__ == "linalg_svd" and repr(r).startswith(
        "torch.return_types.linalg_svd(\nU="
    )
    assert isinstance(r, torch.linalg.SVDResult)
    assert type(torch.linalg.eigh(a)).__name__ == "linalg_eigh"
    assert torch.linalg.slogdet(a).sign.item() == 1.0
    assert torch.linalg.qr(a).R.shape == (2, 2)


def test_legacy_torch_linear_algebra_names():
    a = torch.tensor([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]], dtype=torch.float64)
    u, s, v = torch.svd(a)
    assert (u @ torch.diag(s) @ v.mT - a).abs().max().item() < 1e-10
    ones = torch.ones(3, 2, dtype=torch.float64)
    assert [tuple(t.shape) for t in torch.svd(ones)] == [(3, 2), (2,), (2, 2)]
    assert [tuple(t.shape) for t in torch.svd(ones, some=False)] == [(3, 3), (2,), (2, 2)]
    r = torch.svd(ones, compute_uv=False)
    assert type(r).__name__ == "svd" and r.U.abs().sum().item() == 0.0
    assert [round(e, 4) for e in torch.svd(a, compute_uv=False).S.tolist()] == [
        round(e, 4) for e in torch.linalg.svdvals(a).tolist()
    ]
    r = a.slogdet()
    assert type(r).__name__ == "slogdet" and r.sign.item() == 1.0
    assert abs(torch.logdet(a).item() - r.logabsdet.item()) < 1e-12
    assert math.isnan(torch.logdet(-a).item())
    b = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
    low = torch.linalg.cholesky(a)
    xs = torch.cholesky_solve(b, low)
    assert [round(e, 4) for e in xs.reshape(-1).tolist()] == [-0.0817, 0.5965, 1.4608]
    assert (b.cholesky_solve(low.mT, True) - xs).abs().max().item() < 1e-12
    assert (torch.pinverse(a) @ a - torch.eye(3, dtype=torch.float64)).abs().max().item() < 1e-12
    assert [round(e, 4) for e in torch.ones(2, 3).pinverse().reshape(-1).tolist()] == [0.1667] * 6
    assert a.matrix_power(2).tolist()[0] == pytest.approx([17.25, 7.1, 3.2])
    assert (torch.matrix_exp(a * 0.0) - torch.eye(3, dtype=torch.float64)).abs().max().item() == 0
    u3 = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    v3 = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert torch.cross(u3, v3).tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    assert torch.cross(u3.mT.contiguous(), v3.mT.contiguous()).tolist() == [
        [0.0, 1.0], [0.0, 0.0], [1.0, 0.0]
    ]
    assert torch.ger(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])).tolist() == [
        [3.0, 4.0], [6.0, 8.0]
    ]
    g = a.clone().requires_grad_(True)
    torch.logdet(g).backward()
    assert (g.grad - torch.linalg.inv(a).mT).abs().max().item() < 1e-12
