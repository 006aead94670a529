"""Everyday composites (`diff`, `trapezoid`, `cov`, `cdist`, `rot90`, `block_diag`, quantiles, the shrink
activations, `scaled_dot_product_attention`, the remaining losses, ...): values, gradients and
error messages against PyTorch 2.15, which printed every expected line below for the same
expression (rounded to 4 decimals; node names are compared where ferrograd records PyTorch's)."""

import ast
import math

import pytest

import ferrograd as t
import ferrograd.nn.functional as F

def r(v):
    if isinstance(v, (tuple, list)):
        return [r(a) for a in v]
    if isinstance(v, t.Tensor):
        return [round(float(a), 4) for a in v.detach().double().reshape(-1).tolist()] + [tuple(v.shape), str(v.dtype).replace("torch.", "").replace("ferrograd.", "")]
    return v
def g(f, *shapes, dt=None):
    t.manual_seed(0)
    xs = [t.tensor([[0.3, -1.2, 2.0, 0.7], [1.5, 0.1, -0.4, 0.9], [-2.0, 0.5, 1.1, -0.3]], dtype=t.float64).reshape(-1)[:int(math.prod(s))].reshape(s).clone().requires_grad_(True) for s in shapes]
    y = f(*xs)
    y.sum().backward() if y.requires_grad else None
    return r(y), [r(x.grad) for x in xs], y.grad_fn.name() if hasattr(y.grad_fn, "name") else type(y.grad_fn).__name__
