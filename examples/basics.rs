//! The basics, shown — the page to open first after the README. Every figure is computed by
//! neurite, in f64:
//!
//! 1. **Gradient and Jacobian.** For f: ℝⁿ → ℝ (log-sum-exp) the gradient is a row of n
//!    partial derivatives; for F: ℝⁿ → ℝᵐ (softmax, a linear + tanh layer) the Jacobian is an
//!    m × n matrix. `neurite::autograd::{grad, jacobian}` beside the closed forms and central
//!    finite differences.
//! 2. **The chain rule as Jacobian products**: J(G∘F)(x) = J_G(F(x)) · J_F(x); and
//!    back-propagation computes the vector–Jacobian product vᵀJ in one backward pass, where
//!    forming J takes m of them (timed for growing n).
//! 3. **Activation curves** and their derivatives, the derivatives from autograd (`--plot
//!    FILE.svg` draws both).
//! 4. **Why non-linear activations**: three Linear layers without activations are one Linear
//!    layer, and cannot learn XOR; with tanh or ReLU between them they can.
//! 5. **The three output layers** and the loss each pairs with.
//!
//! Run: `cargo run --release --example basics -- [--plot FILE.svg] [--quick]`

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

use neurite::autograd::{grad, jacobian, Graph, Result as AgResult, Var};
use neurite::nn::{
    bce_with_logits, cross_entropy, mse, Adam, Elu, Gelu, LeakyRelu, Linear, Module, Optimizer,
    Relu, Sequential, Sigmoid, Softplus, Tanh,
};
use neurite::tensor::{Rng, Tensor};
use neurite_examples::plot::{write_svg, Panel};

/// basics: gradients and Jacobians, the chain rule, activation curves, why non-linearity matters
#[derive(Parser)]
#[command(name = "basics", allow_negative_numbers = true)]
struct Cli {
    /// Draw the activation curves and their derivatives to this SVG file
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// A short run (the tour's): a smaller timing table
    #[arg(long)]
    quick: bool,
}

fn main() {
    neurite_examples::main("basics", || run(Cli::parse()));
}

type Matrix = Vec<Vec<f64>>;

