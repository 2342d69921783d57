//! Back-propagation by hand and by neurite, on the textbook example
//! f(x, y, z) = (x + y) · max(y, z), then gradient descent θ ← θ − α∇J(θ) on a tiny
//! least-squares problem.
//!
//! For every node of the computational graph it prints the forward value, the upstream
//! gradient (∂f/∂node), and for every input edge the local gradient (∂node/∂input) and the
//! downstream gradient (upstream × local) that flows into that input. `--dot FILE` writes the
//! graph as Graphviz DOT (render with `dot -Tsvg`).
//!
//! Run: `cargo run --release --example backprop`

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

use neurite::autograd::{BackwardOptions, Graph, Parameter};
use neurite::tensor::{Rng, Tensor};
use neurite_examples::flags;

/// backprop: back-propagation node by node on f = (x + y)·max(y, z), then gradient descent
#[derive(Parser)]
#[command(name = "backprop", allow_negative_numbers = true)]
struct Cli {
    /// Write the computational graph as Graphviz DOT to FILE (render: dot -Tsvg FILE)
    #[arg(long, value_name = "FILE")]
    dot: Option<PathBuf>,
    /// Gradient-descent steps [default: 40; 20 with --quick]
    #[arg(long, value_name = "N", value_parser = flags::count(1, flags::MAX_EPOCHS))]
    steps: Option<usize>,
    /// A short run (the tour's)
    #[arg(long)]
    quick: bool,
}

fn main() {
    neurite_examples::main("backprop", || run(Cli::parse()));
}

fn run(cli: Cli) -> Result<(), Box<dyn Error>> {
    let steps = cli.steps.unwrap_or(if cli.quick { 20 } else { 40 });
    let t0 = Instant::now();

    // ---- Part 1: f(x, y, z) = (x + y) · max(y, z) at x = −2, y = 5, z = −4.
    let (xv, yv, zv) = (-2.0f64, 5.0, -4.0);
    let g = Graph::<f64>::new();
    let x = g.variable(Tensor::scalar(xv));
    let y = g.variable(Tensor::scalar(yv));
    let z = g.variable(Tensor::scalar(zv));
    g.set_label(x, "x");
    g.set_label(y, "y");
    g.set_label(z, "z");
    let q = x.add(y)?; // q = x + y
    g.set_label(q, "q");
    let m = y.maximum(z)?; // m = max(y, z)
    g.set_label(m, "m");
    let f = q.mul(m)?; // f = q · m
    g.set_label(f, "f");
    let grads = f.backward_with(Tensor::scalar(1.0), BackwardOptions { retain_graph: true })?;

    println!("f(x, y, z) = (x + y) · max(y, z) at x = {xv}, y = {yv}, z = {zv}");
    println!(
        "forward:  q = x + y = {}   m = max(y, z) = {}   f = q · m = {}",
        q.item()?,
        m.item()?,
        f.item()?
    );
    println!("\nbackward, node by node (upstream = ∂f/∂node; downstream = upstream × local):");
    let up = |v: neurite::autograd::Var<'_, f64>| -> Result<f64, Box<dyn Error>> {
        Ok(v.grad().ok_or("no gradient retained")?.item()?)
    };
    let (qv, mv) = (q.item()?, m.item()?);
    println!("  f = q·m   upstream 1");
    println!(
        "      → q: local ∂f/∂q = m = {mv:>5}   downstream {}",
        up(f)? * mv
    );
    println!(
        "      → m: local ∂f/∂m = q = {qv:>5}   downstream {}",
        up(f)? * qv
    );
    println!("  q = x+y   upstream {}", up(q)?);
    println!("      → x: local 1                downstream {}", up(q)?);
    println!("      → y: local 1                downstream {}", up(q)?);
    let y_wins = if yv >= zv { 1.0 } else { 0.0 };
    println!("  m = max(y,z)   upstream {}", up(m)?);
    println!(
        "      → y: local [y ≥ z] = {y_wins}        downstream {}",
        up(m)? * y_wins
    );
    println!(
        "      → z: local [z > y] = {}        downstream {}",
        1.0 - y_wins,
        up(m)? * (1.0 - y_wins)
    );
    let get = |v| grads.get(v).map(|t: &Tensor<f64>| t.item()).transpose();
    let (dx, dy, dz) = (
        get(x)?.unwrap_or(0.0),
        get(y)?.unwrap_or(0.0),
        get(z)?.unwrap_or(0.0),
    );
    println!("gradients accumulate where a value is used twice (y feeds q and m):");
    println!("  ∂f/∂x = {dx}   ∂f/∂y = {dy}   ∂f/∂z = {dz}");
    match &cli.dot {
        Some(path) => {
            neurite::nn::write_atomic(path, g.to_dot().as_bytes())?;
            println!(
                "computational graph written to {} (render: dot -Tsvg {0} -o graph.svg)",
                path.display()
            );
        }
        None => println!("(--dot FILE writes the computational graph as Graphviz DOT)"),
    }

    // ---- Part 2: gradient descent on least squares J(w, b) = mean((X·w + b − y)²).
    println!(
        "\ngradient descent θ ← θ − α∇J(θ) on a least-squares fit of y = 3·x₁ − 2·x₂ + 1 + noise:"
    );
    let mut rng = Rng::new(7);
    let n = 64;
    let xs = Tensor::<f64>::rand_normal(&[n, 2], 0.0, 1.0, &mut rng);
    let true_w = Tensor::from_vec(vec![3.0, -2.0], &[2, 1])?;
    let noise = Tensor::rand_normal(&[n, 1], 0.0, 0.1, &mut rng);
    let ys = xs.matmul(&true_w)?.add_scalar(1.0).add(&noise)?;
    let mut w = Parameter::new(Tensor::zeros(&[2, 1]));
    let mut b = Parameter::new(Tensor::zeros(&[1]));
    let alpha = 0.1;
    let mut loss_value = f64::NAN;
    for step in 0..steps {
        let g = Graph::new();
        let pred = g
            .constant(xs.clone())
            .matmul(g.param(&w))?
            .add(g.param(&b))?;
        let loss = pred.sub(g.constant(ys.clone()))?.square()?.mean()?;
        loss_value = loss.item()?;
        let grads = loss.backward()?;
        let (gw, gb) = (
            grads.wrt(&w).ok_or("no gradient for w")?.clone(),
            grads.wrt(&b).ok_or("no gradient for b")?.clone(),
        );
        w.value_mut().add_scaled_inplace(-alpha, &gw)?;
        b.value_mut().add_scaled_inplace(-alpha, &gb)?;
        if step % 5 == 0 || step + 1 == steps {
            println!("  step {step:>3}  J = {loss_value:.5}");
        }
    }
    let wv = w.value().to_vec();
    let bv = b.value().to_vec()[0];
    println!(
        "learned w = [{:.3}, {:.3}], b = {:.3} (true: [3, -2], 1)",
        wv[0], wv[1], bv
    );
    println!(
        "result: f={} dfdx={dx} dfdy={dy} dfdz={dz} final_loss={loss_value:.6} w1={:.4} w2={:.4} b={bv:.4} seconds={:.3}",
        f.item()?,
        wv[0],
        wv[1],
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