cases = {
 "diff": lambda: g(lambda a: t.diff(a), (3, 4)), "diff2": lambda: g(lambda a: t.diff(a, n=2, dim=0, prepend=a[:1], append=a.exp()), (3, 4)),
 "diffbool": lambda: r(t.diff(t.tensor([True, False, False, True]))),
 "trap": lambda: g(lambda a: t.trapezoid(a), (3, 4)), "trapdx": lambda: g(lambda a: t.trapezoid(a, dx=0.5, dim=0), (3, 4)),
 "trapx": lambda: g(lambda a, b: t.trapezoid(a, b), (3, 4), (4,)), "trapz": lambda: g(lambda a: t.trapz(a, dim=0), (3, 4)),
 "ctrap": lambda: g(lambda a: t.cumulative_trapezoid(a), (3, 4)),
 "addcmul": lambda: g(lambda a, b, c: t.addcmul(a, b, c, value=0.5), (3, 4), (4,), (3, 1)),
 "addcdiv": lambda: g(lambda a, b, c: a.addcdiv(b, c, value=-2), (3, 4), (4,), (3, 1)),
 "deg": lambda: g(lambda a: t.deg2rad(a), (4,)), "rad": lambda: g(lambda a: a.rad2deg(), (4,)), "degint": lambda: r(t.deg2rad(t.tensor([180]))),
 "dist": lambda: g(lambda a, b: t.dist(a, b), (3, 4), (4,)), "dist3": lambda: g(lambda a, b: t.dist(a, b, 3), (3, 4), (4,)),
 "inner": lambda: g(lambda a, b: t.inner(a, b), (3, 4), (2, 4)), "xlog1py": lambda: r(t.special.xlog1py(t.tensor([0.0, 2.0, 1.0]), t.tensor([-1.0, 0.0, 1.0]))),
 "movedim": lambda: g(lambda a: t.movedim(a, 0, -1).exp(), (2, 3, 2)), "movedim2": lambda: r(t.movedim(t.zeros(2, 3, 4), (0, 1), (2, 0)).shape),
 "moveaxis": lambda: r(t.zeros(2, 3, 4).moveaxis(-1, 0).shape),
 "rot90": lambda: g(lambda a: t.rot90(a).exp(), (3, 4)), "rot90k": lambda: g(lambda a: a.rot90(-1, [1, 0]).exp(), (3, 4)), "rot90_2": lambda: g(lambda a: a.rot90(2).exp(), (3, 4)),
 "ri": lambda: g(lambda a: t.repeat_interleave(a, 2).exp(), (2, 3)), "ri0": lambda: g(lambda a: a.repeat_interleave(t.tensor([1, 0, 2]), dim=0).exp(), (3, 2)),
 "ri1": lambda: r(t.repeat_interleave(t.tensor([2, 1, 3]))), "ri_dim1": lambda: r(t.tensor([[1, 2], [3, 4]]).repeat_interleave(3, dim=1)),
 "a1": lambda: r(t.atleast_1d(t.tensor(1.0))), "a2": lambda: r(t.atleast_2d(t.tensor([1.0, 2.0]))), "a3": lambda: r(t.atleast_3d(t.ones(2, 3))),
 "a3m": lambda: r(t.atleast_3d(t.tensor(1.0), t.ones(2))), "diagflat": lambda: g(lambda a: t.diagflat(a, 1).exp(), (2, 2)),
 "msort": lambda: g(lambda a: t.msort(a).exp(), (3, 4)), "cov": lambda: g(lambda a: t.cov(a), (3, 4)), "cov1": lambda: g(lambda a: t.cov(a[0]), (3, 4)),
 "covw": lambda: g(lambda a, w: t.cov(a, correction=0, fweights=t.tensor([1, 2, 1, 3]), aweights=w.exp()), (3, 4), (4,)),
 "covw1": lambda: g(lambda a, w: t.cov(a, fweights=t.tensor([1, 2, 1, 3]), aweights=w.exp()), (3, 4), (4,)),
 "corr": lambda: g(lambda a: t.corrcoef(a), (3, 4)), "cdist": lambda: g(lambda a, b: t.cdist(a, b), (3, 2), (2, 2)), "cdist1": lambda: g(lambda a, b: t.cdist(a, b, p=1), (3, 2), (2, 2)),
 "cdistb": lambda: g(lambda a, b: t.cdist(a, b), (2, 3, 2), (2, 2)),
 "bd": lambda: g(lambda a, b: t.block_diag(a, b.exp(), t.tensor(3.0, dtype=t.float64)), (2, 3), (2,)),
 "cp": lambda: g(lambda a, b: t.cartesian_prod(a, b.exp()), (3,), (2,)), "cp1": lambda: r(t.cartesian_prod(t.tensor([1, 2]))),
 "dstack": lambda: g(lambda a: t.dstack([a, a.sin()]), (2, 3)), "cstack": lambda: g(lambda a, b: t.column_stack([a, b, b]), (3,), (3, 2)),
 "rstack": lambda: r(t.row_stack([t.ones(2), t.zeros(2)])),
 "tanhshrink": lambda: g(lambda a: F.tanhshrink(a), (4,)), "hardshrink": lambda: g(lambda a: F.hardshrink(a, 0.5), (3, 4)),
 "softshrink": lambda: g(lambda a: F.softshrink(a, 0.5), (3, 4)), "threshold": lambda: g(lambda a: F.threshold(a, 0.5, -3.0), (3, 4)),
 "hs_edge": lambda: g(lambda a: F.hardshrink(a * 0 + t.tensor([0.5, -0.5, 0.6, 0.0], dtype=t.float64), 0.5) * a, (4,)),
 "celu": lambda: g(lambda a: F.celu(a, 0.7), (4,)), "hardswish": lambda: g(lambda a: F.hardswish(a), (4,)), "hardsigmoid": lambda: g(lambda a: F.hardsigmoid(a), (4,)),
 "glu": lambda: g(lambda a: F.glu(a), (3, 4)), "softmin": lambda: g(lambda a: F.softmin(a, dim=1) * a, (3, 4)), "softsign": lambda: g(lambda a: F.softsign(a), (4,)),
 "relu_inplace": lambda: r(F.relu(t.tensor([-1.0, 2.0]), inplace=True)), "rrelu": lambda: g(lambda a: F.rrelu(a), (4,)),
 "pdist": lambda: g(lambda a, b: F.pairwise_distance(a, b), (3, 4), (3, 4)), "pdistk": lambda: g(lambda a, b: F.pairwise_distance(a, b, p=1, keepdim=True), (3, 4), (4,)),
 "sdpa": lambda: g(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), (3, 4), (2, 4), (2, 3)),
 "sdpac": lambda: g(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (3, 4), (3, 4), (3, 2)),
 "sdpam": lambda: g(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=t.tensor([[True, False], [True, True], [False, True]])), (3, 4), (2, 4), (2, 3)),
 "sdpas": lambda: g(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.3), (1, 3, 4), (1, 2, 4), (1, 2, 3)),
 "sml": lambda: g(lambda a: F.soft_margin_loss(a, t.tensor([[1.0, -1, 1, 1], [-1, -1, 1, -1], [1, 1, 1, -1]])), (3, 4)),
 "hel": lambda: g(lambda a: F.hinge_embedding_loss(a, t.tensor([[1.0, -1, 1, 1], [-1, -1, 1, -1], [1, 1, 1, -1]]), margin=0.8), (3, 4)),
 "pnll": lambda: g(lambda a: F.poisson_nll_loss(a, t.tensor([0.0, 1.0, 2.0, 5.0]).repeat(3)), (12,)),
 "pnllf": lambda: g(lambda a: F.poisson_nll_loss(a.exp(), t.tensor([0.0, 1.0, 2.0, 5.0]).repeat(3), log_input=False, full=True, reduction="sum"), (12,)),
 "gnll": lambda: g(lambda a, b, v: F.gaussian_nll_loss(a, b, v.exp()), (3, 4), (3, 4), (3, 4)),
 "gnll1": lambda: g(lambda a, b, v: F.gaussian_nll_loss(a, b, v.exp(), full=True, reduction="sum"), (3, 4), (3, 4), (3, 1)),
 "gnll2": lambda: g(lambda a, b, v: F.gaussian_nll_loss(a, b, v.exp() * 1e-9), (3, 4), (3, 4), (3,)),
 "cel": lambda: g(lambda a, b: F.cosine_embedding_loss(a, b, t.tensor([1.0, -1.0, 1.0]), margin=0.1), (3, 4), (3, 4)),
 "cel1": lambda: g(lambda a, b: F.cosine_embedding_loss(a, b, t.tensor(-1.0)), (4,), (4,)),
 "const": lambda: (t.pi, t.e, str(t.inf), str(t.nan)), "polygamma": lambda: r(t.polygamma(1, t.tensor([1.0, 2.0]))),
 "special": lambda: r([t.special.expit(t.tensor([0.0])), t.special.gammaln(t.tensor([3.0])), t.special.erfc(t.tensor([0.5]))]),
 "errdiff": lambda: t.diff(t.tensor(1.0)), "errrot": lambda: t.rot90(t.ones(2, 2), 1, [0, 0]),
 "errmove": lambda: t.movedim(t.ones(2, 2), (0, 0), (0, 1)), "errbd": lambda: t.block_diag(t.ones(1, 1, 1)),
 "errcdist": lambda: t.cdist(t.ones(2, 3), t.ones(2, 2)), "errinner": lambda: t.inner(t.ones(2), t.ones(3)),
 "errcp": lambda: t.cartesian_prod(t.ones(2, 2)), "errcov": lambda: t.cov(t.ones(2, 2, 2)),
 "errri": lambda: t.ones(3).repeat_interleave(t.tensor([1, 2])),
}

