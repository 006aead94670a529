//! `Display` exactly as PyTorch prints tensors (`torch/_tensor_str.py` with default print
//! options: precision 4, threshold 1000, edgeitems 3, linewidth 80), and [`PyFloat`] for
//! Python's `repr` of a float.

use crate::dtype::DType;
use crate::tensor::Tensor;
use std::fmt;

const PRECISION: usize = 4;
const THRESHOLD: usize = 1000;
const EDGEITEMS: usize = 3;
const LINEWIDTH: usize = 80;

/// A number that displays as Python's `repr(float)` / `str(float)`: the shortest digits that
/// round-trip, scientific notation below 1e-4 and from 1e16 on.
///
/// ```
/// use ferrograd::PyFloat;
/// assert_eq!(PyFloat(1.0).to_string(), "1.0");
/// assert_eq!(PyFloat(-1.3072872161865234).to_string(), "-1.3072872161865234");
/// assert_eq!(PyFloat(3.3261093448688367e-06).to_string(), "3.3261093448688367e-06");
/// assert_eq!(PyFloat(1e16).to_string(), "1e+16");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PyFloat(pub f64);

impl fmt::Display for PyFloat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&py_repr(self.0))
    }
}

fn py_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // Shortest round-trip digits from Rust's `{:e}`, re-laid-out with Python's rules.
    let s = format!("{:e}", x.abs());
    let (mantissa, exp) = s.split_once('e').expect("LowerExp has an exponent");
    let exp: i32 = exp.parse().expect("integer exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if x < 0.0 { "-" } else { "" };
    let body = if (-4..16).contains(&exp) {
        if exp >= 0 {
            let e = exp as usize;
            if digits.len() > e + 1 {
                format!("{}.{}", &digits[..e + 1], &digits[e + 1..])
            } else {
                format!("{}{}.0", digits, "0".repeat(e + 1 - digits.len()))
            }
        } else {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        }
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        format!("{}e{}{:02}", m, if exp < 0 { '-' } else { '+' }, exp.abs())
    };
    format!("{sign}{body}")
}

/// Python's `'{:.{p}e}'.format(x)`: exponent with a sign and at least two digits.
fn py_sci(x: f64, precision: usize) -> String {
    if !x.is_finite() {
        return py_special(x);
    }
    let s = format!("{:.*e}", precision, x);
    let (m, e) = s.split_once('e').expect("LowerExp has an exponent");
    let e: i32 = e.parse().expect("integer exponent");
    format!("{}e{}{:02}", m, if e < 0 { '-' } else { '+' }, e.abs())
}

/// Python's `'{:.{p}f}'.format(x)`.
fn py_fixed(x: f64, precision: usize) -> String {
    if !x.is_finite() {
        return py_special(x);
    }
    format!("{:.*}", precision, x)
}

