//! Deferred elementwise evaluation (`crate::lazy`): large elementwise results are computed when
//! first read, fused with the work they depend on. These tests check that the fused values are
//! the same bits as the eager kernels' (each op computed on pieces small enough to run at
//! once), that in-place writes, views, threads and long chains see the right values, and that
//! every derivative order through fused chains is right.

use ferrograd::{DType, Tensor};

#[path = "../benches/common/workloads.rs"]
mod workloads;

/// Large enough to be deferred (the threshold is 65,536 elements), not a multiple of the
/// block or chunk sizes.
const N: usize = 200_003;
/// Pieces this long run eagerly.
const PIECE: usize = 40_000;

fn input(n: usize, dtype: DType) -> Tensor {
    let v: Vec<f64> = (0..n)
        .map(|i| ((i as f64) * 0.618_034).sin() * 3.0 + if i % 97 == 0 { 40.0 } else { 0.0 })
        .collect();
    Tensor::new(v).to_dtype(dtype)
}

/// `f` computed on pieces of `x` that are each below the deferral threshold, concatenated.
fn eager(x: &Tensor, f: impl Fn(&Tensor) -> Tensor) -> Tensor {
    let n = x.shape()[0];
    let pieces: Vec<Tensor> = (0..n)
        .step_by(PIECE)
        .map(|s| f(&x.narrow(0, s, PIECE.min(n - s))))
        .collect();
    Tensor::cat(&pieces.iter().collect::<Vec<_>>(), 0)
}

fn bits(t: &Tensor) -> Vec<u64> {
    match t.dtype() {
        DType::F32 => t
            .to_vec::<f32>()
            .iter()
            .map(|v| v.to_bits() as u64)
            .collect(),
        _ => t.to_vec::<f64>().iter().map(|v| v.to_bits()).collect(),
    }
}

fn chain(x: &Tensor) -> Tensor {
    // Unary ops with and without fast paths, binary ops between deferred values, a constant,
    // a value used twice.
    let s = x.sin();
    let e = (&s * 0.5).exp();
    let t = x.tanh();
    let a = &(&e * &t) + &s;
    let b = &a.cos() - &(&x.abs() + 1.0).sqrt();
    &(&b * &b) / &(&t * &t).add_scalar(1.0)
}

#[test]
fn fused_values_are_the_eager_bits() {
    for dtype in [DType::F32, DType::F64] {
        let x = input(N, dtype);
        assert_eq!(bits(&chain(&x)), bits(&eager(&x, chain)), "{dtype:?}");
    }
}

#[test]
fn constants_broadcast_scalars_and_promotion() {
    let x = input(N, DType::F32);
    let half = Tensor::scalar(0.5).to_dtype(DType::F64); // 0-d f64 with f32: an f32 result
    let one = Tensor::new([1.25f32]);
    let expanded = Tensor::scalar(3.0).expand(&[N]);
    let f = |x: &Tensor| {
        let n = x.shape()[0];
        let y = &(&x.exp() * &half) + &one;
        &y - &expanded.narrow(0, 0, n)
    };
    let y = f(&x);
    assert_eq!(y.dtype(), DType::F32);
    assert_eq!(bits(&y), bits(&eager(&x, f)));
}

#[test]
fn in_place_writes_after_deferral_do_not_reach_the_result() {
    let x = input(N, DType::F32);
    let before = x.to_vec::<f32>();
    let y = x.sin();
    let z = &y * &x;
    x.add_scalar_(1.0); // x is a leaf read by pending expressions
    let want: Vec<f32> = before.iter().map(|&v| v.sin() * v).collect();
    let got = z.to_vec::<f32>();
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-6 * w.abs().max(1.0), "{g} vs {w}");
    }
    assert_eq!(x.to_vec::<f32>()[3], before[3] + 1.0);
    // A write into a pending result itself.
    let p = x.cos();
    p.mul_scalar_(2.0);
    assert_eq!(p.to_vec::<f32>()[5], x.to_vec::<f32>()[5].cos() * 2.0);
}

#[test]
fn views_of_pending_results() {
    let x = input(N, DType::F64);
    let y = x.exp();
    let v = y.narrow(0, 11, 100_000); // a part of a pending storage
    let w = v.sin();
    let want: Vec<f64> = x.to_vec::<f64>()[11..100_011]
        .iter()
        .map(|v| v.exp().sin())
        .collect();
    assert_eq!(w.to_vec::<f64>(), want);
    let t = y.reshape(&[1, N]).t(); // a transposed view of a pending result
    assert_eq!(t.shape(), &[N, 1]);
    assert_eq!(t.to_vec::<f64>()[7], x.to_vec::<f64>()[7].exp());
}

