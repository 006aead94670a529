//! Issue 15's sorting, selection and counting ops: exact values (from PyTorch 2.15 or from
//! the definitions), the indices chosen at ties, and where the gradient goes there.

use ferrograd::{DType, Tensor};

fn f(v: &[f64]) -> Tensor {
    Tensor::from_vec(v.to_vec(), &[v.len()])
}

fn i(v: &[i64]) -> Tensor {
    Tensor::from_vec(v.to_vec(), &[v.len()])
}

/// `d (values . w) / d x` for the values an op selects from `x`.
fn grad_of(x: &[f64], op: impl Fn(&Tensor) -> Tensor) -> Vec<f64> {
    let x = f(x).requires_grad_(true);
    let y = op(&x);
    let w = Tensor::from_vec((1..=y.numel()).map(|k| k as f64).collect(), y.shape());
    (&y * &w).sum().backward();
    x.grad().unwrap().to_vec::<f64>()
}

const TIES: [f64; 6] = [1., 3., 3., 2., 3., 1.];
const NAN: f64 = f64::NAN;

#[test]
fn sort_is_stable_at_ties_and_puts_nan_last_as_pytorch() {
    let (v, ix) = f(&TIES).sort(-1, false, false);
    assert_eq!(v.to_vec::<f64>(), vec![1., 1., 2., 3., 3., 3.]);
    assert_eq!(ix.to_vec::<i64>(), vec![0, 5, 3, 1, 2, 4]);
    assert_eq!(ix.dtype(), DType::I64);
    let (v, ix) = f(&TIES).sort(-1, true, false);
    assert_eq!(v.to_vec::<f64>(), vec![3., 3., 3., 2., 1., 1.]);
    assert_eq!(ix.to_vec::<i64>(), vec![1, 2, 4, 3, 0, 5]);
    let x = f(&[1., NAN, 0., NAN, 2.]);
    assert_eq!(
        x.argsort(-1, false, false).to_vec::<i64>(),
        vec![2, 0, 4, 1, 3]
    );
    assert_eq!(
        x.argsort(-1, true, false).to_vec::<i64>(),
        vec![1, 3, 4, 0, 2]
    );
    // Along dim 0 of a matrix, and an int64 tensor.
    let m = Tensor::from_vec(vec![3.0f64, 1., 2., 2.], &[2, 2]);
    let (v, ix) = m.sort(0, false, false);
    assert_eq!(v.to_vec::<f64>(), vec![2., 1., 3., 2.]);
    assert_eq!(ix.to_vec::<i64>(), vec![1, 0, 0, 1]);
    let (v, ix) = i(&[3, 1, 2]).sort(-1, false, false);
    assert_eq!(
        (v.to_vec::<i64>(), ix.to_vec::<i64>()),
        (vec![1, 2, 3], vec![1, 2, 0])
    );
    // 0-d.
    let (v, ix) = Tensor::from_vec(vec![5.0f64], &[]).sort(-1, false, false);
    assert_eq!((v.shape().len(), ix.to_vec::<i64>()), (0, vec![0]));
    // PyTorch: x.grad of (sort(x).values * [1..6]).sum().
    assert_eq!(
        grad_of(&TIES, |x| x.sort(-1, false, false).0),
        vec![1., 4., 5., 3., 6., 2.]
    );
    assert_eq!(
        grad_of(&TIES, |x| x.sort(-1, true, false).0),
        vec![5., 1., 2., 4., 3., 6.]
    );
}

