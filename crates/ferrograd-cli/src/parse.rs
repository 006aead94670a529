//! Tokenizer and recursive-descent parser for EXPR.
//!
//! Grammar (Python's precedence; `^` is a synonym of `**`):
//!
//! ```text
//! expr    := term (('+' | '-') term)*
//! term    := unary (('*' | '/' | '@') unary)*
//! unary   := ('-' | '+') unary | power
//! power   := primary (('^' | '**') unary)?          right-associative: 2^3^2 = 2^9
//! primary := NUMBER | STRING | NAME | NAME '(' [expr (',' expr)*] ')'
//!          | '(' expr ')' | '[' [expr (',' expr)*] ']'
//! ```
//!
//! Every node carries the columns it came from, so errors can point at them. Nesting is
//! bounded ([`MAX_DEPTH`]): parsing and evaluation recurse over the tree, and a hostile input
//! must get an error, not a stack overflow.

use std::fmt;

/// The deepest expression tree accepted (parentheses, operator chains and calls all count).
pub const MAX_DEPTH: usize = 1000;

/// Columns `start..end` (in characters) of a piece of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// An error with the columns it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct SpannedError {
    pub message: String,
    pub span: Span,
}

impl SpannedError {
    pub fn new(message: impl Into<String>, span: Span) -> SpannedError {
        SpannedError {
            message: message.into(),
            span,
        }
    }

    /// The message, the input, and a caret line under the offending columns.
    pub fn render(&self, source: &str) -> String {
        let width = source.chars().count();
        let start = self.span.start.min(width);
        let len = self.span.end.saturating_sub(start).max(1);
        format!(
            "{}\n  {}\n  {}{}",
            self.message,
            source,
            " ".repeat(start),
            "^".repeat(len)
        )
    }
}

impl fmt::Display for SpannedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    MatMul,
}

#[cfg(test)]
impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "**",
            BinOp::MatMul => "@",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number literal with a fraction or an exponent (or too large for an `i64`).
    Num(f64),
    /// An integer literal, kept exact (sizes, dims and offsets are read from it, not from a
    /// float that rounds past 2^24 or 2^53).
    Int(i64),
    Str(String),
    Name(String),
    List(Vec<Node>),
    Neg(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    /// A call; the span of the name is kept to point at unknown functions.
    Call(String, Span, Vec<Node>),
}

/// An expression with its columns and the height of its tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub expr: Expr,
    pub span: Span,
    pub depth: usize,
}

impl Node {
    /// Variable names in order of first appearance (call names are not variables).
    pub fn names(&self) -> Vec<String> {
        self.name_spans().into_iter().map(|(n, _)| n).collect()
    }