#: PyTorch 2.15's output for each case: `repr` of the rounded values and gradients (and the
#: node name), or the error.
EXPECTED = {
    'diff': "([-1.5, 3.2, -1.3, -1.4, -0.5, 1.3, 2.5, 0.6, -1.4, (3, 3), 'float64'], [[-1.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0, 1.0, (3, 4), 'float64']], 'SubBackward0')",
    'diff2': "([1.2, 1.3, -2.4, 0.2, -4.7, -0.9, 3.9, -1.4, 6.8499, -0.5988, 4.7891, 3.5138, -0.218, 1.0028, -13.0078, -1.8679, -7.4782, -0.2604, 9.0526, -2.1646, (5, 4), 'float64'], [[0.0, 0.0, 0.0, 0.0, -4.4817, -1.1052, -0.6703, -2.4596, 0.1353, 1.6487, 3.0042, 0.7408, (3, 4), 'float64']], 'SubBackward0')",
    'diffbool': "[1.0, 0.0, 1.0, (3,), 'bool']",
    'trap': "([1.3, 0.9, 0.45, (3,), 'float64'], [[0.5, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 0.5, (3, 4), 'float64']], 'MulBackward1')",
    'trapdx': "([0.325, -0.125, 0.575, 0.55, (4,), 'float64'], [[0.25, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, (3, 4), 'float64']], 'MulBackward1')",
    'trapx': "([0.2, -2.005, 3.165, (3,), 'float64'], [[-0.75, 0.85, 0.95, -0.65, -0.75, 0.85, 0.95, -0.65, -0.75, 0.85, 0.95, -0.65, (3, 4), 'float64'], [0.4, -1.45, -0.95, 2.0, (4,), 'float64']], 'DivBackward1')",
    'trapz': "([0.65, -0.25, 1.15, 1.1, (4,), 'float64'], [[0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, (3, 4), 'float64']], 'MulBackward1')",
    'ctrap': "([-0.45, -0.05, 1.3, 0.8, 0.65, 0.9, -0.75, 0.05, 0.45, (3, 3), 'float64'], [[1.5, 2.5, 1.5, 0.5, 1.5, 2.5, 1.5, 0.5, 1.5, 2.5, 1.5, 0.5, (3, 4), 'float64']], 'CumsumBackward0')",
    'addcmul': "([0.345, -1.38, 2.3, 0.805, 1.32, 0.82, -1.6, 0.48, -1.7, -0.7, 3.1, 0.4, (3, 4), 'float64'], [[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, (3, 4), 'float64'], [0.55, 0.55, 0.55, 0.55, (4,), 'float64'], [0.9, 0.9, 0.9, (3, 1), 'float64']], 'AddcmulBackward0')",
    'addcdiv': "([-1.7, 6.8, -11.3333, -3.9667, 2.0, -1.9, 2.9333, 2.0667, -2.3, 1.7, -0.9, -1.0, (3, 4), 'float64'], [[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, (3, 4), 'float64'], [-6.0, -6.0, -6.0, -6.0, (4,), 'float64'], [40.0, 2.5, 0.9, (3, 1), 'float64']], 'AddcdivBackward0')",
    'deg': "([0.0052, -0.0209, 0.0349, 0.0122, (4,), 'float64'], [[0.0175, 0.0175, 0.0175, 0.0175, (4,), 'float64']], 'Deg2RadBackward0')",
    'rad': "([17.1887, -68.7549, 114.5916, 40.107, (4,), 'float64'], [[57.2958, 57.2958, 57.2958, 57.2958, (4,), 'float64']], 'Rad2DegBackward0')",
    'degint': "[3.1416, (1,), 'float32']",
    'dist': "([4.3497, (), 'float64'], [[0.0, 0.0, 0.0, 0.0, 0.2759, 0.2989, -0.5518, 0.046, -0.5288, 0.3908, -0.2069, -0.2299, (3, 4), 'float64'], [0.2529, -0.6897, 0.7587, 0.1839, (4,), 'float64']], 'DistBackward0')",
    'dist3': "([3.3191, (), 'float64'], [[0.0, 0.0, 0.0, 0.0, 0.1307, 0.1534, -0.5228, 0.0036, -0.4802, 0.2623, -0.0735, -0.0908, (3, 4), 'float64'], [0.3495, -0.4157, 0.5964, 0.0871, (4,), 'float64']], 'DistBackward0')",
    'inner': "([6.02, 0.16, 0.16, 3.23, 0.79, -3.66, (3, 2), 'float64'], [[1.8, -1.1, 1.6, 1.6, 1.8, -1.1, 1.6, 1.6, 1.8, -1.1, 1.6, 1.6, (3, 4), 'float64'], [-0.2, -0.6, 2.7, 1.3, -0.2, -0.6, 2.7, 1.3, (2, 4), 'float64']], 'ViewBackward0')",
    'xlog1py': "[0.0, 0.0, 0.6931, (3,), 'float32']",
    'movedim': "([1.3499, 0.6703, 0.3012, 2.4596, 7.3891, 0.1353, 2.0138, 1.6487, 4.4817, 3.0042, 1.1052, 0.7408, (3, 2, 2), 'float64'], [[1.3499, 0.3012, 7.3891, 2.0138, 4.4817, 1.1052, 0.6703, 2.4596, 0.1353, 1.6487, 3.0042, 0.7408, (2, 3, 2), 'float64']], 'ExpBackward0')",
    'movedim2': '[3, 4, 2]',
    'moveaxis': '[4, 2, 3]',
    'rot90': "([2.0138, 2.4596, 0.7408, 7.3891, 0.6703, 3.0042, 0.3012, 1.1052, 1.6487, 1.3499, 4.4817, 0.1353, (4, 3), 'float64'], [[1.3499, 0.3012, 7.3891, 2.0138, 4.4817, 1.1052, 0.6703, 2.4596, 0.1353, 1.6487, 3.0042, 0.7408, (3, 4), 'float64']], 'ExpBackward0')",
    'rot90k': "([2.0138, 2.4596, 0.7408, 7.3891, 0.6703, 3.0042, 0.3012, 1.1052, 1.6487, 1.3499, 4.4817, 0.1353, (4, 3), 'float64'], [[1.3499, 0.3012, 7.3891, 2.0138, 4.4817, 1.1052, 0.6703, 2.4596, 0.1353, 1.6487, 3.0042, 0.7408, (3, 4), 'float64']], 'ExpBackward0')",
    'rot90_2': "([0.7408, 3.0042, 1.6487, 0.1353, 2.4596, 0.6703, 1.1052, 4.4817, 2.0138, 7.3891, 0.3012, 1.3499, (3, 4), 'float64'], [[1.3499, 0.3012, 7.3891, 2.0138, 4.4817, 1.1052, 0.6703, 2.4596, 0.1353, 1.6487, 3.0042, 0.7408, (3, 4), 'float64']], 'ExpBackward0')",
    'ri': "([1.3499, 1.3499, 0.3012, 0.3012, 7.3891, 7.3891, 2.0138, 2.0138, 4.4817, 4.4817, 1.1052, 1.1052, (12,), 'float64'], [[2.6997, 0.6024, 14.7781, 4.0275, 8.9634, 2.2103, (2, 3), 'float64']], 'ExpBackward0')",
    'ri0': "([1.3499, 0.3012, 4.4817, 1.1052, 4.4817, 1.1052, (3, 2), 'float64'], [[1.3499, 0.3012, 0.0, 0.0, 8.9634, 2.2103, (3, 2), 'float64']], 'ExpBackward0')",
    'ri1': "[0.0, 0.0, 1.0, 2.0, 2.0, 2.0, (6,), 'int64']",
    'ri_dim1': "[1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, (2, 6), 'int64']",
    'a1': "[1.0, (1,), 'float32']",
    'a2': "[1.0, 2.0, (1, 2), 'float32']",
    'a3': "[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, (2, 3, 1), 'float32']",
    'a3m': "[[1.0, (1, 1, 1), 'float32'], [1.0, 1.0, (1, 2, 1), 'float32']]",
    'diagflat': "([1.0, 1.3499, 1.0, 1.0, 1.0, 1.0, 1.0, 0.3012, 1.0, 1.0, 1.0, 1.0, 1.0, 7.3891, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0138, 1.0, 1.0, 1.0, 1.0, 1.0, (5, 5), 'float64'], [[1.3499, 0.3012, 7.3891, 2.0138, (2, 2), 'float64']], 'ExpBackward0')",
    'msort': "([0.1353, 0.3012, 0.6703, 0.7408, 1.3499, 1.1052, 3.0042, 2.0138, 4.4817, 1.6487, 7.3891, 2.4596, (3, 4), 'float64'], [[1.3499, 0.3012, 7.3891, 2.0138, 4.4817, 1.1052, 0.6703, 2.4596, 0.1353, 1.6487, 3.0042, 0.7408, (3, 4), 'float64']], 'ExpBackward0')",
    'cov': "([1.7367, -0.2617, 0.3683, -0.2617, 0.7092, -1.0975, 0.3683, -1.0975, 1.8092, (3, 3), 'float64'], [[-0.6667, -0.9333, 1.2667, 0.3333, -0.6667, -0.9333, 1.2667, 0.3333, -0.6667, -0.9333, 1.2667, 0.3333, (3, 4), 'float64']], 'SqueezeBackward0')",
    'cov1': "([1.7367, (), 'float64'], [[-0.1, -1.1, 1.0333, 0.1667, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (3, 4), 'float64']], 'SqueezeBackward0')",
    'covw': "([0.702, -0.4627, 0.5888, -0.4627, 0.5047, -0.6543, 0.5888, -0.6543, 0.9125, (3, 3), 'float64'], [[-0.3451, -0.1853, 0.8969, -0.3664, -0.3451, -0.1853, 0.8969, -0.3664, -0.3451, -0.1853, 0.8969, -0.3664, (3, 4), 'float64'], [0.2461, 0.1777, -0.0919, -0.3319, (4,), 'float64']], 'SqueezeBackward0')",
    'covw1': "([0.9896, -0.6523, 0.83, -0.6523, 0.7114, -0.9223, 0.83, -0.9223, 1.2864, (3, 3), 'float64'], [[-0.4865, -0.2613, 1.2643, -0.5165, -0.4865, -0.2613, 1.2643, -0.5165, -0.4865, -0.2613, 1.2643, -0.5165, (3, 4), 'float64'], [0.2717, 0.2057, 0.2555, -0.7328, (4,), 'float64']], 'SqueezeBackward0')",
    'corr': "([1.0, -0.2358, 0.2078, -0.2358, 1.0, -0.9689, 0.2078, -0.9689, 1.0, (3, 3), 'float64'], [[-0.1023, -0.0192, -0.0595, 0.1809, -0.06, -1.0752, 0.634, 0.5013, 0.0056, -0.6814, 0.3961, 0.2797, (3, 4), 'float64']], 'ClampBackward1')",
    'cdist': "([0.0, 2.5495, 2.5495, 0.0, 1.7692, 0.781, (3, 2), 'float64'], [[-0.6668, -0.7452, 0.6668, 0.7452, 0.0381, -0.0334, (3, 2), 'float64'], [-1.3451, -1.48, 1.307, 1.5135, (2, 2), 'float64']], 'CdistBackward0')",
    'cdist1': "([0.0, 3.6, 3.6, 0.0, 2.5, 1.1, (3, 2), 'float64'], [[-1.0, -1.0, 1.0, 1.0, 0.0, 0.0, (3, 2), 'float64'], [-2.0, -2.0, 2.0, 2.0, (2, 2), 'float64']], 'CdistBackward0')",
    'cdistb': "([0.0, 2.5495, 2.5495, 0.0, 1.7692, 0.781, 2.2136, 2.4083, 2.8601, 4.005, 1.2042, 1.3454, (2, 3, 2), 'float64'], [[-0.6668, -0.7452, 0.6668, 0.7452, 0.0381, -0.0334, -1.3128, 1.0317, -1.8029, 0.5445, -0.0046, 0.0041, (2, 3, 2), 'float64'], [-0.889, -3.7705, 3.9712, 2.2236, (2, 2), 'float64']], 'CdistBackward0')",
    'bd': "([0.3, -1.2, 2.0, 0.0, 0.0, 0.0, 0.7, 1.5, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.3499, 0.3012, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, (4, 6), 'float64'], [[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, (2, 3), 'float64'], [1.3499, 0.3012, (2,), 'float64']], 'BlockDiagBackward0')",
    'cp': "([0.3, 1.3499, 0.3, 0.3012, -1.2, 1.3499, -1.2, 0.3012, 2.0, 1.3499, 2.0, 0.3012, (6, 2), 'float64'], [[2.0, 2.0, 2.0, (3,), 'float64'], [4.0496, 0.9036, (2,), 'float64']], 'StackBackward0')",
    'cp1': "[1.0, 2.0, (2,), 'int64']",
    'dstack': "([0.3, 0.2955, -1.2, -0.932, 2.0, 0.9093, 0.7, 0.6442, 1.5, 0.9975, 0.1, 0.0998, (2, 3, 2), 'float64'], [[1.9553, 1.3624, 0.5839, 1.7648, 1.0707, 1.995, (2, 3), 'float64']], 'CatBackward0')",
    'cstack': "([0.3, 0.3, -1.2, 0.3, -1.2, -1.2, 2.0, 0.7, 2.0, 0.7, 2.0, 1.5, 0.1, 1.5, 0.1, (3, 5), 'float64'], [[1.0, 1.0, 1.0, (3,), 'float64'], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, (3, 2), 'float64']], 'CatBackward0')",
    'rstack': "[1.0, 1.0, 0.0, 0.0, (2, 2), 'float32']",
    'tanhshrink': "([0.0087, -0.3663, 1.036, 0.0956, (4,), 'float64'], [[0.0849, 0.695, 0.9293, 0.3653, (4,), 'float64']], 'SubBackward0')",
    'hardshrink': "([0.0, -1.2, 2.0, 0.7, 1.5, 0.0, 0.0, 0.9, -2.0, 0.0, 1.1, 0.0, (3, 4), 'float64'], [[0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, (3, 4), 'float64']], 'HardshrinkBackward0')",
    'softshrink': "([0.0, -0.7, 1.5, 0.2, 1.0, 0.0, 0.0, 0.4, -1.5, 0.0, 0.6, -0.0, (3, 4), 'float64'], [[0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, (3, 4), 'float64']], 'SoftshrinkBackward0')",
    'threshold': "([-3.0, -3.0, 2.0, 0.7, 1.5, -3.0, -3.0, 0.9, -3.0, -3.0, 1.1, -3.0, (3, 4), 'float64'], [[0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, (3, 4), 'float64']], 'ThresholdBackward0')",
    'hs_edge': "([0.0, -0.0, 1.2, 0.0, (4,), 'float64'], [[0.0, 0.0, 0.6, 0.0, (4,), 'float64']], 'MulBackward0')",
    'celu': "([0.3, -0.5739, 2.0, 0.7, (4,), 'float64'], [[1.0, 0.1801, 1.0, 1.0, (4,), 'float64']], 'CeluBackward0')",
    'hardswish': "([0.165, -0.36, 1.6667, 0.4317, (4,), 'float64'], [[0.6, 0.1, 1.1667, 0.7333, (4,), 'float64']], 'HardswishBackward0')",
    'hardsigmoid': "([0.55, 0.3, 0.8333, 0.6167, (4,), 'float64'], [[0.1667, 0.1667, 0.1667, 0.1667, (4,), 'float64']], 'HardsigmoidBackward0')",
    'glu': "([0.2642, -0.8018, 0.602, 0.0711, -1.5005, 0.2128, (3, 2), 'float64'], [[0.8808, 0.6682, 0.0315, -0.2661, 0.4013, 0.7109, 0.3604, 0.0206, 0.7503, 0.4256, -0.3747, 0.1222, (3, 4), 'float64']], 'GluBackward0')",
    'softmin': "([0.0474, -0.849, 0.0577, 0.0741, 0.1106, 0.0299, -0.1972, 0.1209, -1.5269, 0.0313, 0.0378, -0.0418, (3, 4), 'float64'], [[0.0048, 1.0825, -0.0482, -0.0391, -0.0321, 0.2883, 0.7218, 0.0221, 1.1455, -0.0626, -0.055, -0.0278, (3, 4), 'float64']], 'MulBackward0')",
    'softsign': "([0.2308, -0.5455, 0.6667, 0.4118, (4,), 'float64'], [[0.5917, 0.2066, 0.1111, 0.346, (4,), 'float64']], 'DivBackward0')",
    'relu_inplace': "[0.0, 2.0, (2,), 'float32']",
    'rrelu': "([0.3, -0.275, 2.0, 0.7, (4,), 'float64'], [[1.0, 0.2292, 1.0, 1.0, (4,), 'float64']], 'RreluWithNoiseBackward0')",
    'pdist': "([0.0, 0.0, 0.0, (3,), 'float64'], [[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, (3, 4), 'float64'], [-0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, (3, 4), 'float64']], 'NormBackward1')",
    'pdistk': "([0.0, 5.1, 5.9, (3, 1), 'float64'], [[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, -1.0, (3, 4), 'float64'], [-1.0, -3.0, 1.0, -1.0, (4,), 'float64']], 'NormBackward1')",
    'sdpa': "([0.3203, -1.0631, 1.9037, 0.6291, 1.0214, 0.4368, 0.339, -0.9367, 1.8147, (3, 3), 'float64'], [[0.0346, 0.0375, -0.0693, 0.0058, 0.105, 0.1138, -0.21, 0.0175, 0.0634, 0.0687, -0.1267, 0.0106, (3, 4), 'float64'], [-0.0343, -0.0005, -0.0808, -0.0831, 0.0343, 0.0005, 0.0808, 0.0831, (2, 4), 'float64'], [2.029, 2.029, 2.029, 0.971, 0.971, 0.971, (2, 3), 'float64']], 'MmBackward0')",
    'sdpac': "([0.3, -1.2, 1.6987, 0.3632, 1.4038, -0.0037, (3, 2), 'float64'], [[0.0, 0.0, 0.0, 0.0, 0.315, 0.3413, -0.63, 0.0525, -0.2014, 0.1618, -0.0957, -0.0895, (3, 4), 'float64'], [-0.2007, -0.0745, -0.0012, -0.2073, 0.382, 0.0292, -0.0985, 0.2345, -0.1813, 0.0453, 0.0997, -0.0272, (3, 4), 'float64'], [1.2612, 1.2612, 0.8318, 0.8318, 0.907, 0.907, (3, 2), 'float64']], 'MmBackward0')",
    'sdpam': "([0.3, -1.2, 2.0, 0.6291, 1.0214, 0.4368, 0.7, 1.5, 0.1, (3, 3), 'float64'], [[0.0, 0.0, 0.0, 0.0, 0.105, 0.1138, -0.21, 0.0175, 0.0, 0.0, 0.0, 0.0, (3, 4), 'float64'], [-0.1313, -0.0088, 0.035, -0.0788, 0.1313, 0.0088, -0.035, 0.0788, (2, 4), 'float64'], [1.1773, 1.1773, 1.1773, 1.8227, 1.8227, 1.8227, (2, 3), 'float64']], 'MmBackward0')",
    'sdpas': "([0.3588, -0.803, 1.7206, 0.5861, 0.7312, 0.641, 0.3833, -0.6375, 1.6042, (1, 3, 3), 'float64'], [[0.0542, 0.0587, -0.1084, 0.009, 0.088, 0.0953, -0.176, 0.0147, 0.0713, 0.0772, -0.1425, 0.0119, (1, 3, 4), 'float64'], [-0.0048, 0.0172, -0.1263, -0.0798, 0.0048, -0.0172, 0.1263, 0.0798, (1, 2, 4), 'float64'], [1.9294, 1.9294, 1.9294, 1.0706, 1.0706, 1.0706, (1, 2, 3), 'float64']], 'SqueezeBackward1')",
    'sml': "([0.7825, (), 'float64'], [[-0.0355, 0.0193, -0.0099, -0.0277, 0.0681, 0.0437, -0.0499, 0.0592, -0.0734, -0.0315, -0.0208, 0.0355, (3, 4), 'float64']], 'SoftMarginLossBackward0')",
    'hel': "([0.5, (), 'float64'], [[0.0833, -0.0833, 0.0833, 0.0833, 0.0, -0.0833, 0.0833, 0.0, 0.0833, 0.0833, 0.0833, -0.0833, (3, 4), 'float64']], 'MeanBackward0')",
    'pnll': "([1.1666, (), 'float64'], [[0.1125, -0.0582, 0.4491, -0.2489, 0.3735, 0.0088, -0.1108, -0.2117, 0.0113, 0.0541, 0.0837, -0.3549, (12,), 'float64']], 'MeanBackward0')",
    'pnllf': "([30.2676, (), 'float64'], [[1.3499, -0.6988, 5.3891, -2.9862, 4.4817, 0.1052, -1.3297, -2.5404, 0.1353, 0.6487, 1.0042, -4.2592, (12,), 'float64']], 'SumBackward0')",
    'gnll': "([0.1333, (), 'float64'], [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (3, 4), 'float64'], [-0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, (3, 4), 'float64'], [0.0417, 0.0417, 0.0417, 0.0417, 0.0417, 0.0417, 0.0417, 0.0417, 0.0417, 0.0417, 0.0417, 0.0417, (3, 4), 'float64']], 'MeanBackward0')",
    'gnll1': "([13.2273, (), 'float64'], [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (3, 4), 'float64'], [-0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, (3, 4), 'float64'], [2.0, 2.0, 2.0, (3, 1), 'float64']], 'SumBackward0')",
    'gnll2': "([-6.9078, (), 'float64'], [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (3, 4), 'float64'], [-0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, (3, 4), 'float64'], [0.0002, 0.0001, 0.0012, (3,), 'float64']], 'MeanBackward0')",
    'cel': "([0.3, (), 'float64'], [[-0.0, 0.0, -0.0, -0.0, 0.0, 0.0, -0.0, 0.0, 0.0, -0.0, -0.0, 0.0, (3, 4), 'float64'], [-0.0, 0.0, -0.0, -0.0, 0.0, 0.0, -0.0, 0.0, 0.0, -0.0, -0.0, 0.0, (3, 4), 'float64']], 'MeanBackward0')",
    'cel1': "([1.0, (), 'float64'], [[0.0, -0.0, 0.0, 0.0, (4,), 'float64'], [0.0, -0.0, 0.0, 0.0, (4,), 'float64']], 'MeanBackward0')",
    'const': "(3.141592653589793, 2.718281828459045, 'inf', 'nan')",
    'polygamma': "[1.6449, 0.6449, (2,), 'float32']",
    'special': "[[0.5, (1,), 'float32'], [0.6931, (1,), 'float32'], [0.4795, (1,), 'float32']]",
    'errdiff': 'ERR RuntimeError diff expects input to be at least one-dimensional',
    'errrot': 'ERR RuntimeError expected rotation dims to be different, but got dim0 = 0 and dim1 = 0',
    'errmove': 'ERR RuntimeError movedim: repeated dim in `source` ([0, 0])',
    'errbd': 'ERR RuntimeError torch.block_diag: Input tensors must have 2 or fewer dimensions. Input 0 has 3 dimensions',
    'errcdist': 'ERR RuntimeError X1 and X2 must have the same number of columns. X1: 3 X2: 2',
    'errinner': 'ERR RuntimeError inner() the last dimension must match on both input tensors but got shapes [2] and [3]',
    'errcp': 'ERR RuntimeError Expect a 1D vector, but got shape [2, 2]',
    'errcov': 'ERR RuntimeError cov(): expected input to have two or fewer dimensions but got an input with 3 dimensions',
    'errri': 'ERR RuntimeError repeats must have the same size as input along dim, but got repeats.size(0) = 2 and input.size(0) = 3',
}