#[test]
fn topk_and_kthvalue_values_and_the_gradient_at_the_chosen_index() {
    let x = f(&TIES);
    let (v, ix) = x.topk(3, -1, true, true);
    assert_eq!(v.to_vec::<f64>(), vec![3., 3., 3.]);
    // PyTorch leaves the order of tied indices unspecified (its CPU kernel gives 2, 4, 1);
    // ours is the stable sort's.
    assert_eq!(ix.to_vec::<i64>(), vec![1, 2, 4]);
    assert_eq!(
        grad_of(&TIES, |x| x.topk(3, -1, true, true).0),
        vec![0., 1., 2., 0., 3., 0.]
    );
    let (v, ix) = x.topk(2, -1, false, true);
    assert_eq!(
        (v.to_vec::<f64>(), ix.to_vec::<i64>()),
        (vec![1., 1.], vec![0, 5])
    );
    let (v, ix) = f(&[1., NAN, 0., NAN, 2.]).topk(2, -1, true, true);
    assert!(v.to_vec::<f64>().iter().all(|v| v.is_nan()));
    assert_eq!(ix.to_vec::<i64>(), vec![1, 3]);
    assert_eq!(
        f(&[1., NAN, 0., NAN, 2.])
            .topk(2, -1, false, true)
            .1
            .to_vec::<i64>(),
        vec![2, 0]
    );
    // kthvalue: unique k-th values as PyTorch (k = 3: 2 at index 3).
    let (v, ix) = x.kthvalue(3, -1, false);
    assert_eq!((v.item(), ix.to_vec::<i64>()), (2.0, vec![3]));
    // At ties PyTorch's quickselect: k = 1, 2, 5 give indices 5, 0, 4 (PyTorch 2.15).
    let picks: Vec<i64> = [1, 2, 5]
        .iter()
        .map(|&k| x.kthvalue(k, -1, false).1.item() as i64)
        .collect();
    assert_eq!(picks, vec![5, 0, 4]);
    let (v, ix) = f(&[1., NAN, 0., NAN, 2.]).kthvalue(4, -1, false);
    assert!(v.item().is_nan());
    assert_eq!(ix.to_vec::<i64>(), vec![1]);
    let e = x.try_kthvalue(7, -1, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "kthvalue: kthvalue(): selected number k out of range for dimension 0"
    );
    assert_eq!(
        grad_of(&TIES, |x| x.kthvalue(3, 0, true).0),
        vec![0., 0., 0., 1., 0., 0.]
    );
}

#[test]
fn median_and_mode_choose_pytorchs_indices() {
    // PyTorch 2.15: median(0) of TIES is (2, 3); of [2, 1, 2, 1] (1, 3); with NaN (nan, 1).
    let (v, ix) = f(&TIES).median_dim(0, false);
    assert_eq!((v.item(), ix.to_vec::<i64>()), (2.0, vec![3]));
    let (v, ix) = f(&[2., 1., 2., 1.]).median_dim(0, false);
    assert_eq!((v.item(), ix.to_vec::<i64>()), (1.0, vec![3]));
    let (v, ix) = f(&[1., NAN, 0., NAN, 2.]).median_dim(0, true);
    assert!(v.item().is_nan());
    assert_eq!((v.shape(), ix.to_vec::<i64>()), (&[1usize][..], vec![1]));
    assert_eq!(f(&TIES).median().item(), 2.0);
    assert_eq!(f(&[2., 1., 2., 1.]).median().item(), 1.0);
    assert!(f(&[1., NAN, 2.]).median().item().is_nan());
    assert!(f(&[]).median().item().is_nan());
    // Gradients (PyTorch): median(dim) to the chosen index; median() shared among the ties.
    assert_eq!(
        grad_of(&TIES, |x| x.median_dim(0, false).0),
        vec![0., 0., 0., 1., 0., 0.]
    );
    assert_eq!(
        grad_of(&[2., 1., 2., 1.], |x| x.median()),
        vec![0., 0.5, 0., 0.5]
    );
    // mode: the smallest most frequent value at its last occurrence.
    let (v, ix) = f(&TIES).mode(-1, false);
    assert_eq!((v.item(), ix.to_vec::<i64>()), (3.0, vec![4]));
    let (v, ix) = f(&[2., 1., 2., 1.]).mode(-1, false);
    assert_eq!((v.item(), ix.to_vec::<i64>()), (1.0, vec![3]));
    let (v, ix) = f(&[5., 4., 3.]).mode(-1, false);
    assert_eq!((v.item(), ix.to_vec::<i64>()), (3.0, vec![2]));
    assert_eq!(
        grad_of(&TIES, |x| x.mode(0, false).0),
        vec![0., 0., 0., 0., 1., 0.]
    );
    let m = Tensor::from_vec(vec![1.0f64, 1., 2., 3., 3., 3.], &[2, 3]);
    let (v, ix) = m.mode(1, false);
    assert_eq!(
        (v.to_vec::<f64>(), ix.to_vec::<i64>()),
        (vec![1., 3.], vec![1, 2])
    );
    assert!(f(&[]).try_median_dim(0, false).is_err());
}