    /// Variable names in order of first appearance, with the columns of that appearance.
    pub fn name_spans(&self) -> Vec<(String, Span)> {
        let mut out: Vec<(String, Span)> = Vec::new();
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            match &n.expr {
                Expr::Name(s) => {
                    if !out.iter().any(|(o, _)| o == s) {
                        out.push((s.clone(), n.span));
                    }
                }
                Expr::Num(_) | Expr::Int(_) | Expr::Str(_) => {}
                Expr::Neg(a) => stack.push(a),
                Expr::Binary(_, a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                Expr::List(items) | Expr::Call(_, _, items) => stack.extend(items.iter().rev()),
            }
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Int(i64),
    Str(String),
    Name(String),
    Op(&'static str),
    End,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(v) => format!("number {v}"),
        Tok::Int(v) => format!("number {v}"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Name(s) => format!("name '{s}'"),
        Tok::Op(o) => format!("'{o}'"),
        Tok::End => "end of input".into(),
    }
}

fn tokenize(src: &str) -> Result<Vec<(Tok, Span)>, SpannedError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            let span = Span { start, end: i };
            let integer = text.chars().all(|c| c.is_ascii_digit());
            match (
                integer.then(|| text.parse::<i64>().ok()).flatten(),
                text.parse::<f64>(),
            ) {
                (Some(i), _) => Tok::Int(i),
                (None, Ok(v)) => Tok::Num(v),
                (None, Err(_)) => {
                    return Err(SpannedError::new(format!("bad number '{text}'"), span))
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            Tok::Name(chars[start..i].iter().collect())
        } else if c == '"' || c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            if i == chars.len() {
                return Err(SpannedError::new(
                    "unterminated string",
                    Span { start, end: i },
                ));
            }
            i += 1;
            Tok::Str(chars[start + 1..i - 1].iter().collect())
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = if two == "**" {
                "**"
            } else {
                match c {
                    '+' => "+",
                    '-' => "-",
                    '*' => "*",
                    '/' => "/",
                    '^' => "^",
                    '@' => "@",
                    '(' => "(",
                    ')' => ")",
                    '[' => "[",
                    ']' => "]",
                    ',' => ",",
                    _ => {
                        return Err(SpannedError::new(
                            format!("unexpected character '{c}'"),
                            Span {
                                start,
                                end: start + 1,
                            },
                        ))
                    }
                }
            };
            i += op.len();
            Tok::Op(op)
        };
        out.push((tok, Span { start, end: i }));
    }
    let end = chars.len();
    out.push((Tok::End, Span { start: end, end }));
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    nesting: usize,
}

/// Parses a whole expression.
pub fn parse(src: &str) -> Result<Node, SpannedError> {
    let mut p = Parser {
        toks: tokenize(src)?,
        pos: 0,
        nesting: 0,
    };
    if p.peek() == &Tok::End {
        return Err(SpannedError::new("empty expression", p.span()));
    }
    let node = p.expr()?;
    match p.peek() {
        Tok::End => Ok(node),
        Tok::Op(")") => Err(SpannedError::new("unmatched ')'", p.span())),
        Tok::Op("]") => Err(SpannedError::new("unmatched ']'", p.span())),
        t => Err(SpannedError::new(
            format!("expected an operator, found {}", describe(t)),
            p.span(),
        )),
    }
}

fn node(expr: Expr, span: Span, depth: usize) -> Result<Node, SpannedError> {
    if depth > MAX_DEPTH {
        return Err(SpannedError::new(
            format!("expression too deeply nested (more than {MAX_DEPTH} levels)"),
            span,
        ));
    }
    Ok(Node { expr, span, depth })
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn span(&self) -> Span {
        self.toks[self.pos].1
    }

    fn bump(&mut self) -> (Tok, Span) {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn is_op(&self, ops: &[&str]) -> Option<&'static str> {
        match self.peek() {
            Tok::Op(o) if ops.contains(o) => Some(o),
            _ => None,
        }
    }

    /// Guards the recursion of the parser itself (parentheses, unary chains).
    fn enter(&mut self) -> Result<(), SpannedError> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            return Err(SpannedError::new(
                format!("expression too deeply nested (more than {MAX_DEPTH} levels)"),
                self.span(),
            ));
        }
        Ok(())
    }

    fn binary(op: BinOp, a: Node, b: Node) -> Result<Node, SpannedError> {
        let span = a.span.to(b.span);
        let depth = a.depth.max(b.depth) + 1;
        node(Expr::Binary(op, Box::new(a), Box::new(b)), span, depth)
    }

    fn expr(&mut self) -> Result<Node, SpannedError> {
        self.enter()?;
        let mut lhs = self.term()?;
        while let Some(o) = self.is_op(&["+", "-"]) {
            self.bump();
            let rhs = self.term()?;
            let op = if o == "+" { BinOp::Add } else { BinOp::Sub };
            lhs = Parser::binary(op, lhs, rhs)?;
        }
        self.nesting -= 1;
        Ok(lhs)
    }

    fn term(&mut self) -> Result<Node, SpannedError> {
        let mut lhs = self.unary()?;
        while let Some(o) = self.is_op(&["*", "/", "@"]) {
            self.bump();
            let rhs = self.unary()?;
            let op = match o {
                "*" => BinOp::Mul,
                "/" => BinOp::Div,
                _ => BinOp::MatMul,
            };
            lhs = Parser::binary(op, lhs, rhs)?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Node, SpannedError> {
        if let Some(o) = self.is_op(&["-", "+"]) {
            self.enter()?;
            let (_, span) = self.bump();
            let inner = self.unary()?;
            self.nesting -= 1;
            let whole = span.to(inner.span);
            return if o == "+" {
                Ok(Node {
                    span: whole,
                    ..inner
                })
            } else if let Expr::Num(v) = inner.expr {
                // A negative literal is a constant, as in Python.
                node(Expr::Num(-v), whole, inner.depth)
            } else if let Expr::Int(v) = inner.expr {
                // Literals are non-negative, so their negation cannot overflow.
                node(Expr::Int(-v), whole, inner.depth)
            } else {
                let depth = inner.depth + 1;
                node(Expr::Neg(Box::new(inner)), whole, depth)
            };
        }
        self.power()
    }

    fn power(&mut self) -> Result<Node, SpannedError> {
        let base = self.primary()?;
        if self.is_op(&["^", "**"]).is_some() {
            self.enter()?;
            self.bump();
            let exponent = self.unary()?;
            self.nesting -= 1;
            return Parser::binary(BinOp::Pow, base, exponent);
        }
        Ok(base)
    }

    /// `expr (',' expr)*` up to `close`, which is consumed; returns the items and the closing span.
    fn items(&mut self, close: &'static str) -> Result<(Vec<Node>, Span), SpannedError> {
        let mut items = Vec::new();
        if self.is_op(&[close]).is_none() {
            loop {
                items.push(self.expr()?);
                if self.is_op(&[","]).is_some() {
                    self.bump();
                    continue;
                }
                break;
            }
        }
        if self.is_op(&[close]).is_none() {
            return Err(SpannedError::new(
                format!("expected ',' or '{close}', found {}", describe(self.peek())),
                self.span(),
            ));
        }
        let (_, end) = self.bump();
        Ok((items, end))
    }

    fn primary(&mut self) -> Result<Node, SpannedError> {
        let (tok, span) = self.bump();
        match tok {
            Tok::Num(v) => node(Expr::Num(v), span, 1),
            Tok::Int(v) => node(Expr::Int(v), span, 1),
            Tok::Str(s) => node(Expr::Str(s), span, 1),
            Tok::Name(name) => {
                if self.is_op(&["("]).is_some() {
                    self.enter()?;
                    self.bump();
                    let (args, end) = self.items(")")?;
                    self.nesting -= 1;
                    let depth = args.iter().map(|a| a.depth).max().unwrap_or(0) + 1;
                    node(Expr::Call(name, span, args), span.to(end), depth)
                } else {
                    node(Expr::Name(name), span, 1)
                }
            }
            Tok::Op("(") => {
                self.enter()?;
                let inner = self.expr()?;
                self.nesting -= 1;
                if self.is_op(&[")"]).is_none() {
                    return Err(SpannedError::new(
                        format!("expected ')', found {}", describe(self.peek())),
                        self.span(),
                    ));
                }
                let (_, end) = self.bump();
                Ok(Node {
                    span: span.to(end),
                    ..inner
                })
            }
            Tok::Op("[") => {
                self.enter()?;
                let (items, end) = self.items("]")?;
                self.nesting -= 1;
                let depth = items.iter().map(|a| a.depth).max().unwrap_or(0) + 1;
                node(Expr::List(items), span.to(end), depth)
            }
            Tok::End => Err(SpannedError::new("unexpected end of input", span)),
            t => Err(SpannedError::new(
                format!("expected a number, a name or '(', found {}", describe(&t)),
                span,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(n: &Node) -> String {
        match &n.expr {
            Expr::Num(v) => format!("{v}"),
            Expr::Int(v) => format!("{v}"),
            Expr::Str(s) => format!("{s:?}"),
            Expr::Name(s) => s.clone(),
            Expr::List(xs) => format!("[{}]", xs.iter().map(show).collect::<Vec<_>>().join(" ")),
            Expr::Neg(a) => format!("(neg {})", show(a)),
            Expr::Binary(op, a, b) => format!("({} {} {})", op.symbol(), show(a), show(b)),
            Expr::Call(f, _, xs) => {
                format!(
                    "({f} {})",
                    xs.iter().map(show).collect::<Vec<_>>().join(" ")
                )
            }
        }
    }

    fn p(s: &str) -> String {
        show(&parse(s).unwrap())
    }

    #[test]
    fn precedence_follows_python() {
        assert_eq!(p("1 + 2 * 3"), "(+ 1 (* 2 3))");
        assert_eq!(p("-x^2"), "(neg (** x 2))");
        assert_eq!(p("2^3^2"), "(** 2 (** 3 2))");
        assert_eq!(p("x ** -1"), "(** x -1)");
        assert_eq!(p("a - b - c"), "(- (- a b) c)");
        assert_eq!(p("a @ b * 2"), "(* (@ a b) 2)");
        assert_eq!(p("-2"), "-2");
        assert_eq!(p("+x"), "x");
        assert_eq!(p("sum(x, [0, 1])"), "(sum x [0 1])");
        assert_eq!(p("f()"), "(f )");
        assert_eq!(p("1e-3 * .5"), "(* 0.001 0.5)");
        // Integer literals stay exact past f32's and f64's integers.
        assert_eq!(parse("16777217").unwrap().expr, Expr::Int(16_777_217));
        assert_eq!(
            parse("-9007199254740993").unwrap().expr,
            Expr::Int(-9_007_199_254_740_993)
        );
        assert_eq!(parse("2.0").unwrap().expr, Expr::Num(2.0));
        assert_eq!(parse("1e3").unwrap().expr, Expr::Num(1000.0));
        assert_eq!(parse("99999999999999999999").unwrap().expr, Expr::Num(1e20));
        assert_eq!(p("einsum('ij,jk', a, b)"), "(einsum \"ij,jk\" a b)");
    }

    #[test]
    fn names_in_order_of_appearance() {
        let n = parse("exp(3*w + cos(z)) + 3*(w^2 + sin(2*z))").unwrap();
        assert_eq!(n.names(), vec!["w", "z"]);
    }

    #[test]
    fn errors_point_at_the_column() {
        let e = parse("sin(x))").unwrap_err();
        assert_eq!(e.message, "unmatched ')'");
        assert_eq!(e.span, Span { start: 6, end: 7 });
        let e = parse("x + * y").unwrap_err();
        assert_eq!(e.span.start, 4);
        assert_eq!(
            e.render("x + * y"),
            "expected a number, a name or '(', found '*'\n  x + * y\n      ^"
        );
        assert_eq!(
            parse("(x").unwrap_err().message,
            "expected ')', found end of input"
        );
        assert_eq!(
            parse("x $ y").unwrap_err().message,
            "unexpected character '$'"
        );
        assert_eq!(parse("").unwrap_err().message, "empty expression");
        assert_eq!(parse("f(x,)").unwrap_err().span.start, 4);
        assert_eq!(parse("'abc").unwrap_err().message, "unterminated string");
        assert_eq!(parse("1.2.3").unwrap_err().message, "bad number '1.2.3'");
        assert_eq!(
            parse("x y").unwrap_err().message,
            "expected an operator, found name 'y'"
        );
    }

    #[test]
    fn deep_inputs_are_refused_not_overflowing() {
        // The binary parses on a thread with a 256 MiB stack; so does this test.
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(deep_inputs)
            .unwrap()
            .join()
            .unwrap();
    }

    fn deep_inputs() {
        let deep = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(parse(&deep)
            .unwrap_err()
            .message
            .contains("too deeply nested"));
        let long = vec!["x"; 5000].join("+");
        assert!(parse(&long)
            .unwrap_err()
            .message
            .contains("too deeply nested"));
        let minus = format!("{}x", "-".repeat(100_000));
        assert!(parse(&minus).is_err());
        let ok = vec!["x"; 500].join("+");
        assert_eq!(parse(&ok).unwrap().depth, 500);
    }
}
