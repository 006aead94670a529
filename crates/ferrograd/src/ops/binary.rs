//! Elementwise binary primitives, declared as rows of one form ([`binary_ops!`]).
//!
//! # The binary form
//!
//! One row declares everything about a primitive with two tensor operands: the public method
//! and its `try_` twin (through `api!`, so it is a registry row too), PyTorch's node name and
//! the op's name in error messages, which operands the backward keeps, the forward on one
//! element pair and the backward rule. [`binary`] does the rest once for every row:
//! broadcasting (and its error, in PyTorch's wording), dtype promotion (a bool or integer
//! operand of a floating result is saved in the result's dtype), the typed saved handles, and
//! the JVP (each input's Jacobian is diagonal after broadcasting, so the backward rule applied
//! to an aligned tangent is its term). Adding `copysign` would be one row:
//!
//! ```text
//! binary_ops! {
//!     COPYSIGN_OPS;
//!     /// `|self|` with the sign of `other`.
//!     ///
//!     /// ```
//!     /// let y = ferrograd::Tensor::new([2.0]).copysign(&ferrograd::Tensor::new([-1.0]));
//!     /// assert_eq!(y.to_vec::<f32>(), vec![-2.0]);
//!     /// ```
//!     pub fn copysign / try_copysign(&self, other: &Tensor)
//!         -> Copysign("CopysignBackward0", "copysign")
//!         saves |n| [n[0], false],
//!         |a, b| a.abs() * if b.is_sign_negative() { -T::one() } else { T::one() },
//!         |a, _b, g, n| [a.map(|a| g * &a.sign() /* .. */), n[1].then(|| g.zeros_like())];
//! }
//! ```
//!
//! The parts of a row:
//! - `pub fn name / try_name(&self, other: &Tensor)`: the twins (the second operand keeps
//!   PyTorch's name, `other` or `exponent`); rows without `pub` (`fn name(a, b)`, internal
//!   primitives such as the backward of tanh, `fn name(g, y, param: Type)` with scalar
//!   fields in scope in both closures) give a crate-internal function instead;
//! - `-> Struct("NodeBackward0", "op")`: the primitive's type, PyTorch's node name and the name
//!   in error messages;
//! - optional `pre check,`: a function `check(op, a, b) -> Result<Option<Tensor>>` run first:
//!   an `Err` is returned as it is, `Some(a)` replaces the first operand (true division's
//!   integer-to-float promotion, the integer `ZeroDivisionError`);
//! - `saves |needs| [bool; 2]`: which operands the backward keeps, given which inputs need a
//!   gradient;
//! - `|a, b| ..`: the forward on one element pair, generic over `T: Float`;
//! - `|a, b, g, needs| [Option<Tensor>; 2]`: the gradients (at the broadcast shape; the engine
//!   reduces them), from the kept operands (`Option<&Tensor>`, `None` if not kept) and the
//!   incoming gradient `g`;
//! - optional `, int |a, b| ..`: the op on one `i64` pair, for ops whose integer result is an
//!   integer (`add`, `mul`, `remainder`, ...): an `int64` result is computed in `i64`, exactly
//!   (wrapping on overflow, as PyTorch's); without it, integers go through `f64`.

// `add`, `neg`, `eq`, ... are inherent methods taking references (the `std::ops` operators,
// in operators.rs, call them); their names are PyTorch's.
#![allow(clippy::should_implement_trait)]