#[test]
fn cummax_and_cummin_take_the_latest_index_and_propagate_nan() {
    let (v, ix) = f(&TIES).cummax(0);
    assert_eq!(v.to_vec::<f64>(), vec![1., 3., 3., 3., 3., 3.]);
    assert_eq!(ix.to_vec::<i64>(), vec![0, 1, 2, 2, 4, 4]);
    let (v, ix) = f(&TIES).cummin(0);
    assert_eq!(v.to_vec::<f64>(), vec![1.; 6]);
    assert_eq!(ix.to_vec::<i64>(), vec![0, 0, 0, 0, 0, 5]);
    let (v, ix) = f(&[1., NAN, 0., NAN, 2.]).cummax(0);
    assert_eq!(v.to_vec::<f64>()[0], 1.0);
    assert!(v.to_vec::<f64>()[1..].iter().all(|v| v.is_nan()));
    assert_eq!(ix.to_vec::<i64>(), vec![0, 1, 1, 3, 3]);
    assert_eq!(
        f(&[1., NAN, 0., NAN, 2.]).cummin(0).1.to_vec::<i64>(),
        vec![0, 1, 1, 3, 3]
    );
    // PyTorch: the gradient summed at the chosen indices.
    assert_eq!(
        grad_of(&TIES, |x| x.cummax(0).0),
        vec![1., 2., 7., 0., 11., 0.]
    );
    assert_eq!(
        grad_of(&TIES, |x| x.cummin(0).0),
        vec![15., 0., 0., 0., 0., 6.]
    );
}

#[test]
fn unique_matches_pytorch() {
    let out = i(&[3, 1, 2, 3, 1]).unique(true, true, true);
    assert_eq!(out.len(), 3);
    assert_eq!(out[0].to_vec::<i64>(), vec![1, 2, 3]);
    assert_eq!(out[1].to_vec::<i64>(), vec![2, 0, 1, 2, 0]);
    assert_eq!(out[2].to_vec::<i64>(), vec![2, 1, 2]);
    let m = Tensor::from_vec(vec![2.0f64, 1., 2., 5.], &[2, 2]);
    let out = m.unique(true, true, false);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].to_vec::<f64>(), vec![1., 2., 5.]);
    assert_eq!(out[0].dtype(), DType::F64);
    assert_eq!(out[1].shape(), &[2, 2]);
    assert_eq!(out[1].to_vec::<i64>(), vec![1, 0, 1, 2]);
    assert_eq!(f(&[]).unique(true, false, false)[0].shape(), &[0]);
}

#[test]
fn searchsorted_matches_pytorch() {
    let s = f(&[1., 3., 5., 7.]);
    let v = f(&[3., 6., 9., 0.]);
    assert_eq!(
        Tensor::searchsorted(&s, &v, false).to_vec::<i64>(),
        vec![1, 3, 4, 0]
    );
    assert_eq!(
        Tensor::searchsorted(&s, &v, true).to_vec::<i64>(),
        vec![2, 3, 4, 0]
    );
    let s2 = Tensor::from_vec(vec![1.0f64, 3., 5., 2., 4., 6.], &[2, 3]);
    let v2 = Tensor::from_vec(vec![3.0f64, 0., 6., 4.5], &[2, 2]);
    let r = Tensor::searchsorted(&s2, &v2, false);
    assert_eq!(
        (r.shape(), r.to_vec::<i64>()),
        (&[2usize, 2][..], vec![1, 0, 2, 2])
    );
    let e = Tensor::try_searchsorted(&Tensor::zeros(&[2, 3]), &Tensor::zeros(&[3, 1]), false)
        .unwrap_err();
    assert!(e
        .to_string()
        .contains("boundaries tensor should be 1 dimension"));
}

