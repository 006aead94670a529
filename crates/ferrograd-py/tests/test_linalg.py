"""`ferrograd.linalg` and the products and indexing of issue 15, from Python. Expected values
are mathematics (hand-computed products, Fibonacci powers, exponentials of diagonal and
nilpotent matrices, defining identities of the decompositions) or PyTorch's documented
semantics."""

import math

import pytest

import ferrograd as torch
from ferrograd import linalg

F64 = torch.float64


def t(data):
    return torch.tensor(data, dtype=F64)


def close(a, b, tol=1e-12):
    assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
    diff = (a - b).abs().max().item() if a.numel() else 0.0
    assert diff <= tol * (1 + (b.abs().max().item() if b.numel() else 0.0)), diff


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


def test_products_from_mathematics():
    a, b = t([[1.0, 2.0], [3.0, 4.0]]), t([[0.0, 5.0], [6.0, 7.0]])
    close(linalg.cross(t([[1.0, 0.0, 0.0]]), t([[0.0, 1.0, 0.0]])), t([[0.0, 0.0, 1.0]]))
    close(linalg.vecdot(a, b), t([10.0, 46.0]))
    close(
        torch.kron(a, b),
        t([[0, 5, 0, 10], [6, 7, 12, 14], [0, 15, 0, 20], [18, 21, 24, 28]]),
    )
    close(torch.tensordot(a, b, 1), a @ b)
    assert torch.tensordot(a, b, 2).item() == 56.0
    close(torch.tensordot(a, b, ([0], [1])), a.T @ b.T)
    close(torch.addmm(t([1.0, 1.0]), a, b, beta=2.0, alpha=-1.0), t([[-10, -17], [-22, -41]]))
    nan = torch.full((2, 2), math.nan, dtype=F64)
    close(torch.addmm(nan, a, b, beta=0.0), a @ b)
    close(t([1.0, 1.0]).addmv(a, t([1.0, 1.0])), t([4.0, 8.0]))
    close(linalg.multi_dot([t([1.0, 1.0]), a, b, t([1.0, 0.0])]), t(36.0))  # [1, 1] a = [4, 6]; [4, 6] b = [36, 62]


def test_norms_powers_and_exponentials():
    x = t([3.0, -4.0])
    assert linalg.vector_norm(x).item() == 5.0
    assert linalg.vector_norm(x, float("inf")).item() == 4.0
    assert linalg.vector_norm(x, 0).item() == 2.0
    assert linalg.norm(x, 1).item() == 7.0
    f = t([[2.0, 1.0], [1.0, 1.0]])
    close(linalg.matrix_power(f, 5), t([[89.0, 55.0], [55.0, 34.0]]))
    close(linalg.matrix_power(f, -2), t([[2.0, -3.0], [-3.0, 5.0]]), 1e-14)
    close(linalg.matrix_exp(t([[1.0, 0.0], [0.0, -2.0]])), t([[math.e, 0.0], [0.0, math.exp(-2)]]))
    close(linalg.matrix_exp(t([[0.0, 3.0], [0.0, 0.0]])), t([[1.0, 3.0], [0.0, 1.0]]))
    # d tr(exp(A)) / dA = exp(A)^T
    a = torch.randn(3, 3, dtype=F64, requires_grad=True)
    linalg.matrix_exp(a).trace().backward()
    close(a.grad, linalg.matrix_exp(a.detach()).T)
    close(linalg.inv(f) @ f, torch.eye(2, dtype=F64), 1e-14)
    assert linalg.det(f).item() == pytest.approx(1.0)
    close(linalg.solve(f, t([1.0, 0.0])), t([1.0, -1.0]), 1e-14)
    close(linalg.solve(f, t([[1.0, 0.0]]), left=False), t([[1.0, -1.0]]), 1e-14)
    close(linalg.diagonal(torch.eye(3, dtype=F64).expand(2, 3, 3)), torch.ones(2, 3, dtype=F64))


def test_advanced_indexing_ops():
    x = torch.arange(12.0, dtype=F64).reshape(3, 4)
    i, j = torch.tensor([[0, 2], [2, -1]]), torch.tensor([1, 3])
    close(x.index((i, j)), t([[1.0, 11.0], [9.0, 11.0]]))
    close(x.index((i, j)), x[i, j])
    z = torch.zeros(3, dtype=F64)
    k, v = torch.tensor([1, 1, 0]), t([1.0, 2.0, 3.0])
    close(z.index_put((k,), v), t([3.0, 2.0, 0.0]))
    close(z.index_put((k,), v, accumulate=True), t([3.0, 3.0, 0.0]))
    close(
        torch.zeros(2, 3, dtype=F64).index_copy(1, torch.tensor([2, 0]), t([[1.0, 2.0], [3.0, 4.0]])),
        t([[2.0, 0.0, 1.0], [4.0, 0.0, 3.0]]),
    )
    close(torch.ones(2, 2, dtype=F64).index_fill(0, torch.tensor([1]), 5.0), t([[1.0, 1.0], [5.0, 5.0]]))
    m = torch.tensor([True, False, True])
    close(torch.zeros(2, 3, dtype=F64).masked_scatter(m, torch.arange(1.0, 7.0, dtype=F64)), t([[1, 0, 2], [3, 0, 4]]))
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 3"):
        x.index((torch.tensor([3]),))
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones in mask"):
        torch.zeros(2, dtype=F64).masked_scatter(torch.tensor([True, True]), t([1.0]))


