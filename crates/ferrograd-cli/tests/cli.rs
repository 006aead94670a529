//! The `ferrograd` binary end to end: values (from the seeds and closed forms), the JSON schema,
//! errors with their caret, files written, and inputs that must not crash or hang.

use std::process::{Command, Output};

fn ferrograd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrograd"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = ferrograd(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let out = ferrograd(args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} should fail with status 1"
    );
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&ok(&all)).expect("--json prints one JSON object")
}

#[test]
fn seed_000_x_squared_at_5() {
    // s000-1: y = x**2 at 5 prints tensor(25., grad_fn=<PowBackward0>) and x.grad tensor(10.)
    assert_eq!(
        ok(&["grad", "x^2", "--at", "x=5"]),
        "f = tensor(25., grad_fn=<PowBackward0>)\ndf/dx = tensor(10.)\n"
    );
    assert_eq!(
        ok(&["grad", "x**2", "--at", "x=5"]),
        ok(&["grad", "x^2", "--at", "x=5"])
    );
    // s001-2: y = x**2 + 2x + 2 at [2.] -> tensor([6.])
    assert!(ok(&["grad", "x^2 + 2*x + 2", "--at", "x=[2]"]).ends_with("df/dx = tensor([6.])\n"));
    // An EXPR that starts with a minus is an expression, not an option.
    assert!(ok(&["grad", "-x^2", "--at", "x=5"]).ends_with("df/dx = tensor(-10.)\n"));
}

#[test]
fn seed_004_chain_rule_scalar_and_matrix() {
    // s004-3 prints [dw,dz] = [109.43202209472656, -31.508562088012695]
    let v = json(&[
        "grad",
        "exp(3*w + cos(z)) + 3*(w^2 + sin(2*z))",
        "--at",
        "w=[1]",
        "--at",
        "z=[1]",
    ]);
    assert_eq!(v["grad"]["w"][0].as_f64().unwrap() as f32, 109.432_02_f32);
    assert_eq!(v["grad"]["z"][0].as_f64().unwrap() as f32, -31.508_562_f32);
    // s004-4 prints F : 47.323326110839844 and dW, dZ as below.
    let expr = "norm(exp(3*W + cos(Z)) + (3*W + cos(Z)) @ (W @ W + sin(2*Z)))";
    let at = [
        "--at",
        "W=[[1,0.5],[0.2,0.1]]",
        "--at",
        "Z=[[1,0.5],[0.2,0.1]]",
    ];
    let text = ok(&[&["grad", expr][..], &at].concat());
    assert_eq!(
        text,
        "f = tensor(47.3233, grad_fn=<LinalgVectorNormBackward0>)\n\
         df/dW =\ntensor([[109.2307,  15.7019],\n        [  9.2889,   3.3088]])\n\
         df/dZ =\ntensor([[-31.2551,  -0.5578],\n        [  4.1373,   1.8906]])\n"
    );
    let v = json(&[&["grad", expr][..], &at].concat());
    assert_eq!(v["value"].as_f64().unwrap() as f32, 47.323_326_f32);
}

#[test]
fn higher_orders_follow_the_closed_forms() {
    // tanh' = 1 - t^2, tanh'' = -2 t (1 - t^2), tanh''' = (6 t^2 - 2)(1 - t^2); in f64.
    let v = json(&[
        "grad", "tanh(x)", "--at", "x=-2", "--order", "3", "--dtype", "f64",
    ]);
    let t = (-2.0f64).tanh();
    let s = 1.0 - t * t;
    let close = |a: &serde_json::Value, b: f64| (a.as_f64().unwrap() - b).abs() < 1e-14;
    assert!(close(&v["value"], t));
    assert!(close(&v["grad"]["x"], s));
    assert!(close(&v["derivatives"]["2"]["x"], -2.0 * t * s));
    assert!(close(&v["derivatives"]["3"]["x"], (6.0 * t * t - 2.0) * s));
    // x^3: 3x^2, 6x, 6, 0 at x = 2 (exact).
    let v = json(&["grad", "x^3", "--at", "x=2", "--order", "4"]);
    assert_eq!(v["grad"]["x"], 12.0);
    assert_eq!(v["derivatives"]["2"]["x"], 12.0);
    assert_eq!(v["derivatives"]["3"]["x"], 6.0);
    assert_eq!(v["derivatives"]["4"]["x"], 0.0);
    // Elementwise over a vector, as seed 002 plots them.
    let v = json(&[
        "grad", "sin(x)", "--at", "x=[0, 1]", "--order", "2", "--dtype", "f64",
    ]);
    assert_eq!(v["derivatives"]["2"]["x"][0], 0.0);
    assert!(close(&v["derivatives"]["2"]["x"][1], -(1.0f64).sin()));
}