fn run(cli: Cli) -> Result<(), Box<dyn Error>> {
    let t0 = Instant::now();
    let mut rng = Rng::new(20);
    let x = Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.0], &[4])?;

    // ---- 1. Gradient (n inputs, 1 output) and Jacobian (n inputs, m outputs).
    println!("1. gradient and Jacobian at x = {:?}\n", x.to_vec());
    let g = grad(|v| v.logsumexp(0, false), &x)?.to_vec();
    let softmax_of_x = softmax(&x.to_vec());
    println!("f(x) = log Σ exp(xᵢ): ℝ⁴ → ℝ; its gradient is softmax(x)");
    print_row("  grad (autograd)   ", &g);
    print_row("  closed form       ", &softmax_of_x);
    let fd = finite_differences(|v| Ok(vec![log_sum_exp(v)]), &x.to_vec())?;
    print_row("  finite difference ", &fd[0]);
    let mut jac_err = max_diff(
        std::slice::from_ref(&g),
        std::slice::from_ref(&softmax_of_x),
    );
    let mut fd_err = max_diff(&[g], &fd);

    let j_softmax = to_rows(&jacobian(|v| v.softmax(0), &x)?, 4);
    let s = softmax_of_x;
    let closed: Matrix = (0..4)
        .map(|i| {
            (0..4)
                .map(|j| if i == j { s[i] } else { 0.0 } - s[i] * s[j])
                .collect()
        })
        .collect();
    let fd = finite_differences(|v| Ok(softmax(v)), &x.to_vec())?;
    println!("\nF(x) = softmax(x): ℝ⁴ → ℝ⁴; J = diag(s) − s sᵀ");
    print_matrix("  Jacobian (autograd)", &j_softmax);
    print_diffs(&j_softmax, &closed, &fd);
    jac_err = jac_err.max(max_diff(&j_softmax, &closed));
    fd_err = fd_err.max(max_diff(&j_softmax, &fd));

    // A layer of 3 neurons: y = tanh(W x + b), W [3, 4].
    let w = Tensor::<f64>::rand_normal(&[3, 4], 0.0, 0.5, &mut rng);
    let b = Tensor::<f64>::rand_normal(&[3], 0.0, 0.5, &mut rng);
    let j_layer = to_rows(&jacobian(|v| layer(v, &w, Some(&b)), &x)?, 4);
    let (wv, bv) = (to_rows(&w, 4), b.to_vec());
    let y: Vec<f64> = (0..3)
        .map(|i| (dot(&wv[i], &x.to_vec()) + bv[i]).tanh())
        .collect();
    let closed: Matrix = (0..3)
        .map(|i| wv[i].iter().map(|w| (1.0 - y[i] * y[i]) * w).collect())
        .collect();
    let layer_fd = |v: &[f64]| -> Result<Vec<f64>, Box<dyn Error>> {
        Ok((0..3).map(|i| (dot(&wv[i], v) + bv[i]).tanh()).collect())
    };
    let fd = finite_differences(layer_fd, &x.to_vec())?;
    println!("\nF(x) = tanh(W x + b): ℝ⁴ → ℝ³, a layer of 3 neurons; J = diag(1 − y²)·W");
    print_matrix("  Jacobian (autograd)", &j_layer);
    print_diffs(&j_layer, &closed, &fd);
    jac_err = jac_err.max(max_diff(&j_layer, &closed));
    fd_err = fd_err.max(max_diff(&j_layer, &fd));

    // ---- 2. The chain rule: J(G∘F)(x) = J_G(F(x)) · J_F(x), with F the layer, G softmax.
    let fx = Tensor::from_vec(y.clone(), &[3])?;
    let j_g = to_rows(&jacobian(|v| v.softmax(0), &fx)?, 3);
    let product = matmul(&j_g, &j_layer);
    let j_composed = to_rows(&jacobian(|v| layer(v, &w, Some(&b))?.softmax(0), &x)?, 4);
    let chain_err = max_diff(&product, &j_composed);
    println!("\n2. the chain rule, G∘F with F the layer and G = softmax:");
    print_matrix("  J_G(F(x)) · J_F(x)", &product);
    println!("  largest difference from J(G∘F)(x) computed whole: {chain_err:.1e}");

    // Back-propagation gives vᵀJ without forming J: one backward pass of Σ vᵢ·(G∘F)ᵢ.
    let v = Tensor::<f64>::rand_normal(&[3], 0.0, 1.0, &mut rng);
    let vjp = grad(
        |x| {
            let y = layer(x, &w, Some(&b))?.softmax(0)?;
            y.mul(x.graph().constant(v.clone()))?.sum()
        },
        &x,
    )?
    .to_vec();
    let vt_j: Vec<f64> = (0..4)
        .map(|j| (0..3).map(|i| v.to_vec()[i] * j_composed[i][j]).sum())
        .collect();
    let vjp_err = max_diff(&[vjp], &[vt_j]);
    println!("  vᵀJ by one backward pass vs vᵀ times the full J: largest difference {vjp_err:.1e}");
    println!("\n  F(x) = tanh(W x), W n × n: forming J takes n backward passes, vᵀJ one");
    println!(
        "  {:>6} {:>14} {:>12} {:>8}",
        "n", "full J (ms)", "vᵀJ (ms)", "ratio"
    );
    let sizes: &[usize] = if cli.quick {
        &[16, 64, 256]
    } else {
        &[16, 64, 256, 1024]
    };
    for &n in sizes {
        let w = Tensor::<f64>::rand_normal(&[n, n], 0.0, 1.0 / (n as f64).sqrt(), &mut rng);
        let x = Tensor::<f64>::rand_normal(&[n], 0.0, 1.0, &mut rng);
        let v = Tensor::<f64>::rand_normal(&[n], 0.0, 1.0, &mut rng);
        let full = fastest(3, || jacobian(|x| layer(x, &w, None), &x).map(drop))?;
        let one = fastest(3, || {
            grad(
                |x| {
                    layer(x, &w, None)?
                        .mul(x.graph().constant(v.clone()))?
                        .sum()
                },
                &x,
            )
            .map(drop)
        })?;
        println!(
            "  {n:>6} {:>14.3} {:>12.3} {:>7.0}×",
            1e3 * full,
            1e3 * one,
            full / one
        );
    }

    // ---- 3. Activation curves; derivatives by autograd, checked against the closed forms.
    println!("\n3. activations f(x) and their derivatives f'(x) (autograd):");
    let activations: Vec<(&str, Box<dyn Module<f64>>)> = vec![
        ("sigmoid", Box::new(Sigmoid)),
        ("tanh", Box::new(Tanh)),
        ("relu", Box::new(Relu)),
        ("leaky relu 0.1", Box::new(LeakyRelu::new(0.1)?)),
        ("elu", Box::new(Elu::new(1.0)?)),
        ("softplus", Box::new(Softplus)),
        ("gelu", Box::new(Gelu)),
    ];
    let points = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0];
    print!("  {:<15}", "x");
    points.iter().for_each(|p| print!(" {p:>13}"));
    println!();
    let mut act_err = 0.0f64;
    let grid: Vec<f64> = (0..=120).map(|i| -4.0 + i as f64 / 15.0).collect();
    let mut curves = (Vec::new(), Vec::new());
    for (name, act) in &activations {
        let (f, df) = curve(act.as_ref(), &points)?;
        print!("  {name:<15}");
        f.iter()
            .zip(&df)
            .for_each(|(f, d)| print!(" {f:>6.3}/{d:<6.3}"));
        println!();
        let closed: Option<Vec<f64>> = match *name {
            "sigmoid" => Some(
                points
                    .iter()
                    .map(|&x| sigmoid(x) * (1.0 - sigmoid(x)))
                    .collect(),
            ),
            "tanh" => Some(points.iter().map(|&x| 1.0 - x.tanh() * x.tanh()).collect()),
            "relu" => Some(
                points
                    .iter()
                    .map(|&x| if x > 0.0 { 1.0 } else { 0.0 })
                    .collect(),
            ),
            _ => None,
        };
        if let Some(c) = closed {
            act_err = act_err.max(max_diff(&[df], &[c]));
        }
        let (f, df) = curve(act.as_ref(), &grid)?;
        curves
            .0
            .push((name.to_string(), grid.iter().copied().zip(f).collect()));
        curves
            .1
            .push((name.to_string(), grid.iter().copied().zip(df).collect()));
    }
    println!("  (each cell f/f'; σ' = σ(1 − σ), tanh' = 1 − tanh², relu' = step: largest difference {act_err:.1e})");
    if let Some(path) = &cli.plot {
        let panels = [
            Panel {
                caption: "f(x)".into(),
                curves: curves.0,
            },
            Panel {
                caption: "f'(x) by autograd".into(),
                curves: curves.1,
            },
        ];
        write_svg(path, "activation functions and their derivatives", &panels)?;
        println!("  curves drawn to {}", path.display());
    }

    // ---- 4. The collapse: Linear ∘ Linear ∘ Linear is one Linear layer.
    println!("\n4. three Linear layers without activations are one Linear layer:");
    let stack = |rng: &mut Rng| -> Result<[Linear<f64>; 3], Box<dyn Error>> {
        Ok([
            Linear::new(2, 8, rng)?,
            Linear::new(8, 8, rng)?,
            Linear::new(8, 1, rng)?,
        ])
    };
    let [l1, l2, l3] = stack(&mut Rng::new(3))?;
    // y = W₃(W₂(W₁x + b₁) + b₂) + b₃ = (W₃W₂W₁)x + (W₃(W₂b₁ + b₂) + b₃).
    let weight = |l: &Linear<f64>| to_rows(l.weight.value(), l.in_features());
    let bias = |l: &Linear<f64>| {
        l.bias
            .as_ref()
            .map(|b| b.value().to_vec())
            .unwrap_or_default()
    };
    let w = matmul(&weight(&l3), &matmul(&weight(&l2), &weight(&l1)));
    let b = add(
        &mat_vec(
            &weight(&l3),
            &add(&mat_vec(&weight(&l2), &bias(&l1)), &bias(&l2)),
        ),
        &bias(&l3),
    );
    let single = Linear::from_tensors(
        Tensor::from_vec(w.concat(), &[1, 2])?,
        Some(Tensor::from_vec(b.clone(), &[1])?),
    )?;
    let three = Sequential::new().add(l1).add(l2).add(l3);
    let inputs = Tensor::<f64>::rand_normal(&[100, 2], 0.0, 2.0, &mut rng);
    let collapse_err = max_diff(&[predict(&three, &inputs)?], &[predict(&single, &inputs)?]);
    println!(
        "  W = W₃W₂W₁ = {:?}, b = {:.4}",
        w[0].iter().map(|v| format!("{v:.4}")).collect::<Vec<_>>(),
        b[0]
    );
    println!("  on 100 random inputs the stack and the single layer differ by at most {collapse_err:.1e}");

    println!("\n  so a linear stack draws one straight boundary, and XOR needs two:");
    let xor_x = Tensor::from_vec(vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2])?;
    let xor_y = [0usize, 1, 1, 0];
    let mut accuracies = Vec::new();
    for kind in ["linear", "tanh", "relu"] {
        let [l1, l2, l3] = stack(&mut Rng::new(5))?;
        let mut net = Sequential::new().add(l1);
        net = match kind {
            "tanh" => net.add(Tanh).add(l2).add(Tanh).add(l3),
            "relu" => net.add(Relu).add(l2).add(Relu).add(l3),
            _ => net.add(l2).add(l3),
        };
        let acc = train_xor(&mut net, &xor_x, &xor_y)?;
        println!(
            "\n  {kind} stack: XOR accuracy {:.0}%  (sigmoid output + BCE, Adam, 1,000 steps)",
            100.0 * acc
        );
        for line in boundary(&net)? {
            println!("    {line}");
        }
        accuracies.push(acc);
    }

    // ---- 5. Output layers and their losses, on one example each.
    println!("\n5. the output layer fits the task, and each pairs with a loss:");
    let g = Graph::<f64>::new();
    let c = |v: Vec<f64>, shape: &[usize]| Tensor::from_vec(v, shape).map(|t| g.constant(t));
    let l_mse = mse(c(vec![2.5], &[1, 1])?, c(vec![3.0], &[1, 1])?)?.item()?;
    let l_bce = bce_with_logits(c(vec![0.8], &[1, 1])?, c(vec![1.0], &[1, 1])?)?.item()?;
    let l_ce = cross_entropy(c(vec![2.0, 1.0, 0.1], &[1, 3])?, &[0])?.item()?;
    let expected = [0.25, -sigmoid(0.8).ln(), -softmax(&[2.0, 1.0, 0.1])[0].ln()];
    let loss_err = max_diff(&[vec![l_mse, l_bce, l_ce]], &[expected.to_vec()]);
    let rows = [
        ["output", "task", "loss (one example)", "trained in"].map(String::from),
        [
            "linear ŷ = z".into(),
            "regression".into(),
            format!("MSE (ŷ − y)²: 2.5 vs 3 → {l_mse:.4}"),
            "mlp_regression".into(),
        ],
        [
            "sigmoid σ(z)".into(),
            "binary".into(),
            format!("BCE −log σ(z): z 0.8 → {l_bce:.4}"),
            "mlp_binary".into(),
        ],
        [
            "softmax".into(),
            "multi-class".into(),
            format!("cross-entropy: [2, 1, .1] → {l_ce:.4}"),
            "mlp_multiclass".into(),
        ],
    ];
    for [output, task, loss, example] in &rows {
        println!("  {output:<16} {task:<22} {loss:<34} {example}");
    }

    println!(
        "\nresult: jacobian_max_error={jac_err:.1e} finite_difference_max_error={fd_err:.1e} chain_rule_max_error={chain_err:.1e} vjp_max_error={vjp_err:.1e} activation_derivative_max_error={act_err:.1e} collapse_max_error={collapse_err:.1e} xor_linear_accuracy={:.2} xor_tanh_accuracy={:.2} xor_relu_accuracy={:.2} loss_max_error={loss_err:.1e} seconds={:.2}",
        accuracies[0],
        accuracies[1],
        accuracies[2],
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A layer of neurons on a vector x [n]: tanh(W x + b), W [m, n] → [m].
fn layer<'g>(x: Var<'g, f64>, w: &Tensor<f64>, b: Option<&Tensor<f64>>) -> AgResult<Var<'g, f64>> {
    let (m, n) = (w.shape()[0], w.shape()[1]);
    let g = x.graph();
    let mut z = g
        .constant(w.clone())
        .matmul(x.reshape(&[n, 1])?)?
        .reshape(&[m])?;
    if let Some(b) = b {
        z = z.add(g.constant(b.clone()))?;
    }
    z.tanh()
}