#: Composites whose last node ferrograd names differently (both are composites there).
OTHER_NODE = {"inner", "cov", "cov1", "covw", "covw1", "sdpa", "sdpac", "sdpam", "sdpas"}


# ------------------------------------------------------------------ quantiles

xq = t.tensor([[0.3, -1.2, 2.0, 0.7], [1.5, 0.1, -0.4, 0.9], [-2.0, 0.5, 1.1, -0.3]], dtype=t.float64)
def run_q(f):
    a = xq.clone().requires_grad_(True)
    y = f(a)
    y.sum().backward()
    return [round(v, 4) for v in y.reshape(-1).tolist()], tuple(y.shape), [round(v, 4) for v in a.grad.reshape(-1).tolist()]
QUANTILE_CASES = {
 "q": lambda: run_q(lambda a: t.quantile(a, 0.3)),
 "qdim": lambda: run_q(lambda a: a.quantile(0.6, dim=1, keepdim=True)),
 "qt": lambda: run_q(lambda a: t.quantile(a, t.tensor([0.2, 0.9], dtype=t.float64), dim=0)),
 "qlow": lambda: run_q(lambda a: t.quantile(a, 0.4, dim=1, interpolation="lower")),
 "qhigh": lambda: run_q(lambda a: t.quantile(a, 0.4, dim=0, interpolation="higher")),
 "qmid": lambda: run_q(lambda a: t.quantile(a, 0.4, dim=1, interpolation="midpoint")),
 "qnear": lambda: run_q(lambda a: t.quantile(a, t.tensor([0.5, 1/6], dtype=t.float64), dim=1, interpolation="nearest")),
 "qkeep": lambda: run_q(lambda a: t.quantile(a, 0.5, keepdim=True)),
 "qt0": lambda: run_q(lambda a: t.quantile(a, t.tensor(0.5, dtype=t.float64), dim=1)),
 "nan": lambda: t.quantile(t.tensor([1.0, float('nan'), 3.0]), 0.5).item(),
 "nanq": lambda: t.nanquantile(t.tensor([[1.0, float('nan'), 3.0], [float('nan')] * 3]), 0.5, dim=1).tolist(),
 "nanqt": lambda: t.nanquantile(t.tensor([1.0, float('nan'), 3.0, 4.0]), t.tensor([0.0, 0.5, 1.0])).tolist(),
 "err1": lambda: t.quantile(xq, 1.5), "err2": lambda: t.quantile(t.tensor([]), 0.5),
 "err3": lambda: t.quantile(xq, 0.5, interpolation="cubic"), "err4": lambda: t.quantile(t.tensor([1, 2]), 0.5),
}