def test_errors_are_runtime_errors_with_pytorch_wording():
    with pytest.raises(RuntimeError, match="inputs dimension -1 must have length 3"):
        linalg.cross(torch.zeros(2), torch.zeros(2))
    with pytest.raises(RuntimeError, match="expected at least 2 tensors but got 1"):
        linalg.multi_dot([torch.zeros(2, 2)])
    with pytest.raises(RuntimeError, match="both dimension lists should have same length"):
        torch.tensordot(torch.zeros(2, 2), torch.zeros(2, 2), ([0], [0, 1]))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        linalg.vector_norm(torch.tensor([1, 2]))


def test_decompositions_satisfy_their_identities():
    a = torch.randn(2, 4, 3, dtype=F64)
    q, r = linalg.qr(a)
    close(q @ r, a)
    close(q.mT @ q, torch.eye(3, dtype=F64).expand(2, 3, 3))
    s = a.mT @ a + torch.eye(3, dtype=F64)
    l = linalg.cholesky(s)
    close(l @ l.mT, s)
    e = linalg.eigh(s)
    close(e.eigenvectors @ torch.diag_embed(e.eigenvalues) @ e.eigenvectors.mT, s, 1e-11)
    assert (e.eigenvalues[..., 1:] >= e.eigenvalues[..., :-1]).all().item()
    u = linalg.svd(a, full_matrices=False)
    close(u.U @ torch.diag_embed(u.S) @ u.Vh, a, 1e-11)
    close(linalg.svdvals(a), u.S, 1e-12)
    p = linalg.lu(a[0])
    close(p.P @ p.L @ p.U, a[0])
    sign, logabs = linalg.slogdet(s)
    close(sign * logabs.exp(), linalg.det(s), 1e-11)
    b = torch.randn(2, 4, 2, dtype=F64)
    x = linalg.lstsq(a, b).solution
    close(a.mT @ a @ x, a.mT @ b, 1e-10)  # the normal equations
    pa = linalg.pinv(a)
    close(a @ pa @ a, a, 1e-11)  # a Moore-Penrose condition
    # 2x2 values by hand: eigenvalues of [[2, 1], [1, 2]] are 1 and 3; its 2-norm is 3.
    m = t([[2.0, 1.0], [1.0, 2.0]])
    close(linalg.eigvalsh(m), t([1.0, 3.0]), 1e-14)
    assert linalg.matrix_norm(m, 2).item() == pytest.approx(3.0)
    assert linalg.matrix_norm(m, "nuc").item() == pytest.approx(4.0)
    assert linalg.matrix_norm(m, float("inf")).item() == 3.0
    assert linalg.norm(m).item() == pytest.approx(math.sqrt(10.0))
    assert linalg.cond(m).item() == pytest.approx(3.0)
    assert linalg.matrix_rank(t([[1.0, 2.0], [2.0, 4.0]])).item() == 1
    close(torch.diag_embed(t([1.0, 2.0]), offset=1), t([[0, 1, 0], [0, 0, 2], [0, 0, 0]]))


def test_decomposition_gradients_of_gauge_invariant_functions():
    from ferrograd.autograd import gradcheck

    def expm_sym(x):
        s = (x + x.mT) / 2
        e = linalg.eigh(s)
        return e.eigenvectors @ torch.diag_embed(e.eigenvalues.sin()) @ e.eigenvectors.mT

    x = torch.randn(3, 3, dtype=F64, requires_grad=True)
    assert gradcheck(expm_sym, (x,))
    assert gradcheck(lambda y: linalg.svdvals(y), (torch.randn(4, 3, dtype=F64, requires_grad=True),))
    spd = lambda y: y @ y.mT + 3 * torch.eye(3, dtype=F64)
    assert gradcheck(lambda y: linalg.cholesky(spd(y)), (torch.randn(3, 3, dtype=F64, requires_grad=True),))
    assert gradcheck(lambda y: linalg.slogdet(spd(y)).logabsdet, (torch.randn(3, 3, dtype=F64, requires_grad=True),))
    with pytest.raises(RuntimeError, match="not positive-definite"):
        linalg.cholesky(t([[1.0, 2.0], [2.0, 1.0]]))
