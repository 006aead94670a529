//! Integer (and bool) bitwise operations and number theory: `&`, `|`, `^`, `~`, shifts, `gcd`
//! and `lcm`. Not differentiable (their results are integers); floating operands are
//! PyTorch's "not implemented" error. Each is one row of [`integer_ops!`]: the method, its
//! `try_` twin (a registry row through `api!`), PyTorch's kernel name for the error, the op on
//! one `i64` pair, and what two bools give (the logical op, or `int64` arithmetic).

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::raw;
use crate::tensor::Tensor;

/// Declares the binary integer ops: see the [module docs](self).
macro_rules! integer_ops {
    ($ops:ident; $(
        $(#[doc = $doc:expr])*
        $name:ident / $try:ident($other:ident): $kernel:literal, bools $bools:expr, |$a:ident, $b:ident| $f:expr;
    )*) => {
        api! {
            $ops = impl Tensor {
                $(
                    $(#[doc = $doc])*
                    pub fn $name / $try(&self, $other: &Tensor) -> Tensor {
                        integer_only($kernel, self, $other)?;
                        let bools: Option<fn(&Tensor, &Tensor) -> Result<Tensor>> = $bools;
                        match bools {
                            Some(logical) if self.dtype() == DType::Bool && $other.dtype() == DType::Bool => {
                                logical(self, $other)
                            }
                            _ => raw::zip_int($kernel, self, $other, |$a, $b| $f),
                        }
                    }
                )*
            }
        }
    };
}

/// PyTorch's error for a floating operand of an integer op (`"gcd_cpu" not implemented for
/// 'Float'`), naming the first floating one.
fn integer_only(kernel: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    match [a, b].into_iter().find(|t| t.dtype().is_floating_point()) {
        Some(t) => Err(not_implemented(kernel, t.dtype())),
        None => Ok(()),
    }
}

fn not_implemented(kernel: &'static str, d: DType) -> Error {
    let word = d.scalar_type();
    Error::invalid(
        kernel,
        format!("\"{kernel}_cpu\" not implemented for '{word}'"),
    )
}

/// The greatest common divisor of `|a|` and `|b|` (Euclid's; `gcd(0, 0) = 0`).
fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a as i64
}

integer_ops! {
    BITWISE_OPS;

    /// Elementwise bitwise and of integer or bool tensors, with broadcasting (`&`; logical for
    /// two bools).
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let a = Tensor::from_vec(vec![12i64, -1], &[2]);
    /// assert_eq!(a.bitwise_and(&Tensor::from_vec(vec![10i64], &[1])).to_vec::<i64>(), vec![8, 10]);
    /// let e = Tensor::new([1.0]).try_bitwise_and(&a).unwrap_err();
    /// assert_eq!(e.to_string(), "bitwise_and: \"bitwise_and_cpu\" not implemented for 'Float'");
    /// ```
    bitwise_and / try_bitwise_and(other): "bitwise_and", bools Some(Tensor::try_logical_and),
        |a, b| a & b;

    /// Elementwise bitwise or (`|`; logical for two bools).
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let a = Tensor::from_vec(vec![12i64, -16], &[2]);
    /// assert_eq!(a.bitwise_or(&Tensor::from_vec(vec![3i64], &[1])).to_vec::<i64>(), vec![15, -13]);
    /// assert!(Tensor::new([1.0]).try_bitwise_or(&a).is_err());
    /// ```
    bitwise_or / try_bitwise_or(other): "bitwise_or", bools Some(Tensor::try_logical_or),
        |a, b| a | b;

    /// Elementwise bitwise exclusive or (`^`; logical for two bools).
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let a = Tensor::from_vec(vec![12i64, 5], &[2]);
    /// assert_eq!(a.bitwise_xor(&Tensor::from_vec(vec![10i64], &[1])).to_vec::<i64>(), vec![6, 15]);
    /// assert!(Tensor::new([1.0]).try_bitwise_xor(&a).is_err());
    /// ```
    bitwise_xor / try_bitwise_xor(other): "bitwise_xor", bools Some(Tensor::try_logical_xor),
        |a, b| a ^ b;

    /// `self << other` elementwise (`torch.bitwise_left_shift`): a shift by a negative amount
    /// or by 64 or more gives 0, as PyTorch's.
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let a = Tensor::from_vec(vec![1i64, -3], &[2]);
    /// assert_eq!(a.bitwise_left_shift(&Tensor::from_vec(vec![3i64, 64], &[2])).to_vec::<i64>(), vec![8, 0]);
    /// assert!(Tensor::new([1.0]).try_bitwise_left_shift(&a).is_err());
    /// ```
    bitwise_left_shift / try_bitwise_left_shift(other): "lshift", bools None,
        |a, b| if (0..64).contains(&b) { a.wrapping_shl(b as u32) } else { 0 };

    /// `self >> other` elementwise, arithmetic (the sign fills in; `torch.bitwise_right_shift`):
    /// a negative amount or one of 64 or more gives 0 or -1, the sign, as PyTorch's.
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let a = Tensor::from_vec(vec![-8i64, 5], &[2]);
    /// assert_eq!(a.bitwise_right_shift(&Tensor::from_vec(vec![1i64, 64], &[2])).to_vec::<i64>(), vec![-4, 0]);
    /// assert!(Tensor::new([1.0]).try_bitwise_right_shift(&a).is_err());
    /// ```
    bitwise_right_shift / try_bitwise_right_shift(other): "rshift", bools None,
        |a, b| if (0..64).contains(&b) { a >> b } else if a < 0 { -1 } else { 0 };

    /// The greatest common divisor, elementwise (non-negative; `gcd(0, 0) = 0`).
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let a = Tensor::from_vec(vec![-4i64, 0, 12], &[3]);
    /// assert_eq!(a.gcd(&Tensor::from_vec(vec![6i64, 5, -18], &[3])).to_vec::<i64>(), vec![2, 5, 6]);
    /// assert!(Tensor::new([1.0]).try_gcd(&a).is_err());
    /// ```
    gcd / try_gcd(other): "gcd", bools None, |a, b| gcd(a, b);

    /// The least common multiple, elementwise (non-negative; 0 when either is 0).
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let a = Tensor::from_vec(vec![-4i64, 0, 12], &[3]);
    /// assert_eq!(a.lcm(&Tensor::from_vec(vec![6i64, 5, -18], &[3])).to_vec::<i64>(), vec![12, 0, 36]);
    /// assert!(Tensor::new([1.0]).try_lcm(&a).is_err());
    /// ```
    lcm / try_lcm(other): "lcm", bools None, |a, b| match gcd(a, b) {
        0 => 0,
        g => (a / g).wrapping_mul(b).wrapping_abs(),
    };
}

api! {
    BITWISE_UNARY = impl Tensor {
        /// Elementwise bitwise not of an integer tensor (`~`; logical not for bools). A
        /// floating tensor is PyTorch's "not implemented" error.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert_eq!(Tensor::from_vec(vec![0i64, 5], &[2]).bitwise_not().to_vec::<i64>(), vec![-1, -6]);
        /// assert_eq!(Tensor::new([true, false]).bitwise_not().to_vec::<bool>(), vec![false, true]);
        /// assert!(Tensor::new([1.0]).try_bitwise_not().is_err());
        /// ```
        pub fn bitwise_not / try_bitwise_not(&self) -> Tensor {
            match self.dtype() {
                DType::Bool => Ok(self.logical_not()),
                DType::I64 => raw::zip_int("bitwise_not", self, self, |a, _| !a),
                d => Err(not_implemented("bitwise_not", d)),
            }
        }
    }
}