fn py_special(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

/// PyTorch's `_Formatter`: decides int/fixed/scientific mode and the common element width.
struct Formatter {
    dtype: DType,
    floating: bool,
    int_mode: bool,
    sci_mode: bool,
    max_width: usize,
}

impl Formatter {
    fn new(values: &[f64], dtype: DType) -> Formatter {
        let mut f = Formatter {
            dtype,
            floating: dtype.is_floating_point(),
            int_mode: true,
            sci_mode: false,
            max_width: 1,
        };
        if !f.floating {
            for &v in values {
                f.max_width = f.max_width.max(plain_str(v, dtype).len());
            }
            return f;
        }
        let finite: Vec<f64> = values
            .iter()
            .copied()
            .filter(|v| v.is_finite() && *v != 0.0)
            .collect();
        if finite.is_empty() {
            return f;
        }
        let abs = finite.iter().map(|v| v.abs());
        let min = abs.clone().fold(f64::INFINITY, f64::min);
        let max = abs.fold(0.0, f64::max);
        f.int_mode = finite.iter().all(|v| *v == v.ceil());
        let sci = |v: f64| py_sci(v, PRECISION);
        let int = |v: f64| format!("{}.", py_fixed(v, 0));
        let fixed = |v: f64| py_fixed(v, PRECISION);
        let render: &dyn Fn(f64) -> String = if f.int_mode {
            f.sci_mode = max / min > 1000.0 || max > 1.0e8;
            if f.sci_mode {
                &sci
            } else {
                &int
            }
        } else {
            f.sci_mode = max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4;
            if f.sci_mode {
                &sci
            } else {
                &fixed
            }
        };
        f.max_width = finite
            .iter()
            .map(|&v| render(v).len())
            .max()
            .unwrap_or(1)
            .max(1);
        f
    }

    fn format(&self, v: f64) -> String {
        let s = if !self.floating {
            plain_str(v, self.dtype)
        } else if self.sci_mode {
            py_sci(v, PRECISION)
        } else if self.int_mode {
            let mut s = py_fixed(v, 0);
            if v.is_finite() {
                s.push('.');
            }
            s
        } else {
            py_fixed(v, PRECISION)
        };
        format!(
            "{}{}",
            " ".repeat(self.max_width.saturating_sub(s.len())),
            s
        )
    }
}

/// Python's `str` of a bool or integer element (an `int64` one carried by [`int_cell`]).
fn plain_str(v: f64, dtype: DType) -> String {
    match dtype {
        DType::Bool => if v != 0.0 { "True" } else { "False" }.to_string(),
        _ => format!("{}", v.to_bits() as i64),
    }
}

/// An `int64` element as a display cell: the cells are `f64`, which holds integers exactly
/// only up to 2^53, so an integer travels as its bits ([`plain_str`] reads them back; integer
/// cells are never computed with).
fn int_cell(i: i64) -> f64 {
    f64::from_bits(i as u64)
}

/// A read-only view into row-major values with a shape, for recursive formatting.
#[derive(Clone, Copy)]
struct Block<'a> {
    values: &'a [f64],
    shape: &'a [usize],
}

impl<'a> Block<'a> {
    fn row(&self, i: usize) -> Block<'a> {
        let inner: usize = self.shape[1..].iter().product();
        Block {
            values: &self.values[i * inner..(i + 1) * inner],
            shape: &self.shape[1..],
        }
    }
}

/// The values the formatter looks at when summarizing (edge items only).
fn summarized(b: Block, out: &mut Vec<f64>) {
    match b.shape.len() {
        0 => out.extend_from_slice(b.values),
        1 => {
            let n = b.shape[0];
            if n > 2 * EDGEITEMS {
                out.extend_from_slice(&b.values[..EDGEITEMS]);
                out.extend_from_slice(&b.values[n - EDGEITEMS..]);
            } else {
                out.extend_from_slice(b.values);
            }
        }
        _ => {
            let n = b.shape[0];
            let rows: Vec<usize> = if n > 2 * EDGEITEMS {
                (0..EDGEITEMS).chain(n - EDGEITEMS..n).collect()
            } else {
                (0..n).collect()
            };
            for i in rows {
                summarized(b.row(i), out);
            }
        }
    }
}

fn vector_str(b: Block, indent: usize, summarize: bool, f: &Formatter) -> String {
    let element_length = f.max_width + 2;
    let per_line = ((LINEWIDTH.saturating_sub(indent)) / element_length).max(1);
    let n = b.shape[0];
    let data: Vec<String> = if summarize && n > 2 * EDGEITEMS {
        b.values[..EDGEITEMS]
            .iter()
            .map(|&v| f.format(v))
            .chain(std::iter::once(" ...".to_string()))
            .chain(b.values[n - EDGEITEMS..].iter().map(|&v| f.format(v)))
            .collect()
    } else {
        b.values.iter().map(|&v| f.format(v)).collect()
    };
    let lines: Vec<String> = data.chunks(per_line).map(|c| c.join(", ")).collect();
    format!(
        "[{}]",
        lines.join(&format!(",\n{}", " ".repeat(indent + 1)))
    )
}