/// Trains `net` (logits) on XOR with BCE and returns its accuracy on the four points.
fn train_xor(
    net: &mut Sequential<f64>,
    x: &Tensor<f64>,
    y: &[usize],
) -> Result<f64, Box<dyn Error>> {
    let targets = Tensor::from_vec(y.iter().map(|&v| v as f64).collect(), &[4, 1])?;
    let mut opt = Adam::new(0.05)?;
    for _ in 0..1000 {
        let g = Graph::new();
        let logits = net.forward(&g, g.constant(x.clone()))?;
        let grads = bce_with_logits(logits, g.constant(targets.clone()))?.backward()?;
        opt.step(net, &grads)?;
    }
    let logits = predict(net, x)?;
    let right = logits
        .iter()
        .zip(y)
        .filter(|(z, &t)| (**z > 0.0) == (t == 1))
        .count();
    Ok(right as f64 / y.len() as f64)
}

/// The decision regions of `net` over [−0.5, 1.5]², as ASCII: `#` where it says 1, `.` where 0,
/// and the four XOR points as their labels.
fn boundary(net: &dyn Module<f64>) -> Result<Vec<String>, Box<dyn Error>> {
    let (rows, cols) = (11, 33);
    let mut grid = Vec::new();
    for r in 0..rows {
        let x2 = 1.5 - 2.0 * r as f64 / (rows - 1) as f64;
        for c in 0..cols {
            grid.extend([-0.5 + 2.0 * c as f64 / (cols - 1) as f64, x2]);
        }
    }
    let z = predict(net, &Tensor::from_vec(grid, &[rows * cols, 2])?)?;
    let mut lines: Vec<Vec<char>> = z
        .chunks(cols)
        .map(|row| {
            row.iter()
                .map(|&z| if z > 0.0 { '#' } else { '.' })
                .collect()
        })
        .collect();
    for (x1, x2, label) in [
        (0.0, 0.0, '0'),
        (0.0, 1.0, '1'),
        (1.0, 0.0, '1'),
        (1.0, 1.0, '0'),
    ] {
        let c = ((x1 + 0.5) / 2.0 * (cols - 1) as f64).round() as usize;
        let r = ((1.5 - x2) / 2.0 * (rows - 1) as f64).round() as usize;
        lines[r][c] = label;
    }
    Ok(lines.into_iter().map(|l| l.into_iter().collect()).collect())
}

