"""Integer tensors keep int64 and exact values through arithmetic, bitwise operators, sums,
products and matrix products, as in PyTorch 2.15 (every expected value below is what it
printed for the same expression; values beyond 2^53 are where a float round trip loses them)."""

import pytest

import ferrograd as torch

BIG = 2**60


def ints(t):
    assert t.dtype == torch.int64, t.dtype
    return t.tolist()


def test_arithmetic_beyond_2_pow_53():
    a = torch.tensor([BIG, -7, 7, 5])
    b = torch.tensor([3, 2, -2, 1])
    assert ints(a + 1) == [BIG + 1, -6, 8, 6]
    assert ints(a + b) == [BIG + 3, -5, 5, 6]
    assert ints(a - b) == [BIG - 3, -9, 9, 4]
    assert ints(a * b) == [3 * BIG, -14, -14, 5]
    assert ints(a // b) == [384307168202282325, -4, -4, 5]
    assert ints(a // 2) == [BIG // 2, -4, 3, 2]
    assert ints(100 // b) == [33, 50, -50, 100]
    assert ints(a % b) == [1, 1, -1, 0]
    assert ints(7 % b) == [1, 1, -1, 0]
    assert ints(torch.div(a, b, rounding_mode="floor")) == [384307168202282325, -4, -4, 5]
    assert ints(torch.div(a, b, rounding_mode="trunc")) == [384307168202282325, -3, -3, 5]
    assert ints(torch.div(a, 2, rounding_mode="trunc")) == [BIG // 2, -3, 3, 2]
    assert torch.div(torch.tensor([7.5, -7.5]), 2, rounding_mode="trunc").tolist() == [3.0, -3.0]
    assert (torch.tensor([7.5, -7.5]) // 2).tolist() == [3.0, -4.0]
    assert ints(a.sum()) == BIG + 5
    assert ints(a.cumsum(0)) == [BIG, BIG - 7, BIG, BIG + 5]
    assert ints(torch.dot(a, b)) == 3458764513820540905
    assert ints(a.reshape(2, 2) @ b.reshape(2, 2)) == [
        [3458764513820540942, 2305843009213693945],
        [11, 19],
    ]
    assert ints(torch.maximum(a, b)) == [BIG, 2, 7, 5]
    assert ints(-a) == [-BIG, 7, -7, -5]
    # Printing and comparing are exact too.
    assert repr(torch.tensor([BIG + 1])) == "tensor([1152921504606846977])"
    assert (a == BIG + 1).tolist() == [False, False, False, False]
    assert (a == BIG).tolist() == [True, False, False, False]
    assert (a > BIG - 1).tolist() == [True, False, False, False]
    x = a.clone()
    x += 1
    assert ints(x) == [BIG + 1, -6, 8, 6]
    x //= 2
    assert ints(x) == [BIG // 2, -3, 4, 3]


def test_powers_clamp_and_products_stay_int64():
    a = torch.tensor([[1, -2, 3], [4, 0, -6]])
    assert ints(a**2) == [[1, 4, 9], [16, 0, 36]]
    assert ints(a.square()) == [[1, 4, 9], [16, 0, 36]]
    assert ints(a**0) == [[1, 1, 1], [1, 1, 1]]
    assert ints(2 ** torch.tensor([2, -1, 0])) == [4, 0, 1]
    assert ints(torch.tensor([3]) ** 30) == [205891132094649]
    assert ints(torch.pow(torch.tensor([2, -1, 0]), torch.tensor([2, -1, 0]))) == [4, -1, 1]
    assert (torch.tensor([2, -1]) ** 2.0).dtype == torch.float32
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed."):
        torch.tensor([2]) ** -1
    assert ints(a.clamp(-1, 2)) == [[1, -1, 2], [2, 0, -1]]
    assert ints(a.clamp(min=0)) == [[1, 0, 3], [4, 0, 0]]
    assert a.clamp(-1.5, 2).tolist() == [[1.0, -1.5, 2.0], [2.0, 0.0, -1.5]]
    assert ints(a.cumsum(1)) == [[1, -1, 2], [4, 4, -2]]
    assert ints(a.cumprod(1)) == [[1, -2, -6], [4, 0, 0]]
    assert ints(a.prod()) == 0
    assert ints(a.prod(1)) == [-6, 0]
    m = torch.tensor([True, False, True])
    assert ints(m.sum()) == 2 and ints(m.cumsum(0)) == [1, 1, 2] and ints(m.prod()) == 0
    v = torch.tensor([2, 3, 1])
    assert ints(a @ v) == [-1, 2]
    assert ints(torch.mv(a, v)) == [-1, 2]
    assert ints(a @ a.T) == [[14, -14], [-14, 52]]
    assert ints(torch.bmm(a[None], a.T[None])) == [[[14, -14], [-14, 52]]]
    assert ints(torch.addmm(a @ a.T, a, a.T)) == [[28, -28], [-28, 104]]
    assert ints(torch.tensordot(a, a, dims=([1], [1]))) == [[14, -14], [-14, 52]]
    with pytest.raises(RuntimeError):
        a @ torch.ones(3)


def test_bitwise_operators_and_number_theory():
    a = torch.tensor([[1, -2, 3], [4, 0, -6]])
    assert ints(a << 1) == [[2, -4, 6], [8, 0, -12]]
    assert ints(a & 3) == [[1, 2, 3], [0, 0, 2]]
    assert ints(a | 8) == [[9, -2, 11], [12, 8, -6]]
    assert ints(a ^ 1) == [[0, -1, 2], [5, 1, -5]]
    assert ints(~a) == [[-2, 1, -4], [-5, -1, 5]]
    b = torch.tensor([1, -8, 5, 0, -3])
    assert ints(b << 64) == [0, 0, 0, 0, 0]
    assert ints(b >> 64) == [0, -1, 0, 0, -1]
    assert ints(b >> 1) == [0, -4, 2, 0, -2]
    assert ints(1 << torch.tensor([3])) == [8]
    assert ints(5 & torch.tensor([3])) == [1]
    assert ints(torch.bitwise_and(torch.tensor([3]), 2)) == [2]
    mask = torch.tensor([True, False])
    assert (mask & True).dtype == torch.bool and (~mask).tolist() == [False, True]
    assert ints(mask << 1) == [2, 0]
    assert ints(torch.tensor([3]) & True) == [1]
    x = torch.tensor([6, 5])
    x &= 3
    assert ints(x) == [2, 1]
    x <<= 2
    assert ints(x) == [8, 4]
    g = torch.gcd(torch.tensor([0, -4, 6, 0, -12]), torch.tensor([0, 6, -4, 5, -18]))
    assert ints(g) == [0, 2, 2, 5, 6]
    l = torch.lcm(torch.tensor([0, -4, 6, 0, -12]), torch.tensor([0, 6, -4, 5, -18]))
    assert ints(l) == [0, 12, 12, 0, 36]
    for f, kernel in [
        (lambda: torch.tensor([1.0]) & 1, "bitwise_and_cpu"),
        (lambda: torch.tensor([1]) & 1.5, "bitwise_and_cpu"),
        (lambda: torch.tensor([1.0]) << 1, "lshift_cpu"),
        (lambda: torch.gcd(torch.tensor([1.0]), torch.tensor([1.0])), "gcd_cpu"),
    ]:
        with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for \'Float\''):
            f()
    with pytest.raises(TypeError, match="only implemented on integer and Boolean-type tensors"):
        ~torch.tensor([1.0])


def test_integer_division_by_zero_and_unique():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        torch.tensor([5]) // 0
    assert (torch.tensor([5.0, -5.0]) // 0).tolist() == [float("inf"), float("-inf")]
    u = torch.unique(torch.tensor([3, 1, 3, 2]))
    assert isinstance(u, torch.Tensor) and ints(u) == [1, 2, 3]
    vals, counts = torch.unique(torch.tensor([3, 1, 3, 2]), return_counts=True)
    assert ints(vals) == [1, 2, 3] and ints(counts) == [1, 1, 2]
    assert ints(torch.tensor([3, 1, 3]).unique()) == [1, 3]