#[test]
fn json_schema() {
    let v = json(&[
        "grad", "x*y", "--at", "x=[1,2]", "--at", "y=3", "--order", "2",
    ]);
    let obj = v.as_object().unwrap();
    assert_eq!(
        obj.keys().collect::<Vec<_>>(),
        ["derivatives", "grad", "value"]
    );
    assert_eq!(v["value"], serde_json::json!([3.0, 6.0]));
    assert_eq!(v["grad"], serde_json::json!({"x": [3.0, 3.0], "y": 3.0}));
    assert_eq!(
        v["derivatives"],
        serde_json::json!({"2": {"x": [0.0, 0.0], "y": 0.0}})
    );
    // f32 values are printed as their shortest f32 text.
    assert_eq!(
        ok(&["grad", "x", "--at", "x=0.1", "--json"]),
        "{\"value\": 0.1, \"grad\": {\"x\": 1.0}, \"derivatives\": {}}\n"
    );
    // Non-finite numbers become strings (JSON has no NaN).
    let v = json(&["grad", "log(x)", "--at", "x=0"]);
    assert_eq!(v["value"], "-Infinity");
    assert_eq!(v["grad"]["x"], "Infinity");
    // --wrt picks and orders the variables; the others are constants.
    let v = json(&["grad", "x*y", "--at", "x=2", "--at", "y=3", "--wrt", "y"]);
    assert_eq!(v["grad"], serde_json::json!({"y": 2.0}));
    // hessian: value, grad, and every block.
    let v = json(&["hessian", "x^2*y + y^3", "--at", "x=1", "--at", "y=2"]);
    assert_eq!(
        v,
        serde_json::json!({"value": 10.0, "grad": {"x": 4.0, "y": 13.0},
            "hessian": {"x": {"x": 4.0, "y": 2.0}, "y": {"x": 2.0, "y": 12.0}}})
    );
    let v = json(&["hessian", "sum(x^3)", "--at", "x=[1,2]"]);
    assert_eq!(
        v["hessian"]["x"]["x"],
        serde_json::json!([[6.0, 0.0], [0.0, 12.0]])
    );
}

#[test]
fn seed_gradient_and_dtypes() {
    // A non-scalar EXPR takes --seed as grad_outputs (default ones).
    let v = json(&["grad", "x^2", "--at", "x=[1,2]", "--seed", "[1,10]"]);
    assert_eq!(v["grad"]["x"], serde_json::json!([2.0, 40.0]));
    let v = json(&["grad", "x^2", "--at", "x=[1,2]"]);
    assert_eq!(v["grad"]["x"], serde_json::json!([2.0, 4.0]));
    // --dtype f64 keeps the f64 digits.
    let v = json(&["grad", "x/3", "--at", "x=1", "--dtype", "f64"]);
    assert_eq!(v["value"].as_f64().unwrap(), 1.0 / 3.0);
    let v = json(&["grad", "x/3", "--at", "x=1"]);
    assert_eq!(v["value"].as_f64().unwrap() as f32, 1.0f32 / 3.0);
    // Constant expressions in VALUE, constants in EXPR.
    let v = json(&["grad", "sin(t)", "--at", "t=pi/2", "--dtype", "f64"]);
    assert_eq!(v["value"], 1.0);
}