#[test]
fn bincount_matches_pytorch() {
    let x = i(&[1, 1, 3]);
    assert_eq!(x.bincount(None, 6).to_vec::<i64>(), vec![0, 2, 0, 1, 0, 0]);
    assert_eq!(x.bincount(None, 6).dtype(), DType::I64);
    let w = x.bincount(Some(&f(&[0.5, 1., 2.])), 0);
    assert_eq!(
        (w.dtype(), w.to_vec::<f64>()),
        (DType::F64, vec![0., 1.5, 0., 2.])
    );
    let w32 = x.bincount(Some(&Tensor::new([0.5, 1.0, 2.0])), 0);
    assert_eq!(w32.dtype(), DType::F32);
    assert_eq!(
        Tensor::from_vec(Vec::<i64>::new(), &[0])
            .bincount(None, 0)
            .shape(),
        &[0]
    );
    assert!(f(&[1.0]).try_bincount(None, 0).is_err());
    assert!(x.try_bincount(Some(&f(&[1.0])), 0).is_err());
}

#[test]
fn histc_matches_pytorch() {
    let x = Tensor::new([1.0, 2.0, 1.0, 4.0]);
    assert_eq!(x.histc(4, 0.0, 3.0).to_vec::<f32>(), vec![0., 2., 1., 0.]);
    assert_eq!(x.histc(3, 0.0, 0.0).to_vec::<f32>(), vec![2., 1., 1.]);
    assert_eq!(
        Tensor::new([2.0, 2.0]).histc(3, 0.0, 0.0).to_vec::<f32>(),
        vec![0., 2., 0.]
    );
    let y = Tensor::new([0.0, 0.5, 1.0, 1.5, 2.0, -1.0, 3.0]);
    assert_eq!(y.histc(4, 0.0, 2.0).to_vec::<f32>(), vec![1., 1., 1., 2.]);
    assert!(x.try_histc(4, 3.0, 1.0).is_err());
    assert!(i(&[1]).try_histc(4, 0.0, 1.0).is_err());
}

#[test]
fn triangle_indices_match_pytorch() {
    let t = Tensor::tril_indices(3, 4, 1);
    assert_eq!(t.shape(), &[2, 9]);
    assert_eq!(
        t.to_vec::<i64>(),
        vec![0, 0, 1, 1, 1, 2, 2, 2, 2, 0, 1, 0, 1, 2, 0, 1, 2, 3]
    );
    let t = Tensor::triu_indices(3, 4, -1);
    assert_eq!(
        t.to_vec::<i64>(),
        vec![0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 0, 1, 2, 3, 0, 1, 2, 3, 1, 2, 3]
    );
    assert_eq!(Tensor::tril_indices(0, 3, 0).shape(), &[2, 0]);
    // PyTorch 2.15: offsets beyond the matrix.
    assert_eq!(Tensor::tril_indices(3, 3, -5).shape(), &[2, 0]);
    assert_eq!(Tensor::triu_indices(2, 3, 5).shape(), &[2, 0]);
    assert_eq!(
        Tensor::tril_indices(2, 3, 7).to_vec::<i64>(),
        vec![0, 0, 0, 1, 1, 1, 0, 1, 2, 0, 1, 2]
    );
    assert_eq!(
        Tensor::triu_indices(3, 2, -1).to_vec::<i64>(),
        vec![0, 0, 1, 1, 2, 0, 1, 0, 1, 1]
    );
    assert_eq!(
        Tensor::tril_indices(4, 3, -2).to_vec::<i64>(),
        vec![2, 3, 3, 0, 0, 1]
    );
    // Counted in closed form: a tall matrix costs nothing.
    assert_eq!(
        Tensor::triu_indices(1 << 40, 1, 0).to_vec::<i64>(),
        vec![0, 0]
    );
}

#[test]
fn nonzero_and_where_match_pytorch() {
    let x = Tensor::new([[0.0, 1.0], [2.0, 0.0]]);
    let n = x.nonzero();
    assert_eq!(
        (n.shape(), n.to_vec::<i64>()),
        (&[2usize, 2][..], vec![0, 1, 1, 0])
    );
    let w = Tensor::where_cond(&x);
    assert_eq!(w.len(), 2);
    assert_eq!(
        (w[0].to_vec::<i64>(), w[1].to_vec::<i64>()),
        (vec![0, 1], vec![1, 0])
    );
    assert_eq!(Tensor::scalar(3.0).nonzero().shape(), &[1, 0]);
    assert_eq!(Tensor::scalar(0.0).nonzero().shape(), &[0, 0]);
    let b = Tensor::new([false, true, true]);
    assert_eq!(b.nonzero_tuple()[0].to_vec::<i64>(), vec![1, 2]);
}

