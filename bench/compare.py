#!/usr/bin/env python3
"""Runs the performance workloads W1-W9 in PyTorch and in ferrograd on this machine, in one
invocation, and prints a Markdown table of ratios (the figure BENCHMARKS.md records).

    python3 bench/compare.py            # everything (about two minutes)
    python3 bench/compare.py W2 W6      # some workloads

Needs `torch` (CPU is enough) and a Rust toolchain. ferrograd's side is
`cargo run --release --example bench_workloads`; the PyTorch programs below are the same
computations, timed the same way (median of repetitions after a warm-up).

When the `ferrograd` Python package is importable (`bash scripts/test.sh` builds it, or
`pip install ./crates/ferrograd-py`), W1-W3 also run from Python: the very same programs with
`import ferrograd as torch`, in a column of their own, plus the import time and the installed
size of the package. W8 (per-sample gradients) and W9 (a batch of Hessians) are Python only:
`ferrograd.func` against `torch.func`, the same programs.
"""
import json
import os
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGET = 2.0


def median(f, budget=BUDGET):
    f()
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < 1000):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def w1(torch=torch):
    x = torch.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(2500):
        y = y * 1.0001 + torch.sin(y)
        y = y * 0.5
    y.backward()
    return x.grad.item()


class Mlp:
    def __init__(self, inp, hidden, classes, batch, torch=torch):
        self.torch = torch
        torch.manual_seed(0)

        def init(shape, fan_in):
            bound = 1.0 / fan_in ** 0.5
            return (torch.rand(shape) * 2 * bound - bound).requires_grad_(True)

        self.w1, self.b1 = init((hidden, inp), inp), init((hidden,), inp)
        self.w2, self.b2 = init((classes, hidden), hidden), init((classes,), hidden)
        self.x = torch.randn(batch, inp)
        self.target = torch.tensor([i * 7 % classes for i in range(batch)])

    def step(self):
        torch = self.torch
        h = torch.nn.functional.linear(self.x, self.w1, self.b1).tanh()
        logits = torch.nn.functional.linear(h, self.w2, self.b2)
        loss = torch.nn.functional.cross_entropy(logits, self.target)
        loss.backward()
        with torch.no_grad():
            for p in (self.w1, self.b1, self.w2, self.b2):
                p.sub_(p.grad * 0.01)
                p.grad = None
        return loss.item()


def w5(x):
    x = x.detach().requires_grad_(True)
    y = torch.tanh(x)
    ones = torch.ones_like(x)
    a = torch.autograd.grad(y, x, ones, create_graph=True)[0]
    b = torch.autograd.grad(a, x, ones, create_graph=True)[0]
    return torch.autograd.grad(b, x, ones)[0]


def w6(x):
    x = x.detach().requires_grad_(True)
    y = (torch.exp(torch.sin(x)) * x + 1).sum()
    y.backward()
    return x.grad


def matmul_times(shape):
    """Median seconds of A @ B (no graph) and of sum(A @ B).backward(), A and B of `shape`."""
    torch.manual_seed(0)
    a = torch.randn(*shape, requires_grad=True)
    b = torch.randn(*shape, requires_grad=True)

    def fwd():
        with torch.no_grad():
            return a @ b

    def bwd():
        (a @ b).sum().backward()
        a.grad = None
        b.grad = None

    return median(fwd), median(bwd)


def torch_results(wanted):
    out = {}
    if wanted("W1"):
        out["W1"] = median(w1) / 10_000
    if wanted("W2"):
        m = Mlp(64, 128, 10, 32)
        out["W2"] = median(m.step)
    if wanted("W3"):
        m = Mlp(784, 1024, 10, 256)
        out["W3"] = median(m.step)
    if wanted("W4"):
        for n in (256, 1024, 2048):
            out[f"W4-{n}"], out[f"W4-{n}-bwd"] = matmul_times((n, n))
    if wanted("W4B"):
        out["W4B"], out["W4B-bwd"] = matmul_times((64, 128, 128))
    if wanted("W5"):
        x = torch.linspace(-7, 7, 1_000_000)
        out["W5"] = median(lambda: w5(x))
    if wanted("W6"):
        torch.manual_seed(0)
        x = torch.randn(10_000_000)
        out["W6"] = median(lambda: w6(x))
    return out


