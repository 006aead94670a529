//! What `ferrograd` prints: PyTorch-style text, or one JSON object.
//!
//! JSON numbers are the shortest text that reads back to the same value in the tensor's own
//! dtype (an f32 `0.1` is written `0.1`, not `0.10000000149011612`). JSON has no NaN or
//! infinity: those are written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.

use crate::eval::LIMITS;
use ferrograd::{DType, Tensor};

/// `(variable, JSON text)` pairs.
type Entries = Vec<(String, String)>;

/// Collects the results of one command.
pub struct Report {
    json: bool,
    text: String,
    value: Option<String>,
    grad: Entries,
    /// Order k >= 2: (k, [(variable, tensor)]).
    derivatives: Vec<(usize, Entries)>,
    hessian: Option<Vec<(String, Entries)>>,
}

impl Report {
    pub fn new(json: bool) -> Report {
        Report {
            json,
            text: String::new(),
            value: None,
            grad: Vec::new(),
            derivatives: Vec::new(),
            hessian: None,
        }
    }

    fn line(&mut self, label: &str, t: &Tensor) {
        let shown = t.to_string();
        if shown.contains('\n') {
            self.text.push_str(&format!("{label} =\n{shown}\n"));
        } else {
            self.text.push_str(&format!("{label} = {shown}\n"));
        }
    }

    /// A side note (a file written); on stderr so that stdout stays parseable.
    pub fn note(&mut self, message: String) {
        eprintln!("{message}");
    }

    pub fn value(&mut self, t: &Tensor) -> Result<(), String> {
        self.line("f", t);
        if self.json {
            self.value = Some(json(t)?);
        }
        Ok(())
    }

    /// The derivatives of order `k` with respect to each variable.
    pub fn derivatives(
        &mut self,
        k: usize,
        wrt: &[(String, Tensor)],
        ds: &[Tensor],
    ) -> Result<(), String> {
        let mut entries = Vec::new();
        for ((name, _), d) in wrt.iter().zip(ds) {
            let d = d.detach();
            let label = if k == 1 {
                format!("df/d{name}")
            } else {
                format!("d{k}f/d{name}{k}")
            };
            self.line(&label, &d);
            if self.json {
                entries.push((name.clone(), json(&d)?));
            }
        }
        if k == 1 {
            self.grad = entries;
        } else {
            self.derivatives.push((k, entries));
        }
        Ok(())
    }

    /// Hessian blocks `h[i][j] = d2f / dx_i dx_j`.
    pub fn hessian(&mut self, wrt: &[(String, Tensor)], h: &[Vec<Tensor>]) -> Result<(), String> {
        let mut rows = Vec::new();
        for ((a, _), row) in wrt.iter().zip(h) {
            let mut entries = Vec::new();
            for ((b, _), block) in wrt.iter().zip(row) {
                let block = block.detach();
                let label = if a == b {
                    format!("d2f/d{a}2")
                } else {
                    format!("d2f/d{a}d{b}")
                };
                self.line(&label, &block);
                if self.json {
                    entries.push((b.clone(), json(&block)?));
                }
            }
            rows.push((a.clone(), entries));
        }
        self.hessian = Some(rows);
        Ok(())
    }

    pub fn finish(self) -> String {
        if !self.json {
            return self.text;
        }
        let object = |entries: &[(String, String)]| {
            let items: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {v}", quote(k)))
                .collect();
            format!("{{{}}}", items.join(", "))
        };
        let mut fields = vec![format!(
            "\"value\": {}",
            self.value.as_deref().unwrap_or("null")
        )];
        fields.push(format!("\"grad\": {}", object(&self.grad)));
        match &self.hessian {
            Some(rows) => {
                let items: Vec<(String, String)> =
                    rows.iter().map(|(k, e)| (k.clone(), object(e))).collect();
                fields.push(format!("\"hessian\": {}", object(&items)));
            }
            None => {
                let items: Vec<(String, String)> = self
                    .derivatives
                    .iter()
                    .map(|(k, e)| (k.to_string(), object(e)))
                    .collect();
                fields.push(format!("\"derivatives\": {}", object(&items)));
            }
        }
        format!("{{{}}}\n", fields.join(", "))
    }
}