#[test]
fn errors_point_at_the_column() {
    assert_eq!(
        fails(&["grad", "sin(x))", "--at", "x=1"]),
        "error: unmatched ')'\n  sin(x))\n        ^\n"
    );
    assert_eq!(
        fails(&["grad", "sinn(x)", "--at", "x=1"]),
        "error: unknown function 'sinn' (did you mean 'sin'?)\n  sinn(x)\n  ^^^^\n"
    );
    assert_eq!(
        fails(&["grad", "sin(x, x)", "--at", "x=1"]),
        "error: sin(x) takes 1 argument but 2 were given\n  sin(x, x)\n  ^^^^^^^^^\n"
    );
    assert_eq!(
        fails(&["grad", "x + y", "--at", "x=1"]),
        "error: name 'y' has no value: pass --at y=VALUE\n  x + y\n      ^\n"
    );
    assert_eq!(
        fails(&["grad", "x * y", "--at", "x=[1,2]", "--at", "y=[1,2,3]"]),
        "error: mul: The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0 (shapes [2] and [3])\n  x * y\n  ^^^^^\n"
    );
    assert_eq!(
        fails(&["grad", "x", "--at", "x=[1,2"]),
        "error: --at x: expected ',' or ']', found end of input\n  [1,2\n      ^\n"
    );
    assert_eq!(
        fails(&["grad", "x", "--at", "y=1"]),
        "error: --at y=1: 'y' does not appear in EXPR\n"
    );
    assert_eq!(
        fails(&["grad", "x", "--at", "x"]),
        "error: --at x: expected NAME=VALUE\n"
    );
    assert_eq!(
        fails(&["grad", "x", "--at", "x=1", "--wrt", "z"]),
        "error: --wrt z: 'z' is not a variable of EXPR (variables: x)\n"
    );
    assert_eq!(
        fails(&["grad", "x*2", "--at", "x=[1,2]", "--seed", "[1,2,3]"]),
        "error: --seed: Mismatch in shape: grad_output[0] has a shape of [3] and output[0] has a shape of [2]\n"
    );
    assert_eq!(
        fails(&["hessian", "x*[1,2]", "--at", "x=1"]),
        "error: hessian: EXPR must be a scalar, got a value of shape [2]\n"
    );
    assert_eq!(
        fails(&["grad", "", "--at", "x=1"]).lines().next(),
        Some("error: empty expression")
    );
    assert!(fails(&["grad", "x", "--at", "x=1", "--graph", "g.txt"])
        .contains("must end in .svg, .png or .dot"));
    // Usage errors come from clap with status 2.
    assert_eq!(ferrograd(&["grad"]).status.code(), Some(2));
    assert_eq!(
        ferrograd(&["grad", "x", "--order", "0"]).status.code(),
        Some(2)
    );
}

#[test]
fn hostile_inputs_get_errors_not_crashes() {
    let deep = format!("{}x{}", "(".repeat(50_000), ")".repeat(50_000));
    let long = vec!["x"; 20_000].join("+");
    let minus = format!("{}x", "-".repeat(50_000)); // also not an option for clap
    let calls = format!("{}x{}", "sin(".repeat(5_000), ")".repeat(5_000));
    for expr in [deep.as_str(), &long, &minus, &calls] {
        assert!(fails(&["grad", expr, "--at", "x=1"]).contains("too deeply nested"));
    }
    for expr in [
        "\u{1}", "x\u{7f}", "é + x", "[[[", "]]]", ",", "f(", "'", "1e", "1e+", "..5", "@x", "x^",
        "sum()",
    ] {
        let out = ferrograd(&["grad", expr, "--at", "x=1"]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{expr:?}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("internal error"),
            "{expr:?}"
        );
    }
}

#[test]
fn orders_whose_graphs_explode_are_refused_in_time() {
    // Each order of this quotient multiplies its graph by about 4: order 12 would take minutes.
    let start = std::time::Instant::now();
    let err = fails(&[
        "grad",
        "sin(x)*exp(x)/(1+x^2)",
        "--at",
        "x=0.5",
        "--order",
        "12",
    ]);
    assert!(err.contains("Lower --order"), "{err}");
    assert!(start.elapsed().as_secs() < 60);
    // tanh's graphs grow slowly: all twelve orders are computed. Its odd derivatives at 0 are
    // the tangent numbers with alternating signs (tanh = x - x^3/3 + 2x^5/15 - 17x^7/315 ...).
    let v = json(&[
        "grad", "tanh(x)", "--at", "x=0", "--order", "12", "--dtype", "f64",
    ]);
    assert_eq!(v["grad"]["x"], 1.0);
    assert_eq!(v["derivatives"]["3"]["x"], -2.0);
    assert_eq!(v["derivatives"]["5"]["x"], 16.0);
    assert_eq!(v["derivatives"]["7"]["x"], -272.0);
    assert_eq!(v["derivatives"]["12"]["x"], 0.0);
}