def python_results(wanted):
    """W1-W3 with `import ferrograd as torch` (the same programs), or {} without the package."""
    try:
        import ferrograd
    except ImportError:
        return {}
    out = {}
    if wanted("W1"):
        out["W1"] = median(lambda: w1(ferrograd)) / 10_000
    if wanted("W2"):
        m = Mlp(64, 128, 10, 32, torch=ferrograd)
        out["W2"] = median(m.step)
    if wanted("W3"):
        m = Mlp(784, 1024, 10, 256, torch=ferrograd)
        out["W3"] = median(m.step)
    return out


def w8_setup(torch, batch=256, inp=784, hidden=1024, classes=10):
    """W8: the W3 MLP (tanh, cross-entropy with integer class targets), one loss per sample."""
    torch.manual_seed(0)

    def init(shape, fan_in):
        bound = 1.0 / fan_in ** 0.5
        return torch.rand(shape) * 2 * bound - bound

    params = {"w1": init((hidden, inp), inp), "b1": init((hidden,), inp),
              "w2": init((classes, hidden), hidden), "b2": init((classes,), hidden)}
    x = torch.randn(batch, inp)
    target = torch.tensor([i * 7 % classes for i in range(batch)])

    def loss(p, x, t):
        h = torch.nn.functional.linear(x, p["w1"], p["b1"]).tanh()
        logits = torch.nn.functional.linear(h, p["w2"], p["b2"])
        return torch.nn.functional.cross_entropy(logits, t)

    return params, x, target, loss


def w8(torch):
    params, x, target, loss = w8_setup(torch)
    per_sample = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))
    return lambda: per_sample(params, x, target)


def w8_loop(torch):
    """W8's per-sample gradients as a loop of backward passes, one per sample."""
    params, x, target, loss = w8_setup(torch)
    ps = {k: v.requires_grad_(True) for k, v in params.items()}

    def run():
        return [torch.autograd.grad(loss(ps, x[i], target[i]), list(ps.values()))
                for i in range(x.shape[0])]
    return run


def w9(torch, n=64, batch=128):
    """W9: Hessians of f(x) = sum(tanh(A x)) (64 variables) at a batch of 128 points."""
    torch.manual_seed(0)
    a = torch.randn(n, n) / n ** 0.5
    xs = torch.randn(batch, n)
    f = lambda x: torch.tanh(a @ x).sum()
    hs = torch.func.vmap(torch.func.hessian(f))
    return lambda: hs(xs)


def func_results(wanted):
    """W8 and W9 in torch.func and ferrograd.func (Python), or {} without the package."""
    try:
        import ferrograd
        import ferrograd.func  # noqa: F401
    except ImportError:
        return {}
    import torch.func  # noqa: F401
    out = {}
    if wanted("W8"):
        out["W8"] = (median(w8(torch)), median(w8(ferrograd)), median(w8_loop(ferrograd)))
    if wanted("W9"):
        out["W9"] = (median(w9(torch)), median(w9(ferrograd)), None)
    return out


