//! Binary ops with one operand a row repeated along leading broadcast dimensions (a bias
//! `[n]` against `[batch, n]`), which the kernel reads in place, restarting its loop at each
//! repetition. Every element is checked against the operation applied to the two values it
//! reads (mathematics: `a[i, j] op b[j]`), in both operand orders, for rows that straddle
//! the parallel chunks, rows at an offset in their storage, and size-1 dimensions inside.

use ferrograd::{DType, Tensor};

/// The values of `t` in row-major order, as f64.
fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).contiguous().to_vec::<f64>()
}

type TensorOp = fn(&Tensor, &Tensor) -> Tensor;
type ScalarOp = fn(f64, f64) -> f64;

/// Checks `x op y` (broadcast) elementwise: output element `i` against `op(x[i], y[i % len])`
/// when `y` is the row (`row_second`), or `op(x[i % len], y[i])` otherwise.
fn check(x: &Tensor, y: &Tensor, row_second: bool, dtype: DType) {
    let (xv, yv) = (values(x), values(y));
    let (full, row) = if row_second { (&xv, &yv) } else { (&yv, &xv) };
    let ops: [(&str, TensorOp, ScalarOp); 4] = [
        ("add", |a, b| a + b, |p, q| p + q),
        ("sub", |a, b| a - b, |p, q| p - q),
        ("mul", |a, b| a * b, |p, q| p * q),
        ("div", |a, b| a / b, |p, q| p / q),
    ];
    for (name, op, f) in ops {
        let got = values(&op(x, y));
        assert_eq!(got.len(), full.len(), "{name}");
        for (i, g) in got.iter().enumerate() {
            let (p, q) = (full[i], row[i % row.len()]);
            let want = if row_second { f(p, q) } else { f(q, p) };
            // Rounded once to the dtype: f32 results are the f32 rounding of the f64 value.
            let want = match dtype {
                DType::F32 => want as f32 as f64,
                _ => want,
            };
            assert_eq!(
                *g, want,
                "{name} element {i} ({dtype:?}, row second: {row_second})"
            );
        }
    }
}

/// `[rows, cols]` with entries that are exact in f32: `((7i + 3j) mod 23 - 11) / 4`, never 0
/// in the rows used as divisors below (they are shifted by 0.125).
fn grid(rows: usize, cols: usize, shift: f64) -> Vec<f64> {
    (0..rows * cols)
        .map(|x| (((7 * (x / cols) + 3 * (x % cols)) % 23) as f64 - 11.0) / 4.0 + shift)
        .collect()
}

#[test]
fn a_bias_row_against_a_batch_in_both_orders() {
    for dtype in [DType::F32, DType::F64] {
        // 100 x 1000 = 100,000 elements: parallel chunks of 32,768 end inside rows.
        for (batch, n) in [(100, 1000), (3, 64), (5, 65), (2, 4096), (300, 129)] {
            let x = Tensor::from_vec(grid(batch, n, 0.0), &[batch, n]).to_dtype(dtype);
            let b = Tensor::from_vec(grid(1, n, 0.125), &[n]).to_dtype(dtype);
            check(&x, &b, true, dtype);
            check(&b, &x, false, dtype);
        }
    }
}

#[test]
fn rows_at_an_offset_with_more_leading_and_size_one_dims() {
    let (n, inner) = (70, 3);
    // A row read from the middle of a larger storage (offset n * inner), shaped [n, 1, inner].
    let big = Tensor::from_vec(grid(3, n * inner, 0.125), &[3, n, 1, inner]).to_dtype(DType::F32);
    let row = big.select(0, 1);
    assert!(row.is_contiguous());
    let x =
        Tensor::from_vec(grid(4 * 5, n * inner, 0.0), &[4, 5, n, 1, inner]).to_dtype(DType::F32);
    check(&x, &row, true, DType::F32);
    check(&row, &x, false, DType::F32);
    // A [1, m] row against [k, 1, m]: a size-1 dimension before the broadcast one.
    let m = 200;
    let r = Tensor::from_vec(grid(1, m, 0.125), &[1, m]).to_dtype(DType::F32);
    let x = Tensor::from_vec(grid(6, m, 0.0), &[6, 1, m]).to_dtype(DType::F32);
    check(&x, &r, true, DType::F32);
}

#[test]
fn a_row_against_a_transposed_operand_and_gradients() {
    // The other operand not contiguous: the row is copied out and the general loop runs.
    let n = 96;
    let xt = Tensor::from_vec(grid(n, 8, 0.0), &[n, 8])
        .to_dtype(DType::F32)
        .t();
    let b = Tensor::from_vec(grid(1, n, 0.125), &[n]).to_dtype(DType::F32);
    check(&xt, &b, true, DType::F32);
    check(&b, &xt, false, DType::F32);
    // The gradient of a bias is the sum over the batch: sum(x * b) / db_j = sum_i x[i, j].
    let (batch, n) = (50, 300);
    let x = Tensor::from_vec(grid(batch, n, 0.0), &[batch, n]).to_dtype(DType::F64);
    let b = Tensor::from_vec(grid(1, n, 0.125), &[n])
        .to_dtype(DType::F64)
        .requires_grad_(true);
    (&x * &b).sum().backward();
    let g = values(&b.grad().unwrap());
    let xv = values(&x);
    for (j, gj) in g.iter().enumerate() {
        let want: f64 = (0..batch).map(|i| xv[i * n + j]).sum();
        assert_eq!(*gj, want);
    }
}