#[test]
fn writes_graphs_and_plots() {
    let dir = std::env::temp_dir().join(format!("ferrograd-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    // Seed 002's `out` graph as DOT, SVG and PNG.
    for ext in ["dot", "svg", "png"] {
        ok(&[
            "grad",
            "mean(3*(x+2)^2)",
            "--at",
            "x=[[1,1],[1,1]]",
            "--graph",
            &path(&format!("out.{ext}")),
        ]);
    }
    let dot = std::fs::read_to_string(path("out.dot")).unwrap();
    assert!(
        dot.starts_with("digraph {") && dot.contains("MeanBackward0") && dot.contains("x\n (2, 2)")
    );
    let svg = std::fs::read_to_string(path("out.svg")).unwrap();
    for label in [
        "MeanBackward0",
        "MulBackward0",
        "PowBackward0",
        "AddBackward0",
        "AccumulateGrad",
    ] {
        assert!(svg.contains(label), "{label}");
    }
    assert_eq!(
        &std::fs::read(path("out.png")).unwrap()[..8],
        b"\x89PNG\r\n\x1a\n"
    );
    // Seed 002's figure: tanh and three derivatives.
    ok(&[
        "grad",
        "tanh(x)",
        "--plot",
        &path("tanh.svg"),
        "--over",
        "x=-7:7",
        "--order",
        "3",
    ]);
    let svg = std::fs::read_to_string(path("tanh.svg")).unwrap();
    for label in [
        "tanh(x)",
        "1st derivative",
        "2nd derivative",
        "3rd derivative",
    ] {
        assert!(svg.contains(label), "{label}");
    }
    ok(&[
        "grad",
        "tanh(x)",
        "--plot",
        &path("tanh.png"),
        "--over",
        "x=-3:3:50",
    ]);
    assert_eq!(&std::fs::read(path("tanh.png")).unwrap()[..4], b"\x89PNG");
    assert!(fails(&[
        "grad",
        "sum(x)",
        "--plot",
        &path("bad.svg"),
        "--over",
        "x=-1:1"
    ])
    .contains("elementwise"));
    assert!(
        fails(&["grad", "x", "--plot", &path("bad.svg"), "--over", "x=1:-1"]).contains("LO < HI")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn ops_lists_the_functions() {
    let list = ok(&["ops"]);
    // The CLI's own forms, as before.
    for sig in ["  sum(x[, dims[, keepdim]])\n", "  softmax(x[, dim=-1])\n"] {
        assert!(list.contains(sig), "{sig}");
    }
    // Ops of the registry show its (Python's) signature and summary; sin and matmul still
    // show the CLI's old rows until they are declared with api!, so only their names are
    // pinned here.
    assert!(list.contains(
        "  sum_dims(self: Tensor, dims: list[int], keepdim: bool = False)  # Sum over the dimensions"
    ));
    for name in ["  sin(", "  matmul("] {
        assert!(list.lines().any(|l| l.starts_with(name)), "{name}");
    }
    let json: serde_json::Value = serde_json::from_str(&ok(&["ops", "--json"])).unwrap();
    let rows = json["functions"].as_array().unwrap();
    let row = |name: &str| rows.iter().find(|r| r["name"] == name).unwrap();
    assert_eq!(
        row("sum_dims")["signature"],
        "sum_dims(self: Tensor, dims: list[int], keepdim: bool = False)"
    );
    assert_eq!(row("sum_dims")["source"], "registry");
    assert_eq!(row("sum")["source"], "cli");
    assert_eq!(row("sum")["signature"], "sum(x[, dims[, keepdim]])");
    let help = ok(&["--help"]);
    assert!(help.contains("ferrograd grad \"x^2\" --at x=5"));
}

#[test]
fn sizes_typed_in_expr_cannot_ask_for_terabytes() {
    // The limit is now 2^26 elements per tensor (was 10^8 for expand and repeat only).
    let err = fails(&["grad", "sum(repeat(x, [100000, 100000]))", "--at", "x=1"]);
    assert!(
        err.starts_with("error: repeat: a result repeating it [100000, 100000] times would have 10000000000 elements, over the limit of 67108864 elements per tensor"),
        "{err}"
    );
    let err = fails(&[
        "grad",
        "sum(sin(expand(x, [100000, 100000])))",
        "--at",
        "x=1",
    ]);
    assert!(err.contains("over the limit of 67108864 elements"), "{err}");
    let err = fails(&[
        "grad",
        "sin(x)*exp(x)/(1+x^2)",
        "--plot",
        "q.svg",
        "--over",
        "x=-1:1:1000000",
        "--order",
        "8",
    ]);
    assert!(err.contains("too much work"), "{err}");
}

/// Every input of issue 12's list ends in a result or a clear error, in bounded memory.
#[test]
fn every_op_is_sized_before_it_runs() {
    let refused = |expr: &str, at: &str, wanted: &str| {
        let err = fails(&["grad", expr, "--at", at]);
        assert!(
            err.starts_with("error: ") && err.contains(wanted),
            "{expr}: {err}"
        );
    };
    // Broadcasting three expanded vectors: 10^9 elements.
    refused(
        "sum(x*expand(x,[1000,1,1])*expand(x,[1,1000,1])*expand(x,[1,1,1000]))",
        "x=[1]",
        "mul: a result of shape [1000, 1000, 1000] would have 1000000000 elements, over the limit of 67108864 elements per tensor",
    );
    refused(
        "diag(x, 65536)",
        "x=[1]",
        "diag: a result of shape [65537, 65537] would have 4295098369 elements",
    );
    refused(
        "outer(expand(x,[100000]), expand(x,[100000]))",
        "x=[1]",
        "outer: a result of shape [100000, 100000] would have 10000000000 elements",
    );
    // einsum contracts pairwise: 'ij,jk' of 1000x1000 runs (eval.rs tests it); an outer
    // product of 10^5 x 10^5 is 10^10 elements, and 'ij,jk' of 3000x3000 too much work.
    refused(
        "einsum('i,j->ij', expand(x,[100000]), expand(x,[100000]))",
        "x=[1]",
        "einsum: the largest of its pairwise products would have 10000000000 elements",
    );
    refused(
        "einsum('ij,jk->ik', expand(x,[3000,3000]), expand(x,[3000,3000]))",
        "x=[1]",
        "einsum: the largest of its pairwise products would cost 27000000000 multiply-adds",
    );
    // Sizes whose product wraps around 2^64 are refused, not wrapped to 0.
    refused(
        "expand(x, [4294967296, 4294967296])",
        "x=[1]",
        "would have 18446744073709551616 elements",
    );
    refused(
        "reshape(x, [4294967296, 4294967296])",
        "x=[]",
        "reshape: shape '[4294967296, 4294967296]' is invalid for input of size 0",
    );
    // Work, not only size: a GEMM of 4096^3 and an LU of 3000^3.
    refused(
        "sum(expand(x,[4096,4096]) @ expand(x,[4096,4096]))",
        "x=[1]",
        "multiply-adds (or their equivalent), over the limit of 8589934592 per operation",
    );
    refused(
        "det(expand(x,[3000,3000]))",
        "x=[1]",
        "over the limit of 8589934592 per operation",
    );
    // The whole evaluation is bounded too.
    refused(
        "sum(sin(expand(x,[8192,8192]))*2)",
        "x=[1]",
        "over the limit of 134217728 per evaluation",
    );
    // The same sizes within the limits compute.
    let v = json(&[
        "grad",
        "sum(x*expand(x,[10,1,1])*expand(x,[1,10,1]))",
        "--at",
        "x=[1]",
    ]);
    assert_eq!(v["value"], 100.0);
    assert_eq!(v["grad"]["x"], serde_json::json!([300.0]));
    let v = json(&["grad", "sum(diag(x, 2))", "--at", "x=[1,2]"]);
    assert_eq!(v["value"], 3.0);
    // A Hessian of a million variables is 10^12 entries.
    let err = fails(&["hessian", "sum(x)", "--at", "x=expand(1, [1000000])"]);
    assert!(
        err.contains("hessian: 1000000 variable elements make a Hessian of 1000000000000 entries"),
        "{err}"
    );
}

#[test]
fn empty_tensors_print_their_shape_without_allocating_it() {
    // PyTorch: print(torch.zeros(294967296, 0)) is tensor([], size=(294967296, 0)).
    let out = ok(&["grad", "reshape(x, [294967296, 0])", "--at", "x=[]"]);
    assert_eq!(
        out,
        "f = tensor([], size=(294967296, 0), grad_fn=<ViewBackward0>)\ndf/dx = tensor([])\n"
    );
    // As JSON it would be 294967296 empty lists: refused, not allocated.
    let err = fails(&[
        "grad",
        "reshape(x, [294967296, 0])",
        "--at",
        "x=[]",
        "--json",
    ]);
    assert!(
        err.contains("would print 294967297 numbers and lists"),
        "{err}"
    );
    let v = json(&["grad", "reshape(x, [3, 0])", "--at", "x=[]"]);
    assert_eq!(v["value"], serde_json::json!([[], [], []]));
}

#[test]
fn integer_arguments_are_exact() {
    // 16777217 = 2^24 + 1 is not a float32: it must not round to 16777216.
    let out = ok(&["grad", "reshape(x, [16777217, 0])", "--at", "x=[]"]);
    assert!(
        out.starts_with("f = tensor([], size=(16777217, 0)"),
        "{out}"
    );
    let out = ok(&["grad", "reshape(x, [2^24 + 1, 0])", "--at", "x=[]"]);
    assert!(
        out.starts_with("f = tensor([], size=(16777217, 0)"),
        "{out}"
    );
    // Past 2^53 too (f64 would round 9007199254740993 to ...992).
    let out = ok(&["grad", "reshape(x, [9007199254740993, 0])", "--at", "x=[]"]);
    assert!(
        out.starts_with("f = tensor([], size=(9007199254740993, 0)"),
        "{out}"
    );
    // Offsets: diag(x, 16777217) is refused for its size, named exactly.
    let err = fails(&["grad", "diag(x, 16777217)", "--at", "x=[1]"]);
    assert!(err.contains("shape [16777218, 16777218]"), "{err}");
    // A float32 value past 2^24 is not taken as an exact integer.
    let err = fails(&[
        "grad",
        "reshape(x, [n, 0])",
        "--at",
        "x=[]",
        "--at",
        "n=16777217",
    ]);
    assert!(
        err.contains("past the integers float32 holds exactly"),
        "{err}"
    );
    assert!(fails(&["grad", "sum(x, 0.5)", "--at", "x=[1]"]).contains("must be integers, got 0.5"));
}

#[test]
fn plots_over_infinite_widths_are_refused() {
    // -1e308:1e308 has finite ends but an infinite width: it used to hang.
    let err = fails(&[
        "grad",
        "x",
        "--plot",
        "never.svg",
        "--over",
        "x=-1e308:1e308",
    ]);
    assert!(err.contains("finite width"), "{err}");
    let err = fails(&["grad", "x", "--plot", "never.svg", "--over", "x=0:inf"]);
    assert!(err.contains("finite"), "{err}");
    let err = fails(&[
        "grad",
        "x",
        "--plot",
        "never.svg",
        "--over",
        "x=0:1:2000000",
    ]);
    assert!(err.contains("N <= 1000000"), "{err}");
    // A non-elementwise EXPR over a million points is sized like any other.
    let err = fails(&[
        "grad",
        "sum(outer(reshape(x, [-1]), reshape(x, [-1])))",
        "--plot",
        "never.svg",
        "--over",
        "x=0:1:1000000",
    ]);
    assert!(
        err.contains("outer: a result of shape [1000000, 1000000]"),
        "{err}"
    );
    // Values near f64::MAX make a y-axis of infinite width: refused, not drawn forever.
    let err = fails(&[
        "grad",
        "x*1e307",
        "--plot",
        "never.svg",
        "--over",
        "x=-10:10",
    ]);
    assert!(err.contains("too wide for a chart"), "{err}");
    assert!(!std::path::Path::new("never.svg").exists());
}

#[test]
fn help_documents_the_limits() {
    let help = ok(&["--help"]);
    assert!(help.contains("2^26 elements"), "{help}");
    assert!(help.contains("2^33 multiply-adds"), "{help}");
}