def import_seconds(module):
    """Median wall time of `python -c "import module"` minus that of `python -c pass`."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # time imports from cached bytecode, as installed

    def run(code):
        times = []
        for _ in range(7):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
            times.append(time.perf_counter() - t)
        return sorted(times)[3]
    return run(f"import {module}") - run("pass")


def package_mb():
    import ferrograd
    root = os.path.dirname(ferrograd.__file__)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)
    return size / 1e6


def rss_kb():
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return int(fields["VmRSS"][0]), int(fields["VmHWM"][0])


def torch_peak(which):
    before, _ = rss_kb()
    if which == "W3":
        m = Mlp(784, 1024, 10, 256)
        for _ in range(5):
            m.step()
    else:
        x = torch.linspace(-7, 7, 1_000_000)
        for _ in range(3):
            w5(x)
    _, hwm = rss_kb()
    print(json.dumps({"baseline_kb": before, "peak_kb": hwm}))


def ferrograd_run(args):
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "ferrograd", "--example", "bench_workloads", "--"] + args
    text = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in text.splitlines() if line.strip()]


GOALS = {
    "W1": ("us/op", 1e6, "<= 0.15 us/op"),
    "W2": ("us", 1e6, ">= 4x faster"),
    "W3": ("ms", 1e3, ">= 1.3x faster"),
    "W4B": ("ms", 1e3, ">= 0.95x (as W4)"),
    "W4B-bwd": ("ms", 1e3, ">= 0.95x (as W4)"),
    "W5": ("ms", 1e3, ">= 2x faster"),
    "W6": ("ms", 1e3, ">= 2x faster"),
}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--torch-peak":
        torch_peak(sys.argv[2])
        return
    args = sys.argv[1:]
    wanted = lambda i: not args or any(a.upper() == i for a in args)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"{os.cpu_count()} CPUs: {cpu_name()}", file=sys.stderr)
    rust_args = [a for a in args if a.upper() not in ("W8", "W9")]
    ours = {}
    if not args or rust_args:
        ours = {r["id"]: r["seconds"] for r in ferrograd_run(rust_args)}
    theirs = torch_results(wanted)
    python = python_results(wanted)
    print("| id | workload | PyTorch | ferrograd | speedup (PyTorch time / ferrograd time) | goal |")
    print("|---|---|---|---|---|---|")
    for key in theirs:
        if key not in ours:
            continue
        t, f = theirs[key], ours[key]
        if key.startswith("W4-"):
            n = int(key.split("-")[1])
            gf = lambda s: 2 * n ** 3 / s / 1e9
            what = f"matmul {n}" + (" fwd+bwd of sum(A@B)" if key.endswith("bwd") else " fwd")
            mult = 3 if key.endswith("bwd") else 1
            print(f"| {key} | {what} | {mult * gf(t):.1f} GFLOP/s | {mult * gf(f):.1f} GFLOP/s | {t / f:.2f}x | >= 0.95x |")
        else:
            unit, scale, goal = GOALS[key]
            print(f"| {key} | | {t * scale:.3g} {unit} | {f * scale:.3g} {unit} | {t / f:.2f}x | {goal} |")
    if python:
        print()
        print("| id | PyTorch (Python) | ferrograd (Python) | ferrograd (Rust) | Python vs PyTorch | Python vs Rust | goal |")
        print("|---|---|---|---|---|---|---|")
        py_goals = {"W1": ">= 5x faster than PyTorch", "W2": "within 15% of Rust",
                    "W3": "within 15% of Rust"}
        for key, p in python.items():
            unit, scale, _ = GOALS[key]
            t, r = theirs.get(key), ours.get(key)
            vs_torch = f"{t / p:.2f}x faster" if t else "-"
            vs_rust = f"{p / r:.2f}x the time" if r else "-"
            print(f"| {key} | {t * scale:.3g} {unit} | {p * scale:.3g} {unit} | {r * scale:.3g} {unit} "
                  f"| {vs_torch} | {vs_rust} | {py_goals[key]} |")
        print()
        print(f"import: ferrograd {import_seconds('ferrograd') * 1e3:.0f} ms, "
              f"torch {import_seconds('torch') * 1e3:.0f} ms (goal <= 50 ms); "
              f"installed ferrograd package: {package_mb():.1f} MB (goal <= 15 MB)")
    funcs = func_results(wanted)
    if funcs:
        print()
        print("| id | workload | torch.func | ferrograd.func (Python) | speedup | ferrograd loop "
              "| vs loop | goal |")
        print("|---|---|---|---|---|---|---|---|")
        what = {"W8": "per-sample grads, W3 MLP, batch 256: vmap(grad(loss))",
                "W9": "vmap(hessian(f)), 64 variables, batch 128"}
        goals = {"W8": ">= 1x torch.func, >= 20x the loop", "W9": ">= 1x torch.func"}
        for key, (t, p, loop) in funcs.items():
            lp = f"{loop * 1e3:.3g} ms" if loop else "-"
            vs = f"{loop / p:.1f}x faster" if loop else "-"
            print(f"| {key} | {what[key]} | {t * 1e3:.3g} ms | {p * 1e3:.3g} ms | {t / p:.2f}x "
                  f"| {lp} | {vs} | {goals[key]} |")
    if wanted("W7"):
        for which in ("W3", "W5"):
            mine = ferrograd_run(["--peak", which])[0]
            py = subprocess.run([sys.executable, __file__, "--torch-peak", which], check=True,
                                capture_output=True, text=True).stdout
            py = json.loads(py)
            mb = lambda kb: kb / 1024
            print(f"| W7-{which} | peak RSS (growth over baseline) | {mb(py['peak_kb']):.0f} MB "
                  f"(+{mb(py['peak_kb'] - py['baseline_kb']):.0f}) | {mb(mine['peak_kb']):.0f} MB "
                  f"(+{mb(mine['peak_kb'] - mine['baseline_kb']):.0f}) | "
                  f"{py['peak_kb'] / mine['peak_kb']:.2f}x | <= PyTorch |")


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