/// The outputs of `net` on `x`, flattened, without recording a graph.
fn predict(net: &dyn Module<f64>, x: &Tensor<f64>) -> Result<Vec<f64>, Box<dyn Error>> {
    let g = Graph::inference();
    Ok(net.forward(&g, g.constant(x.clone()))?.value()?.to_vec())
}

/// An activation and its derivative at `points`: f elementwise, f' as the gradient of Σ f.
fn curve(act: &dyn Module<f64>, points: &[f64]) -> Result<(Vec<f64>, Vec<f64>), Box<dyn Error>> {
    let x = Tensor::from_vec(points.to_vec(), &[points.len()])?;
    let f = predict(act, &x)?;
    let g = Graph::new();
    let v = g.variable(x);
    let grads = act.forward(&g, v)?.sum()?.backward()?; // upstream 1 into each f(xᵢ)
    let df = grads.get(v).ok_or("no gradient reached x")?.to_vec();
    Ok((f, df))
}

/// Central finite differences of `f` at `x`: rows ∂fᵢ/∂xⱼ ≈ (fᵢ(x + h eⱼ) − fᵢ(x − h eⱼ)) / 2h.
fn finite_differences(
    f: impl Fn(&[f64]) -> Result<Vec<f64>, Box<dyn Error>>,
    x: &[f64],
) -> Result<Matrix, Box<dyn Error>> {
    let h = 1e-6;
    let mut columns = Vec::new();
    for j in 0..x.len() {
        let (mut up, mut down) = (x.to_vec(), x.to_vec());
        up[j] += h;
        down[j] -= h;
        let (fu, fd) = (f(&up)?, f(&down)?);
        columns.push(
            fu.iter()
                .zip(&fd)
                .map(|(a, b)| (a - b) / (2.0 * h))
                .collect::<Vec<_>>(),
        );
    }
    Ok((0..columns[0].len())
        .map(|i| columns.iter().map(|c| c[i]).collect())
        .collect())
}

