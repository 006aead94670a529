//! W1-W3 of `bench/compare.py` in ferrograd, candle and dfdx, in one process: each library's
//! run of a workload alternates with the others' (so a slow phase of this noisy VM hits all
//! of them), and each figure is the median over the rounds.
//!
//! ```text
//! cd bench/peers && cargo run --release            # all of W1 W2 W3
//! cd bench/peers && cargo run --release -- W1 W2   # some
//! ```
//!
//! - W1: `y = y * 1.0001 + sin(y); y = y * 0.5`, 2,500 times from one f32 scalar (10,000 ops),
//!   then the backward; reported per op.
//! - W2 / W3: one SGD step (lr 0.01) of an MLP `in -> hidden (tanh) -> classes` with
//!   cross-entropy over class targets: 64-128-10 with batch 32, and 784-1024-10 with batch
//!   256. Each library is written as its users write it (candle: `candle_nn`'s loss and
//!   optimiser on `Var`s; dfdx: a module tuple, `cross_entropy_with_logits_loss` on one-hot
//!   targets, `Sgd`).

use std::time::{Duration, Instant};

/// Median seconds per call of `f` over calls filling about `budget` (at least 5).
fn median(budget: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let mut t = Vec::new();
    let start = Instant::now();
    while t.len() < 5 || (start.elapsed() < budget && t.len() < 2000) {
        let s = Instant::now();
        f();
        t.push(s.elapsed().as_secs_f64());
    }
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

const CHAIN: usize = 2_500;
const OPS: f64 = (4 * CHAIN) as f64;

mod fg {
    use ferrograd::nn::{self, ClassOptions};
    use ferrograd::{DType, Tensor};

    pub fn w1() -> f32 {
        let x = Tensor::scalar(0.5).requires_grad_(true);
        let mut y = x.clone();
        for _ in 0..super::CHAIN {
            y = &(&y * 1.0001) + &y.sin();
            y = &y * 0.5;
        }
        y.backward();
        x.grad().unwrap().item() as f32
    }

    pub struct Mlp {
        p: [Tensor; 4],
        x: Tensor,
        t: Tensor,
    }

    impl Mlp {
        pub fn new(i: usize, h: usize, c: usize, b: usize) -> Mlp {
            ferrograd::manual_seed(0);
            let r = |s: &[usize]| (&Tensor::randn(s) * 0.05).requires_grad_(true);
            let t: Vec<i64> = (0..b).map(|k| (k * 7 % c) as i64).collect();
            Mlp {
                p: [r(&[h, i]), r(&[h]), r(&[c, h]), r(&[c])],
                x: Tensor::randn(&[b, i]),
                t: Tensor::from_data(t, DType::I64),
            }
        }

        pub fn step(&self) -> f64 {
            let [w1, b1, w2, b2] = &self.p;
            let h = nn::linear(&self.x, w1, Some(b1)).tanh();
            let logits = nn::linear(&h, w2, Some(b2));
            let loss = nn::cross_entropy(&logits, &self.t, ClassOptions::default());
            loss.backward();
            let _g = ferrograd::no_grad();
            for p in &self.p {
                p.sub_(&(&p.grad().unwrap() * 0.01));
                p.set_grad(None);
            }
            loss.item()
        }
    }
}

mod candle {
    use candle_core::{DType, Device, Tensor, Var};
    use candle_nn::{loss, optim::Optimizer, optim::SGD};

    pub fn w1() -> f32 {
        let x = Var::new(0.5f32, &Device::Cpu).unwrap();
        let mut y: Tensor = x.as_tensor().clone();
        for _ in 0..super::CHAIN {
            y = ((&y * 1.0001).unwrap() + y.sin().unwrap()).unwrap();
            y = (&y * 0.5).unwrap();
        }
        let g = y.backward().unwrap();
        g.get(&x).unwrap().to_scalar::<f32>().unwrap()
    }

    pub struct Mlp {
        p: [Var; 4],
        x: Tensor,
        t: Tensor,
        opt: SGD,
    }

    impl Mlp {
        pub fn new(i: usize, h: usize, c: usize, b: usize) -> Mlp {
            let dev = Device::Cpu;
            let r = |s: &[usize]| {
                Var::from_tensor(&(Tensor::randn(0f32, 1.0, s, &dev).unwrap() * 0.05).unwrap())
                    .unwrap()
            };
            let p = [r(&[h, i]), r(&[h]), r(&[c, h]), r(&[c])];
            let t: Vec<u32> = (0..b).map(|k| (k * 7 % c) as u32).collect();
            let opt = SGD::new(p.to_vec(), 0.01).unwrap();
            Mlp {
                p,
                x: Tensor::randn(0f32, 1.0, &[b, i], &dev).unwrap(),
                t: Tensor::from_vec(t, b, &dev).unwrap(),
                opt,
            }
        }

        /// `candle_nn::Linear::forward`'s computation: `x @ w^T + b`.
        fn linear(x: &Tensor, w: &Var, b: &Var) -> Tensor {
            x.matmul(&w.t().unwrap()).unwrap().broadcast_add(b).unwrap()
        }

        pub fn step(&mut self) -> f64 {
            let [w1, b1, w2, b2] = &self.p;
            let h = Self::linear(&self.x, w1, b1).tanh().unwrap();
            let logits = Self::linear(&h, w2, b2);
            let loss = loss::cross_entropy(&logits, &self.t).unwrap();
            self.opt.backward_step(&loss).unwrap();
            loss.to_dtype(DType::F64)
                .unwrap()
                .to_scalar::<f64>()
                .unwrap()
        }
    }
}

mod dfdx_impl {
    use dfdx::losses::cross_entropy_with_logits_loss;
    use dfdx::nn::builders::*;
    use dfdx::optim::{Optimizer, Sgd, SgdConfig};
    use dfdx::prelude::*;

    pub fn w1() -> f32 {
        let dev = Cpu::default();
        let x: Tensor<Rank0, f32, Cpu> = dev.tensor(0.5);
        let mut y = x.leaky_trace();
        for _ in 0..super::CHAIN {
            // `y` is read twice: a tape-less copy (same id) for one use, as dfdx requires.
            let a = y.with_empty_tape() * 1.0001;
            y = (a + y.sin()) * 0.5;
        }
        let g = y.backward();
        g.get(&x).array()
    }

    type Net<const I: usize, const H: usize, const C: usize> = (Linear<I, H>, Tanh, Linear<H, C>);

    pub struct Mlp<const I: usize, const H: usize, const C: usize, const B: usize>
    where
        Net<I, H, C>: BuildOnDevice<Cpu, f32>,
    {
        dev: Cpu,
        net: <Net<I, H, C> as BuildOnDevice<Cpu, f32>>::Built,
        grads: Option<Gradients<f32, Cpu>>,
        opt: Sgd<<Net<I, H, C> as BuildOnDevice<Cpu, f32>>::Built, f32, Cpu>,
        x: Tensor<Rank2<B, I>, f32, Cpu>,
        t: Tensor<Rank2<B, C>, f32, Cpu>,
    }

    impl<const I: usize, const H: usize, const C: usize, const B: usize> Mlp<I, H, C, B>
    where
        Net<I, H, C>: BuildOnDevice<Cpu, f32>,
        <Net<I, H, C> as BuildOnDevice<Cpu, f32>>::Built: ModuleMut<
                Tensor<Rank2<B, I>, f32, Cpu, OwnedTape<f32, Cpu>>,
                Output = Tensor<Rank2<B, C>, f32, Cpu, OwnedTape<f32, Cpu>>,
                Error = <Cpu as HasErr>::Err,
            > + ZeroGrads<f32, Cpu>
            + TensorCollection<f32, Cpu>,
    {
        pub fn new() -> Self {
            let dev = Cpu::seed_from_u64(0);
            let net = dev.build_module::<Net<I, H, C>, f32>();
            let grads = Some(net.alloc_grads());
            let opt = Sgd::new(
                &net,
                SgdConfig {
                    lr: 0.01,
                    momentum: None,
                    weight_decay: None,
                },
            );
            let mut onehot = vec![0f32; B * C];
            for k in 0..B {
                onehot[k * C + k * 7 % C] = 1.0;
            }
            let t = dev.tensor_from_vec(onehot, (Const::<B>, Const::<C>));
            let x = dev.sample_normal();
            Mlp {
                dev,
                net,
                grads,
                opt,
                x,
                t,
            }
        }

        pub fn step(&mut self) -> f64 {
            let _ = &self.dev;
            let grads = self.grads.take().expect("gradients");
            let logits = self.net.forward_mut(self.x.trace(grads));
            let loss = cross_entropy_with_logits_loss(logits, self.t.clone());
            let value = loss.array() as f64;
            let mut grads = loss.backward();
            self.opt
                .update(&mut self.net, &grads)
                .expect("every parameter used");
            self.net.zero_grads(&mut grads);
            self.grads = Some(grads);
            value
        }
    }
}

fn row(id: &str, unit: &str, scale: f64, t: [f64; 3]) {
    let [f, c, d] = t.map(|s| s * scale);
    println!(
        "| {id} | {f:.3} {unit} | {c:.3} {unit} ({:.2}x) | {d:.3} {unit} ({:.2}x) |",
        c / f,
        d / f
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |w: &str| args.is_empty() || args.iter().any(|a| a == w);
    let budget = Duration::from_millis(300);
    let rounds = 5;
    println!("| id | ferrograd | candle 0.9 (ratio) | dfdx 0.13 (ratio) |");
    println!("|---|---|---|---|");
    // Each round runs every library once (a budget each); the figure is the median round.
    let interleaved = |mut fs: [&mut dyn FnMut() -> f64; 3]| -> [f64; 3] {
        let mut per: [Vec<f64>; 3] = Default::default();
        for _ in 0..rounds {
            for (k, f) in fs.iter_mut().enumerate() {
                per[k].push(f());
            }
        }
        per.map(|mut v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
    };
    if wanted("W1") {
        // The same number: every library computes d y / d x of the same chain.
        let (a, b, c) = (fg::w1(), candle::w1(), dfdx_impl::w1());
        assert!((a - b).abs() <= 1e-4 * a.abs() && (a - c).abs() <= 1e-4 * a.abs());
        let t = interleaved([
            &mut || {
                median(budget, || {
                    std::hint::black_box(fg::w1());
                })
            },
            &mut || {
                median(budget, || {
                    std::hint::black_box(candle::w1());
                })
            },
            &mut || {
                median(budget, || {
                    std::hint::black_box(dfdx_impl::w1());
                })
            },
        ]);
        row("W1 (per op)", "us", 1e6 / OPS, t);
    }
    if wanted("W2") {
        let f = fg::Mlp::new(64, 128, 10, 32);
        let mut c = candle::Mlp::new(64, 128, 10, 32);
        let mut d = dfdx_impl::Mlp::<64, 128, 10, 32>::new();
        let t = interleaved([
            &mut || {
                median(budget, || {
                    std::hint::black_box(f.step());
                })
            },
            &mut || {
                median(budget, || {
                    std::hint::black_box(c.step());
                })
            },
            &mut || {
                median(budget, || {
                    std::hint::black_box(d.step());
                })
            },
        ]);
        row("W2 (step)", "us", 1e6, t);
    }
    if wanted("W3") {
        let f = fg::Mlp::new(784, 1024, 10, 256);
        let mut c = candle::Mlp::new(784, 1024, 10, 256);
        let mut d = dfdx_impl::Mlp::<784, 1024, 10, 256>::new();
        let t = interleaved([
            &mut || {
                median(budget, || {
                    std::hint::black_box(f.step());
                })
            },
            &mut || {
                median(budget, || {
                    std::hint::black_box(c.step());
                })
            },
            &mut || {
                median(budget, || {
                    std::hint::black_box(d.step());
                })
            },
        ]);
        row("W3 (step)", "ms", 1e3, t);
    }
}