#[test]
fn nansum_nanmean_and_take_along_dim() {
    let x = f(&[1., NAN, 2.]);
    assert_eq!(x.nansum(&[], false).item(), 3.0);
    assert_eq!(x.nanmean(&[], false).item(), 1.5);
    assert!(f(&[NAN, NAN]).nanmean(&[], false).item().is_nan());
    assert_eq!(
        grad_of(&[1., NAN, 2.], |x| x.nansum(&[], false)),
        vec![1., 0., 1.]
    );
    let m = Tensor::from_vec(vec![10.0f64, 30., 20., 5., 4., 6.], &[2, 3]);
    let ix = m.argsort(1, false, false);
    let s = m.take_along_dim(&ix, Some(1));
    assert_eq!(s.to_vec::<f64>(), vec![10., 20., 30., 4., 5., 6.]);
    // Broadcast: one row of indices for both rows.
    let r = m.take_along_dim(&Tensor::from_vec(vec![2i64, 0], &[1, 2]), Some(1));
    assert_eq!(r.to_vec::<f64>(), vec![20., 10., 6., 5.]);
    assert_eq!(
        m.take_along_dim(&i(&[5, 0]), None).to_vec::<f64>(),
        vec![6., 10.]
    );
    assert!(m.try_take_along_dim(&f(&[0.0]), None).is_err());
}

#[test]
fn nanmedian_skips_nan_as_pytorch() {
    // PyTorch 2.15: nanmedian(dim 1) of these rows is (1, nan, 3) at (1, _, 2); nanmedian()
    // of [1, nan, 1, 3] is 1 with the gradient shared by the two ones.
    let x = Tensor::from_vec(
        vec![NAN, 1., 2., NAN, NAN, NAN, NAN, NAN, 4., NAN, 3., 1.],
        &[3, 4],
    );
    let (v, ix) = x.nanmedian_dim(1, false);
    let v = v.to_vec::<f64>();
    assert_eq!((v[0], v[2]), (1.0, 3.0));
    assert!(v[1].is_nan());
    let ix = ix.to_vec::<i64>();
    assert_eq!((ix[0], ix[2]), (1, 2));
    // A NaN-only slice: NaN, at one of its indices (PyTorch's index there comes from its
    // sort's internals).
    assert!((0..4).contains(&ix[1]));
    // Ties take the stable order's element: [2, 1, 2, 1, nan, 2] -> (2, 0); ones -> (1, 1).
    let (v, ix) = f(&[2., 1., 2., 1., NAN, 2.]).nanmedian_dim(0, false);
    assert_eq!((v.item(), ix.to_vec::<i64>()), (2.0, vec![0]));
    let (v, ix) = f(&[1., 1., 1., 1.]).nanmedian_dim(0, true);
    assert_eq!((v.item(), ix.to_vec::<i64>()), (1.0, vec![1]));
    // Without NaN it is the median.
    assert_eq!(f(&TIES).nanmedian().item(), f(&TIES).median().item());
    assert_eq!(f(&[1., NAN, 1., 3.]).nanmedian().item(), 1.0);
    assert!(f(&[NAN, NAN]).nanmedian().item().is_nan());
    assert!(f(&[]).nanmedian().item().is_nan());
    let (v, ix) = Tensor::from_vec(vec![NAN], &[]).nanmedian_dim(0, false);
    assert!(v.item().is_nan() && v.shape().is_empty());
    assert_eq!(ix.to_vec::<i64>(), vec![0]);
    // Gradients (PyTorch): shared among equal elements for nanmedian(); to the index for dim.
    assert_eq!(
        grad_of(&[1., NAN, 1., 3.], |x| x.nanmedian()),
        vec![0.5, 0., 0.5, 0.]
    );
    assert_eq!(
        grad_of(&[1., NAN, 2., 3.], |x| x.nanmedian_dim(0, false).0),
        vec![0., 0., 1., 0.]
    );
    let g = f(&[1., 2.]).requires_grad_(true).nanmedian();
    assert_eq!(g.grad_fn().unwrap().name(), "NanmedianBackward0");
    let e = Tensor::zeros(&[2, 0])
        .try_nanmedian_dim(1, false)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "nanmedian: median(): Expected reduction dim 1 to have non-zero size."
    );
    let e = Tensor::zeros(&[2, 3])
        .try_nanmedian_dim(2, false)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "nanmedian: Dimension out of range (expected to be in range of [-2, 1], but got 2)"
    );
}