#[test]
fn intermediates_read_later_are_right() {
    let x = input(N, DType::F32);
    let e = x.exp();
    let s = &e * &x;
    let r = &s + 1.0;
    let total = r.sum().item();
    let ev = e.to_vec::<f32>(); // written out when r was computed
    let sv = s.to_vec::<f32>();
    let xv = x.to_vec::<f32>();
    for i in [0, 1, 97, N / 2, N - 1] {
        assert_eq!(ev[i], xv[i].exp());
        assert_eq!(sv[i], xv[i].exp() * xv[i]);
    }
    let want: f64 = sv.iter().map(|&v| (v + 1.0) as f64).sum();
    assert!((total - want).abs() <= 1e-5 * want.abs());
}

#[test]
fn long_chains_stay_bounded() {
    // Thousands of deferred ops in a row: expressions are cut at their size bound, so neither
    // evaluation nor dropping recurses deeply.
    let x = input(1 << 16, DType::F32);
    let mut y = x.clone();
    let mut z = x.clone();
    for _ in 0..5_000 {
        y = &(&y * 0.999) + &y.sin().mul_scalar(0.001);
    }
    for _ in 0..5_000 {
        z = eager(&z, |z| &(z * 0.999) + &z.sin().mul_scalar(0.001));
    }
    assert_eq!(bits(&y), bits(&z));
    // And a long chain that is never read, then dropped.
    let mut w = x.clone();
    for _ in 0..20_000 {
        w = w.exp().neg();
    }
    drop(w);
}

#[test]
fn read_from_many_threads() {
    let x = input(N, DType::F64);
    let y = chain(&x);
    let want = bits(&eager(&x, chain));
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..4).map(|_| s.spawn(|| bits(&y))).collect();
        for h in hs {
            assert_eq!(h.join().unwrap(), want);
        }
    });
}

#[test]
fn tanh_third_derivative_through_fused_chains() {
    for dtype in [DType::F32, DType::F64] {
        let x0 = Tensor::linspace(-7.0, 7.0, N).to_dtype(dtype);
        // The W5 workload itself (benches/common/workloads.rs): y = tanh(x), three grads with
        // create_graph.
        let third = workloads::w5_tanh3;
        let c = third(&x0);
        assert_eq!(bits(&c), bits(&eager(&x0, third)), "{dtype:?}");
        // d^3/dx^3 tanh = -2 sech^2 (1 - 3 tanh^2) = -2 (1 - t^2)(1 - 3 t^2).
        let xs = x0.to_dtype(DType::F64).to_vec::<f64>();
        let got = c.to_dtype(DType::F64).to_vec::<f64>();
        let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
        for (x, g) in xs.iter().zip(&got) {
            let t = x.tanh();
            let want = -2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t);
            assert!((g - want).abs() <= tol, "x = {x}: {g} vs {want}");
        }
    }
}

#[test]
fn gradients_accumulate_through_deferred_values() {
    let x = input(N, DType::F32).requires_grad_(true);
    for _ in 0..2 {
        (&x.sin().exp() * &x).add_scalar(1.0).sum().backward();
    }
    let g = x.grad().unwrap().to_vec::<f32>();
    let xv = x.to_vec::<f32>();
    for i in [0, 5, 97, N - 1] {
        let (s, c) = (xv[i].sin(), xv[i].cos());
        let want = 2.0 * (s.exp() * c * xv[i] + s.exp());
        assert!(
            (g[i] - want).abs() <= 1e-5 * want.abs().max(1.0),
            "{} vs {want}",
            g[i]
        );
    }
}

#[test]
fn computed_intermediates_are_reused_until_written() {
    let x = input(N, DType::F64);
    let e = x.exp();
    let a = &e + 1.0; // both inline `e`'s node
    let b = &e * 2.0;
    let c = &e * 3.0;
    a.realize(); // computes `e` too; `b` then reads it instead of computing it again
    let xv = x.to_vec::<f64>();
    let want = |k: f64| xv.iter().map(|v| v.exp() * k).collect::<Vec<f64>>();
    assert_eq!(b.to_vec::<f64>(), want(2.0));
    // A write into `e` after it was computed: `c` still computes from `x`'s values.
    e.mul_scalar_(0.0);
    assert_eq!(c.to_vec::<f64>(), want(3.0));
    assert!(e.to_vec::<f64>().iter().all(|&v| v == 0.0));
}

#[test]
fn a_held_grad_sees_later_accumulation() {
    // `.grad` accumulates in place (PyTorch): a handle taken earlier sees later backward
    // passes, also when the new gradient is deferred.
    let x = input(N, DType::F32).requires_grad_(true);
    x.sin().sum().backward();
    let held = x.grad().unwrap();
    x.exp().sum().backward();
    let xv = x.to_vec::<f32>();
    let hv = held.to_vec::<f32>();
    for i in [0, 3, 97, N - 1] {
        let want = xv[i].cos() + xv[i].exp();
        assert!(
            (hv[i] - want).abs() <= 1e-5 * want.abs().max(1.0),
            "{} vs {want}",
            hv[i]
        );
    }
}