use crate::dtype::Float;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Declares elementwise binary primitives, one row each: see the [module docs](self).
macro_rules! binary_ops {
    // One primitive: its type and its `Binary` impl.
    (@prim $op:ident, $node:literal, $opname:literal, [$($p:ident: $t:ty),*],
     |$n:pat_param| $saves:expr,
     |$a:ident, $b:ident| $f:expr,
     |$sa:pat_param, $sb:pat_param, $g:pat_param, $nd:pat_param| $df:expr
     $(, int |$ia:ident, $ib:ident| $ie:expr)?) => {
        #[doc = concat!("The binary primitive `", $opname, "` (`", $node, "`).")]
        #[derive(Clone, Copy)]
        pub(crate) struct $op {
            $($p: $t,)*
        }
        impl $crate::ops::Binary for $op {
            const NAME: &'static str = $node;
            const OP: &'static str = $opname;
            #[allow(unused_variables)]
            fn f<T: $crate::dtype::Float>(self, $a: T, $b: T) -> T {
                let Self { $($p,)* } = self;
                $f
            }
            #[allow(unused_variables)]
            fn saves($n: [bool; 2]) -> [bool; 2] {
                $saves
            }
            #[allow(unused_variables)]
            fn df(
                self,
                $sa: Option<&$crate::tensor::Tensor>,
                $sb: Option<&$crate::tensor::Tensor>,
                $g: &$crate::tensor::Tensor,
                $nd: [bool; 2],
            ) -> [Option<$crate::tensor::Tensor>; 2] {
                let Self { $($p,)* } = self;
                $df
            }
            $(
                const INT: bool = true;
                fn int(self, $ia: i64, $ib: i64) -> i64 {
                    $ie
                }
            )?
        }
    };
    // Internal primitives: a crate-internal function each (infallible: same-shape operands).
    (internal; $(
        $(#[doc = $doc:expr])*
        fn $name:ident($x:ident, $y:ident $(, $p:ident: $t:ty)*)
            -> $op:ident($node:literal, $opname:literal)
            saves |$n:pat_param| $saves:expr,
            |$a:ident, $b:ident| $f:expr,
            |$sa:pat_param, $sb:pat_param, $g:pat_param, $nd:pat_param| $df:expr;
    )*) => {
        $(
            binary_ops!(@prim $op, $node, $opname, [$($p: $t),*], |$n| $saves, |$a, $b| $f,
                |$sa, $sb, $g, $nd| $df);
            $(#[doc = $doc])*
            pub(crate) fn $name($x: &Tensor, $y: &Tensor $(, $p: $t)*) -> Tensor {
                $crate::unwrap($crate::ops::binary($op { $($p,)* }, $x, $y))
            }
        )*
    };
    // Public primitives: the twins and the registry rows.
    ($ops:ident; $(
        $(#[doc = $doc:expr])*
        pub fn $name:ident / $try:ident(&self, $other:ident: &Tensor)
            -> $op:ident($node:literal, $opname:literal)
            $(pre $pre:path,)?
            saves |$n:pat_param| $saves:expr,
            |$a:ident, $b:ident| $f:expr,
            |$sa:pat_param, $sb:pat_param, $g:pat_param, $nd:pat_param| $df:expr
            $(, int |$ia:ident, $ib:ident| $ie:expr)?;
    )*) => {
        $(
            binary_ops!(@prim $op, $node, $opname, [], |$n| $saves, |$a, $b| $f,
                |$sa, $sb, $g, $nd| $df $(, int |$ia, $ib| $ie)?);
        )*
        api! {
            $ops = impl Tensor {
                $(
                    $(#[doc = $doc])*
                    pub fn $name / $try(&self, $other: &Tensor) -> Tensor {
                        $(
                            if let Some(a) = $pre($opname, self, $other)? {
                                return $crate::ops::binary($op {}, &a, $other);
                            }
                        )?
                        $crate::ops::binary($op {}, self, $other)
                    }
                )*
            }
        }
    };
}
pub(crate) use binary_ops;

binary_ops! {
    BINARY_OPS;

    /// Elementwise sum with broadcasting (`a + b`).
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([[1.0], [2.0]]);
    /// assert_eq!(a.add(&ferrograd::Tensor::new([10.0, 20.0])).to_vec::<f32>(), vec![11.0, 21.0, 12.0, 22.0]);
    /// let e = ferrograd::Tensor::zeros(&[2]).try_add(&ferrograd::Tensor::zeros(&[3])).unwrap_err();
    /// assert!(e.to_string().starts_with("add: The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"));
    /// ```
    pub fn add / try_add(&self, other: &Tensor) -> Add("AddBackward0", "add")
        saves |_| [false, false],
        |a, b| a + b,
        |_, _, g, n| [n[0].then(|| g.clone()), n[1].then(|| g.clone())],
        int |a, b| a.wrapping_add(b);

    /// Elementwise difference with broadcasting (`a - b`).
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([3.0, 4.0]);
    /// assert_eq!(a.sub(&ferrograd::Tensor::scalar(1.0)).to_vec::<f32>(), vec![2.0, 3.0]);
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_sub(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    pub fn sub / try_sub(&self, other: &Tensor) -> Sub("SubBackward0", "sub")
        saves |_| [false, false],
        |a, b| a - b,
        |_, _, g, n| [n[0].then(|| g.clone()), n[1].then(|| g.neg())],
        int |a, b| a.wrapping_sub(b);

    /// Elementwise product with broadcasting (`a * b`).
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([1.0, 2.0]);
    /// assert_eq!(a.mul(&a).to_vec::<f32>(), vec![1.0, 4.0]);
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_mul(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    pub fn mul / try_mul(&self, other: &Tensor) -> Mul("MulBackward0", "mul")
        saves |n| [n[1], n[0]],
        |a, b| a * b,
        |a, b, g, _| [b.map(|b| g * b), a.map(|a| g * a)],
        int |a, b| a.wrapping_mul(b);

    /// Elementwise quotient with broadcasting (`a / b`); true division: integer (and bool)
    /// operands divide as floats, as in PyTorch.
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([1.0, 3.0]);
    /// assert_eq!(a.div(&ferrograd::Tensor::new([2.0])).to_vec::<f32>(), vec![0.5, 1.5]);
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_div(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    pub fn div / try_div(&self, other: &Tensor) -> Div("DivBackward0", "div")
        pre true_division,
        saves |n| [n[1], true],
        |a, b| a / b,
        // PyTorch: grad / other and -grad * ((self / other) / other).
        |a, b, g, n| {
            let b = b.expect("div saves its divisor");
            [n[0].then(|| g / b), a.filter(|_| n[1]).map(|a| -g * &(&(a / b) / b))]
        };

    /// `self ^ exponent` elementwise for a tensor exponent, with broadcasting.
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([2.0, 3.0]);
    /// assert_eq!(x.pow_tensor(&ferrograd::Tensor::new([3.0, 2.0])).to_vec::<f32>(), vec![8.0, 9.0]);
    /// assert!(ferrograd::Tensor::ones(&[2]).try_pow_tensor(&ferrograd::Tensor::ones(&[3])).is_err());
    /// ```
    pub fn pow_tensor / try_pow_tensor(&self, exponent: &Tensor) -> PowTensor("PowBackward1", "pow")
        saves |_| [true, true],
        |a, b| a.powf(b),
        |a, b, g, n| pow_backward(a.expect("saved"), b.expect("saved"), g, n),
        int |a, b| super::unary::int_pow_signed(a, b);

    /// `atan2(self, other)`: the angle of the point `(other, self)`.
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([1.0]).atan2(&ferrograd::Tensor::new([1.0]));
    /// assert_eq!(y.to_vec::<f32>(), vec![std::f32::consts::FRAC_PI_4]);
    /// assert!(ferrograd::Tensor::ones(&[2]).try_atan2(&ferrograd::Tensor::ones(&[3])).is_err());
    /// ```
    pub fn atan2 / try_atan2(&self, other: &Tensor) -> Atan2("Atan2Backward0", "atan2")
        saves |_| [true, true],
        |a, b| a.atan2(b),
        |a, b, g, n| atan2_backward(a.expect("saved"), b.expect("saved"), g, n);

    /// `sqrt(self^2 + other^2)` without overflow.
    ///
    /// ```
    /// let h = ferrograd::Tensor::new([3.0]).hypot(&ferrograd::Tensor::new([4.0]));
    /// assert_eq!(h.to_vec::<f32>(), vec![5.0]);
    /// assert!(ferrograd::Tensor::ones(&[2]).try_hypot(&ferrograd::Tensor::ones(&[3])).is_err());
    /// ```
    pub fn hypot / try_hypot(&self, other: &Tensor) -> Hypot("HypotBackward0", "hypot")
        saves |_| [true, true],
        |a, b| a.hypot(b),
        |a, b, g, n| {
            let (a, b) = (a.expect("saved"), b.expect("saved"));
            let r = a.hypot(b);
            [n[0].then(|| &(g * a) / &r), n[1].then(|| &(g * b) / &r)]
        };

    /// Python's `%`: the remainder with the sign of the divisor (`torch.remainder`). Integer
    /// operands with a zero divisor are PyTorch's `ZeroDivisionError` (floating ones give NaN).
    ///
    /// ```
    /// use ferrograd::{DType, Tensor};
    /// let r = ferrograd::Tensor::new([-3.0, 3.0]).remainder(&ferrograd::Tensor::scalar(2.0));
    /// assert_eq!(r.to_vec::<f32>(), vec![1.0, 1.0]);
    /// let a = Tensor::from_data(vec![5i64], DType::I64);
    /// let e = a.try_remainder(&Tensor::from_data(vec![0i64], DType::I64)).unwrap_err();
    /// assert_eq!(e.to_string(), "remainder: ZeroDivisionError");
    /// assert!(ferrograd::Tensor::ones(&[2]).try_remainder(&ferrograd::Tensor::ones(&[3])).is_err());
    /// ```
    pub fn remainder / try_remainder(&self, other: &Tensor)
        -> Remainder("RemainderBackward0", "remainder")
        pre integer_divisor_nonzero,
        saves |n| [n[1], n[1]],
        |a, b| {
            let r = a % b;
            if r != T::zero() && ((b < T::zero()) != (r < T::zero())) {
                r + b
            } else {
                r
            }
        },
        |a, b, g, n| remainder_backward(a, b, g, n, true),
        int |a, b| {
            let r = a.wrapping_rem(b);
            if r != 0 && ((b < 0) != (r < 0)) {
                r + b
            } else {
                r
            }
        };

    /// C's `fmod`: the remainder with the sign of the dividend (`torch.fmod`). Integer
    /// operands with a zero divisor are PyTorch's `ZeroDivisionError` (floating ones give NaN).
    ///
    /// ```
    /// let r = ferrograd::Tensor::new([-3.0, 3.0]).fmod(&ferrograd::Tensor::scalar(2.0));
    /// assert_eq!(r.to_vec::<f32>(), vec![-1.0, 1.0]);
    /// assert!(ferrograd::Tensor::ones(&[2]).try_fmod(&ferrograd::Tensor::ones(&[3])).is_err());
    /// ```
    pub fn fmod / try_fmod(&self, other: &Tensor) -> Fmod("FmodBackward0", "fmod")
        pre integer_divisor_nonzero,
        saves |n| [n[1], n[1]],
        |a, b| a % b,
        |a, b, g, n| remainder_backward(a, b, g, n, false),
        int |a, b| a.wrapping_rem(b);

    /// Elementwise maximum with broadcasting (NaN propagates; at ties each side gets half the
    /// gradient, as in PyTorch).
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([1.0, 5.0]);
    /// assert_eq!(a.maximum(&ferrograd::Tensor::scalar(2.0)).to_vec::<f32>(), vec![2.0, 5.0]);
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_maximum(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    pub fn maximum / try_maximum(&self, other: &Tensor) -> Maximum("MaximumBackward0", "maximum")
        saves |_| [true, true],
        |a, b| extremum(a, b, true),
        |a, b, g, n| extremum_backward(a.expect("saved"), b.expect("saved"), g, n, true),
        int |a, b| a.max(b);

    /// Elementwise minimum with broadcasting (NaN propagates; ties split the gradient).
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([1.0, 5.0]);
    /// assert_eq!(a.minimum(&ferrograd::Tensor::scalar(2.0)).to_vec::<f32>(), vec![1.0, 2.0]);
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_minimum(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    pub fn minimum / try_minimum(&self, other: &Tensor) -> Minimum("MinimumBackward0", "minimum")
        saves |_| [true, true],
        |a, b| extremum(a, b, false),
        |a, b, g, n| extremum_backward(a.expect("saved"), b.expect("saved"), g, n, false),
        int |a, b| a.min(b);

    /// The quotient rounded down, `floor(self / other)` (Python's `//`, `torch.floor_divide`,
    /// `div(rounding_mode="floor")`): integers divide exactly, in integers, and a zero
    /// divisor is PyTorch's `ZeroDivisionError`; floats round as PyTorch's `div_floor` does.
    /// Its gradient is zero (a step function), as PyTorch's.
    ///
    /// ```
    /// use ferrograd::{DType, Tensor};
    /// let q = Tensor::new([7.0, -7.0]).floor_divide(&Tensor::scalar(2.0));
    /// assert_eq!(q.to_vec::<f32>(), vec![3.0, -4.0]);
    /// let big = Tensor::from_data(vec![100_000_001i64], DType::I64);
    /// let q = big.floor_divide(&Tensor::from_data(vec![3i64], DType::I64));
    /// assert_eq!(q.to_vec::<i64>(), vec![33_333_333]);
    /// assert!(ferrograd::Tensor::ones(&[2]).try_floor_divide(&ferrograd::Tensor::ones(&[3])).is_err());
    /// ```
    pub fn floor_divide / try_floor_divide(&self, other: &Tensor) -> FloorDivide("DivBackward2", "div_floor")
        pre integer_divisor_nonzero,
        saves |_| [false, false],
        |a, b| div_floor(a, b),
        |_, _, g, n| [n[0].then(|| g.zeros_like()), n[1].then(|| g.zeros_like())],
        int |a, b| {
            let q = a.wrapping_div(b);
            if a.wrapping_rem(b) != 0 && ((a < 0) != (b < 0)) {
                q - 1
            } else {
                q
            }
        };

    /// The quotient rounded toward zero, `trunc(self / other)` (`div(rounding_mode="trunc")`):
    /// integers divide exactly, in integers (a zero divisor is `ZeroDivisionError`). Its
    /// gradient is zero, as PyTorch's.
    ///
    /// ```
    /// let q = ferrograd::Tensor::new([7.0, -7.0]).div_trunc(&ferrograd::Tensor::scalar(2.0));
    /// assert_eq!(q.to_vec::<f32>(), vec![3.0, -3.0]);
    /// assert!(ferrograd::Tensor::ones(&[2]).try_div_trunc(&ferrograd::Tensor::ones(&[3])).is_err());
    /// ```
    pub fn div_trunc / try_div_trunc(&self, other: &Tensor) -> DivTrunc("DivBackward2", "div_trunc")
        pre integer_divisor_nonzero,
        saves |_| [false, false],
        |a, b| (a / b).trunc(),
        |_, _, g, n| [n[0].then(|| g.zeros_like()), n[1].then(|| g.zeros_like())],
        int |a, b| a.wrapping_div(b);
}

/// PyTorch's floating floor division: from `fmod`, so that `a == b * q + r` holds as closely
/// as it can (plain `floor(a / b)` can be off by one when `a / b` rounds up to an integer).
fn div_floor<T: Float>(a: T, b: T) -> T {
    if b == T::zero() {
        return a / b;
    }
    let m = a % b;
    let mut d = (a - m) / b;
    if m != T::zero() && ((b < T::zero()) != (m < T::zero())) {
        d = d - T::one();
    }
    if d == T::zero() {
        return (a / b).signum() * T::zero();
    }
    let f = d.floor();
    if d - f > T::from_f64(0.5) {
        f + T::one()
    } else {
        f
    }
}

/// True division: with two non-floating (integer or bool) operands the first is divided as
/// `f32`, as in PyTorch.
fn true_division(_: &'static str, a: &Tensor, b: &Tensor) -> Result<Option<Tensor>> {
    Ok(
        (!a.dtype().is_floating_point() && !b.dtype().is_floating_point())
            .then(|| a.to_dtype(crate::DType::F32)),
    )
}

/// PyTorch's error for an integer (or bool) division by zero: with two non-floating operands
/// the quotient is computed in integers, and a zero divisor raises `ZeroDivisionError`
/// (floating operands give NaN instead, as IEEE arithmetic does).
fn integer_divisor_nonzero(op: &'static str, a: &Tensor, b: &Tensor) -> Result<Option<Tensor>> {
    // Only where some quotient is computed: shapes that do not broadcast get binary's error,
    // and an empty result divides nothing.
    let computed =
        crate::layout::broadcast_shapes(a.shape(), b.shape()).is_some_and(|s| !s.contains(&0));
    if computed
        && !a.dtype().is_floating_point()
        && !b.dtype().is_floating_point()
        && b.values_f64().contains(&0.0)
    {
        return Err(Error::invalid(op, "ZeroDivisionError"));
    }
    Ok(None)
}

/// `a ^ b`'s gradients.
fn pow_backward(a: &Tensor, b: &Tensor, g: &Tensor, n: [bool; 2]) -> [Option<Tensor>; 2] {
    [
        // where(b == 0, 0, grad * b * a^(b-1)), masked only where a == 0 too (0 * inf):
        // elsewhere b * a^(b-1) is already 0 at b == 0, and keeps its derivative in b.
        n[0].then(|| {
            let zero = b.eq_scalar(0.0).logical_and(&a.eq_scalar(0.0));
            (g * &(b * &a.pow_tensor(&b.sub_scalar(1.0)))).masked_fill(&zero, 0.0)
        }),
        // grad * where(a == 0 & b >= 0, 0, a^b * log(a))
        n[1].then(|| {
            let d = &a.pow_tensor(b) * &a.log();
            g * &d.masked_fill(&a.eq_scalar(0.0).logical_and(&b.ge_scalar(0.0)), 0.0)
        }),
    ]
}

/// `atan2(a, b)`'s gradients. PyTorch: at the origin (a reciprocal of 0) both are 0, not NaN.
fn atan2_backward(a: &Tensor, b: &Tensor, g: &Tensor, n: [bool; 2]) -> [Option<Tensor>; 2] {
    let recip = (&(a * a) + &(b * b)).reciprocal();
    let recip = recip.masked_fill(&recip.abs().eq_scalar(f64::INFINITY), 0.0);
    [
        n[0].then(|| &(g * b) * &recip),
        n[1].then(|| &(g * &a.neg()) * &recip),
    ]
}

/// remainder's (`floor`) or fmod's gradients: `grad` and `-grad * floor(a / b)` (`trunc` for
/// fmod); `a` and `b` are kept only when `b` needs its gradient.
fn remainder_backward(
    a: Option<&Tensor>,
    b: Option<&Tensor>,
    g: &Tensor,
    n: [bool; 2],
    floor: bool,
) -> [Option<Tensor>; 2] {
    [
        n[0].then(|| g.clone()),
        a.zip(b).map(|(a, b)| {
            let q = a / b;
            let q = if floor { q.floor() } else { q.trunc() };
            &g.neg() * &q
        }),
    ]
}

/// maximum (`max`) or minimum of one element pair; NaN if either is.
fn extremum<T: Float>(a: T, b: T, max: bool) -> T {
    if a.is_nan() || b.is_nan() {
        T::nan()
    } else if (a > b) == max {
        a
    } else {
        b
    }
}

/// maximum's (`max`) or minimum's gradients. PyTorch: where(a == b, grad / 2, grad), zeroed
/// where the other side wins.
fn extremum_backward(
    a: &Tensor,
    b: &Tensor,
    g: &Tensor,
    n: [bool; 2],
    max: bool,
) -> [Option<Tensor>; 2] {
    let shared = Tensor::where_(&a.eq(b), &g.div_scalar(2.0), g);
    let (a_loses, b_loses) = if max {
        (a.lt(b), a.gt(b))
    } else {
        (a.gt(b), a.lt(b))
    };
    [
        n[0].then(|| shared.masked_fill(&a_loses, 0.0)),
        n[1].then(|| shared.masked_fill(&b_loses, 0.0)),
    ]
}

// ------------------------------------------------------------------ backward primitives
// The backward of an op that is itself a differentiable primitive (as PyTorch's
// `TanhBackwardBackward0`, ...), so derivatives of every order work. Inputs: `[grad, saved]`.

binary_ops! {
    internal;

    /// `grad * (1 - y^2)`: tanh's backward, from its output `y`.
    fn tanh_backward(g, y) -> TanhBackward("TanhBackwardBackward0", "tanh_backward")
        saves |n| [n[1], true],
        // 1 - y*y with one rounding (PyTorch's compiled kernel contracts it to an FMA too):
        // near |y| = 1 this keeps the digits that the subtraction would cancel.
        |g, y| g * (-y).mul_add(y, T::one()),
        |g0, y, g, n| {
            let y = y.expect("tanh_backward saves the output");
            [
                n[0].then(|| tanh_backward(g, y)),
                g0.filter(|_| n[1]).map(|g0| g * &(&y.mul_scalar(-2.0) * g0)),
            ]
        };

    /// `grad * cos(x)`: sin's backward, from its input `x`, as one node (the unfused form,
    /// `cos(x)` then a product, runs where the bulk `f32` cosine is faster: see
    /// `unary::trig_backward`). Its own derivatives are these primitives again.
    fn sin_backward(g, x) -> SinBackward("SinBackwardBackward0", "sin_backward")
        saves |n| [n[1], true],
        |g, x| g * x.cos(),
        |g0, x, g, n| {
            let x = x.expect("sin_backward saves x");
            [
                n[0].then(|| sin_backward(g, x)),
                g0.filter(|_| n[1]).map(|g0| cos_backward(&(g * g0), x)),
            ]
        };

    /// `grad * -sin(x)`: cos's backward, from its input `x`, as one node (see
    /// [`sin_backward`]).
    fn cos_backward(g, x) -> CosBackward("CosBackwardBackward0", "cos_backward")
        saves |n| [n[1], true],
        // `g * (-sin x)`, as the unfused form rounds it (the same bits, NaN's sign too).
        |g, x| g * -x.sin(),
        |g0, x, g, n| {
            let x = x.expect("cos_backward saves x");
            [
                n[0].then(|| cos_backward(g, x)),
                g0.filter(|_| n[1]).map(|g0| sin_backward(&(g * g0), x).neg()),
            ]
        };

    /// `grad * (1 - y) * y`: sigmoid's backward, from its output `y` (PyTorch's second
    /// derivative of sigmoid runs `SigmoidBackwardBackward0`).
    fn sigmoid_backward(g, y) -> SigmoidBackward("SigmoidBackwardBackward0", "sigmoid_backward")
        saves |n| [n[1], true],
        |g, y| g * (T::one() - y) * y,
        |g0, y, g, n| {
            let y = y.expect("sigmoid_backward saves the output");
            [
                n[0].then(|| sigmoid_backward(g, y)),
                g0.filter(|_| n[1]).map(|g0| &(g * g0) * &y.mul_scalar(-2.0).add_scalar(1.0)),
            ]
        };
}