/// The fastest of `repeats` timings of `f`, in seconds.
fn fastest<E: Error + 'static>(
    repeats: usize,
    mut f: impl FnMut() -> Result<(), E>,
) -> Result<f64, Box<dyn Error>> {
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn print_row(label: &str, v: &[f64]) {
    println!(
        "{label} [{}]",
        v.iter()
            .map(|x| format!("{x:8.5}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}

fn print_matrix(label: &str, m: &Matrix) {
    println!("{label}:");
    for row in m {
        print_row("   ", row);
    }
}

fn print_diffs(autograd: &Matrix, closed: &Matrix, fd: &Matrix) {
    println!(
        "  largest difference from the closed form {:.1e}, from finite differences {:.1e}",
        max_diff(autograd, closed),
        max_diff(autograd, fd)
    );
}

fn max_diff(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    let pairs = a.iter().flatten().zip(b.iter().flatten());
    pairs.map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

fn to_rows(t: &Tensor<f64>, cols: usize) -> Matrix {
    t.to_vec().chunks(cols).map(<[f64]>::to_vec).collect()
}

fn matmul(a: &Matrix, b: &Matrix) -> Matrix {
    a.iter()
        .map(|row| {
            (0..b[0].len())
                .map(|j| row.iter().zip(b).map(|(x, r)| x * r[j]).sum())
                .collect()
        })
        .collect()
}

fn mat_vec(a: &Matrix, v: &[f64]) -> Vec<f64> {
    a.iter().map(|row| dot(row, v)).collect()
}

fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

fn softmax(v: &[f64]) -> Vec<f64> {
    let l = log_sum_exp(v);
    v.iter().map(|x| (x - l).exp()).collect()
}