/// A JSON string literal (names are identifiers, but escape anyway).
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Shortest round-trip text of a float; exponent form for very large or small magnitudes.
fn number<F: std::fmt::Display + std::fmt::LowerExp>(v: F, x: f64) -> String {
    if x.is_nan() {
        "\"NaN\"".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        }
        .into()
    } else if x != 0.0 && (x.abs() >= 1e16 || x.abs() < 1e-5) {
        format!("{v:e}")
    } else {
        // Integral floats keep a ".0", as Python's json writes them, so they read as floats.
        let text = format!("{v}");
        if text.contains('.') {
            text
        } else {
            text + ".0"
        }
    }
}

/// A tensor as a JSON number (0-d) or nested lists. An empty tensor still prints one `[]` per
/// row of its leading dims (`[2, 0]` is `[[], []]`), so those are counted first: a tensor of
/// shape `[294967296, 0]` has no elements but would print 294967296 lists, and is refused like
/// a tensor of that many elements.
pub fn json(t: &Tensor) -> Result<String, String> {
    let shape = t.shape();
    let mut lists: u128 = 0;
    let mut rows: u128 = 1;
    for &d in shape {
        lists = lists.saturating_add(rows);
        rows = rows.saturating_mul(d as u128);
        if rows == 0 {
            break;
        }
    }
    let items = lists.saturating_add(t.numel() as u128);
    if items > LIMITS.elements as u128 {
        return Err(format!(
            "--json: a tensor of shape {shape:?} would print {items} numbers and lists, over the limit of {}",
            LIMITS.elements
        ));
    }
    let values: Vec<f64> = t.detach().to_dtype(DType::F64).to_vec::<f64>();
    let item = |x: f64| match t.dtype() {
        DType::F32 => number(x as f32, x),
        DType::Bool => (x != 0.0).to_string(),
        DType::I64 => format!("{}", x as i64),
        _ => number(x, x),
    };
    fn nest(shape: &[usize], values: &[f64], item: &dyn Fn(f64) -> String, out: &mut String) {
        match shape.split_first() {
            None => out.push_str(&item(values[0])),
            Some((&n, rest)) => {
                let step: usize = rest.iter().product();
                out.push('[');
                for i in 0..n {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    nest(rest, &values[i * step..(i + 1) * step], item, out);
                }
                out.push(']');
            }
        }
    }
    let mut out = String::new();
    nest(shape, &values, &item, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(t: &Tensor) -> String {
        json(t).unwrap()
    }

    #[test]
    fn numbers_are_shortest_round_trip_in_their_dtype() {
        assert_eq!(js(&Tensor::scalar(0.1)), "0.1");
        assert_eq!(js(&Tensor::from_data(0.1f64, DType::F64)), "0.1");
        assert_eq!(js(&Tensor::scalar(25.0)), "25.0");
        assert_eq!(js(&Tensor::scalar(1e-7)), "1e-7");
        assert_eq!(js(&Tensor::scalar(3e20)), "3e20");
        assert_eq!(js(&Tensor::scalar(-0.5)), "-0.5");
        assert_eq!(
            js(&Tensor::new([f32::NAN, f32::INFINITY, f32::NEG_INFINITY])),
            "[\"NaN\", \"Infinity\", \"-Infinity\"]"
        );
        assert_eq!(
            js(&Tensor::new([[1.0, 2.0], [3.0, 4.0]])),
            "[[1.0, 2.0], [3.0, 4.0]]"
        );
        assert_eq!(js(&Tensor::full(&[2, 0], 1.0)), "[[], []]");
        assert_eq!(js(&Tensor::new([true, false])), "[true, false]");
        assert_eq!(js(&Tensor::new([3i64, -1])), "[3, -1]");
    }

    #[test]
    fn empty_tensors_with_huge_leading_dims_are_refused_not_allocated() {
        assert_eq!(js(&Tensor::zeros(&[0, 3])), "[]");
        assert_eq!(js(&Tensor::zeros(&[3, 0, 2])), "[[], [], []]");
        let e = json(&Tensor::zeros(&[294_967_296, 0])).unwrap_err();
        assert!(
            e.contains("shape [294967296, 0] would print 294967297"),
            "{e}"
        );
    }
}
