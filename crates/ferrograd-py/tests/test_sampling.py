"""In-place random fills (`uniform_`, `normal_`, ... as `nn.init` uses them), `Tensor.type`
and the legacy `autograd.Variable`: supports, moments (loose bounds, many samples: the expected
values are the distributions' own), dtypes, and PyTorch's refusal on a leaf that requires
grad."""

import pytest

import ferrograd as torch

N = 20000


def test_samplers_have_their_distributions():
    torch.manual_seed(0)
    w = torch.empty(N, dtype=torch.float64)
    w.uniform_(-2, 3)
    assert w.min().item() >= -2 and w.max().item() < 3 and abs(w.mean().item() - 0.5) < 0.05
    w.normal_(1.0, 2.0)
    assert abs(w.mean().item() - 1.0) < 0.06 and abs(w.std().item() - 2.0) < 0.06
    w.log_normal_(0.0, 0.5)
    assert w.min().item() > 0 and abs(w.log().mean().item()) < 0.02
    w.exponential_(2.0)
    assert w.min().item() >= 0 and abs(w.mean().item() - 0.5) < 0.02
    w.cauchy_(1.0, 0.5)
    assert abs(w.median().item() - 1.0) < 0.03
    w.bernoulli_(0.3)
    assert set(w.unique().tolist()) == {0.0, 1.0} and abs(w.mean().item() - 0.3) < 0.02
    w.geometric_(0.5)
    assert w.min().item() == 1.0 and abs(w.mean().item() - 2.0) < 0.05
    w.random_(0, 5)
    assert set(w.unique().tolist()) == {0.0, 1.0, 2.0, 3.0, 4.0}
    w.random_(3)
    assert set(w.unique().tolist()) == {0.0, 1.0, 2.0}
    ints = torch.empty(100, dtype=torch.int64).random_(-3, 3)
    assert ints.dtype == torch.int64 and ints.min().item() >= -3 and ints.max().item() < 3
    assert torch.empty(4).uniform_().dtype == torch.float32


def test_samplers_refuse_a_leaf_that_requires_grad_outside_no_grad():
    p = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        p.uniform_()
    with torch.no_grad():
        assert p.normal_() is p
    assert p.requires_grad and p.grad_fn is None
    with pytest.raises(RuntimeError, match="expects 'from' to be less than 'to'"):
        torch.empty(2).random_(3, 1)


def test_type():
    x = torch.ones(2)
    assert x.type() == "torch.FloatTensor"
    assert x.type(torch.float64).dtype == torch.float64
    assert x.type("torch.LongTensor").tolist() == [1, 1]
    assert torch.tensor([True]).type() == "torch.BoolTensor"
    with pytest.raises(ValueError):
        x.type("torch.HalfTensor")


def test_legacy_variable():
    from ferrograd.autograd import Variable

    t = torch.ones(2)
    x = Variable(t, requires_grad=True)
    assert x is not t and x.requires_grad and not t.requires_grad and x.is_leaf
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(TypeError):
        Variable([1.0])