#[test]
fn aminmax_std_mean_and_var_mean_as_pytorch() {
    let x = Tensor::from_vec(vec![3.0f64, 1., 2., 0., 5., 5.], &[2, 3]);
    let (lo, hi) = x.aminmax(None, false);
    assert_eq!((lo.item(), hi.item()), (0.0, 5.0));
    let (lo, hi) = x.aminmax(Some(1), true);
    assert_eq!(
        (lo.shape(), hi.shape()),
        (&[2usize, 1][..], &[2usize, 1][..])
    );
    assert_eq!(
        (lo.to_vec::<f64>(), hi.to_vec::<f64>()),
        (vec![1., 0.], vec![3., 5.])
    );
    let (lo, hi) = x.aminmax(None, true);
    assert_eq!(lo.shape(), &[1, 1]);
    assert_eq!(hi.to_vec::<f64>(), vec![5.0]);
    let (lo, hi) = Tensor::from_vec(vec![3.0f64], &[]).aminmax(Some(0), false);
    assert_eq!((lo.item(), hi.item()), (3.0, 3.0));
    let (lo, hi) = i(&[1, 3, 2]).aminmax(None, false);
    assert_eq!(
        (lo.dtype(), lo.to_vec::<i64>(), hi.to_vec::<i64>()),
        (DType::I64, vec![1], vec![3])
    );
    let (lo, _) = Tensor::zeros(&[2, 0]).aminmax(Some(0), false);
    assert_eq!(lo.shape(), &[0]);
    // PyTorch: d(2 min + 3 max) of [1, 5, 2, 3] and of the ties [2, 2, 1, 1].
    assert_eq!(
        grad_of(&[1., 5., 2., 3.], |x| {
            let (lo, hi) = x.aminmax(Some(0), false);
            &lo + &hi.mul_scalar(1.5)
        }),
        vec![1., 1.5, 0., 0.]
    );
    assert_eq!(
        grad_of(&[2., 2., 1., 1.], |x| {
            let (lo, hi) = x.aminmax(None, false);
            &lo.mul_scalar(2.0) + &hi.mul_scalar(3.0)
        }),
        vec![1.5, 1.5, 1., 1.]
    );
    let e = Tensor::zeros(&[0]).try_aminmax(None, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "aminmax: aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
    );
    let e = Tensor::zeros(&[2, 0])
        .try_aminmax(Some(1), false)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "aminmax: aminmax: Expected reduction dim 1 to have non-zero size."
    );
    let e = x.try_aminmax(Some(2), false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "aminmax: Dimension out of range (expected to be in range of [-2, 1], but got 2)"
    );
    // PyTorch 2.15: std_mean(x) = (2.0656, 2.6667); var_mean(x, 1, keepdim) =
    // ([[1], [8.3333]], [[2], [3.3333]]); var_mean(x, 1, correction=0) = ([0.6667, 5.5556], ..).
    let (s, m) = x.std_mean(&[], 1.0, false);
    assert!((s.item() - 2.065591117977289).abs() < 1e-12);
    assert!((m.item() - 8.0 / 3.0).abs() < 1e-12);
    let (v, m) = x.var_mean(&[1], 1.0, true);
    assert_eq!(v.shape(), &[2, 1]);
    let v = v.to_vec::<f64>();
    assert!((v[0] - 1.0).abs() < 1e-12 && (v[1] - 25.0 / 3.0).abs() < 1e-12);
    assert_eq!(m.to_vec::<f64>()[0], 2.0);
    let (v, _) = x.var_mean(&[1], 0.0, false);
    assert!((v.to_vec::<f64>()[1] - 50.0 / 9.0).abs() < 1e-12);
    let (v, m) = i(&[1, 2, 3, 4]).var_mean(&[], 0.0, false);
    assert_eq!((v.item(), m.item()), (1.25, 2.5));
}