fn tensor_str(b: Block, indent: usize, summarize: bool, f: &Formatter) -> String {
    match b.shape.len() {
        0 => f.format(b.values[0]),
        1 => vector_str(b, indent, summarize, f),
        dim => {
            let n = b.shape[0];
            let slices: Vec<String> = if summarize && n > 2 * EDGEITEMS {
                (0..EDGEITEMS)
                    .map(|i| tensor_str(b.row(i), indent + 1, summarize, f))
                    .chain(std::iter::once("...".to_string()))
                    .chain(
                        (n - EDGEITEMS..n).map(|i| tensor_str(b.row(i), indent + 1, summarize, f)),
                    )
                    .collect()
            } else {
                (0..n)
                    .map(|i| tensor_str(b.row(i), indent + 1, summarize, f))
                    .collect()
            };
            let sep = format!(",{}{}", "\n".repeat(dim - 1), " ".repeat(indent + 1));
            format!("[{}]", slices.join(&sep))
        }
    }
}

fn add_suffixes(body: String, suffixes: &[String], indent: usize) -> String {
    let mut out = body;
    let mut last_line_len = match out.rfind('\n') {
        Some(p) => out.len() - p + 1,
        None => out.len() + 2,
    };
    for s in suffixes {
        if last_line_len + s.len() + 2 > LINEWIDTH {
            out.push_str(&format!(",\n{}{}", " ".repeat(indent), s));
            last_line_len = indent + s.len();
        } else {
            out.push_str(", ");
            out.push_str(s);
            last_line_len += s.len() + 2;
        }
    }
    out.push(')');
    out
}

impl fmt::Display for Tensor {
    /// Prints what PyTorch's `print(tensor)` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = "tensor(";
        let indent = prefix.len();
        let dtype = self.dtype();
        let mut suffixes = Vec::new();
        let body = if self.numel() == 0 {
            if self.dim() != 1 {
                let dims: Vec<String> = self.shape().iter().map(|d| d.to_string()).collect();
                let tuple = if dims.len() == 1 {
                    format!("({},)", dims[0])
                } else {
                    format!("({})", dims.join(", "))
                };
                suffixes.push(format!("size={tuple}"));
            }
            if dtype != DType::F32 {
                suffixes.push(format!("dtype={dtype}"));
            }
            "[]".to_string()
        } else {
            if dtype == DType::F64 {
                suffixes.push(format!("dtype={dtype}"));
            }
            let values = match dtype {
                DType::I64 => self.to_vec::<i64>().into_iter().map(int_cell).collect(),
                _ => self.values_f64(),
            };
            let block = Block {
                values: &values,
                shape: self.shape(),
            };
            let summarize = self.numel() > THRESHOLD;
            let formatter = if summarize {
                let mut s = Vec::new();
                summarized(block, &mut s);
                Formatter::new(&s, dtype)
            } else {
                Formatter::new(&values, dtype)
            };
            tensor_str(block, indent, summarize, &formatter)
        };
        if let Some(g) = self.grad_fn() {
            suffixes.push(format!("grad_fn=<{}>", g.name()));
        } else if self.requires_grad() {
            suffixes.push("requires_grad=True".to_string());
        }
        f.write_str(&add_suffixes(format!("{prefix}{body}"), &suffixes, indent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_repr() {
        assert_eq!(py_repr(47.323326110839844), "47.323326110839844");
        assert_eq!(py_repr(0.0001), "0.0001");
        assert_eq!(py_repr(0.00001), "1e-05");
        assert_eq!(py_repr(123456789012345678.0), "1.2345678901234568e+17");
        assert_eq!(py_repr(1e15), "1000000000000000.0");
        assert_eq!(py_repr(-0.07058947277927188), "-0.07058947277927188");
        assert_eq!(py_repr(f64::NAN), "nan");
    }

    #[test]
    fn python_format_specs() {
        assert_eq!(py_sci(123456789.0, 4), "1.2346e+08");
        assert_eq!(py_sci(0.00012, 4), "1.2000e-04");
        assert_eq!(py_fixed(4.5, 4), "4.5000");
        assert_eq!(py_fixed(-0.0, 0), "-0");
    }
}