#: PyTorch 2.15's output for each quantile case (values, shape, gradient; or the error).
QUANTILE_EXPECTED = {
    'q': '([-0.18], (), [0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.7])',
    'qdim': '([0.62, 0.74, 0.34], (3, 1), [0.2, 0.0, 0.0, 0.8, 0.0, 0.2, 0.0, 0.8, 0.0, 0.8, 0.0, 0.2])',
    'qt': '([-1.08, -0.68, 0.2, 0.1, 1.26, 0.42, 1.82, 0.86], (2, 4), [0.6, 0.6, 0.8, 0.6, 0.8, 0.6, 0.6, 0.8, 0.6, 0.8, 0.6, 0.6])',
    'qlow': '([0.3, 0.1, -0.3], (3,), [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])',
    'qhigh': '([0.3, 0.1, 1.1, 0.7], (4,), [1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0])',
    'qmid': '([0.5, 0.5, 0.1], (3,), [0.5, 0.0, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5])',
    'qnear': '([0.7, 0.9, 0.5, -1.2, -0.4, -2.0], (2, 3), [0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0])',
    'qkeep': '([0.4], (1, 1), [0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0])',
    'qt0': '([0.5, 0.5, 0.1], (3,), [0.5, 0.0, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5, 0.0, 0.5])',
    'nan': 'nan',
    'nanq': '[2.0, nan]',
    'nanqt': '[1.0, 3.0, 4.0]',
    'err1': 'ERR RuntimeError quantile() q must be in the range [0, 1] but got 1.5',
    'err2': 'ERR RuntimeError quantile() input tensor must be non-empty',
    'err3': 'ERR RuntimeError quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, but got cubic',
    'err4': 'ERR RuntimeError quantile() input tensor must be either float or double dtype',
}


cases.update(QUANTILE_CASES)
EXPECTED.update(QUANTILE_EXPECTED)


@pytest.mark.parametrize("name", sorted(cases))
def test_against_pytorch(name):
    want = EXPECTED[name]
    try:
        got = repr(cases[name]())
    except Exception as e:  # noqa: BLE001  (the error is the expected output)
        kind, _, msg = want.partition(" ")[2].partition(" ")
        assert want.startswith("ERR"), f"{name}: unexpected {type(e).__name__}: {e}"
        assert type(e).__name__ == kind and msg[:60] in str(e), (name, str(e), want)
        return
    assert not want.startswith("ERR"), f"{name}: PyTorch raised {want}, ferrograd gave {got}"
    if got == want:
        return
    g, w = ast.literal_eval(got), ast.literal_eval(want)
    if name in OTHER_NODE:
        g, w = g[:2], w[:2]
    assert g == w, name
