//! Finite-difference gradient checks in f64: analytic gradients from back-propagation against
//! central differences (f(x + h) − f(x − h)) / 2h, element by element.
//!
//! A non-scalar output is reduced with a fixed random projection, loss = Σ f(x) ⊙ R, which
//! checks the whole vector–Jacobian product. [`GradCase`] is the unit of the gradient-check
//! suite (`cargo xtask gradcheck`); every crate with differentiable ops or layers lists its
//! cases, and the suite checks that every op name in their `OPS` lists is exercised.

use std::collections::BTreeSet;

use neurite_tensor::{Rng, Tensor};

use crate::error::{AutogradError, Result};
use crate::graph::{Graph, Var};

/// A function of input variables that builds an output in the graph it is given.
pub type GraphFn = dyn for<'g> Fn(&'g Graph<f64>, &[Var<'g, f64>]) -> Result<Var<'g, f64>>;

/// The function under test: builds the output from the input variables.
pub type CaseFn =
    Box<dyn for<'g> Fn(&'g Graph<f64>, &[Var<'g, f64>]) -> Result<Var<'g, f64>> + Send + Sync>;

/// One entry of the gradient-check suite.
pub struct GradCase {
    /// The op or layer checked (e.g. "matmul", "Linear").
    pub name: String,
    /// The shapes, for the report (e.g. `"[3,4]·[4,2]"`).
    pub shapes: String,
    /// Input values (each gets a gradient).
    pub inputs: Vec<Tensor<f64>>,
    /// The function.
    pub f: CaseFn,
}

impl GradCase {
    /// A case with inputs and a function.
    pub fn new(
        name: impl Into<String>,
        inputs: Vec<Tensor<f64>>,
        f: impl for<'g> Fn(&'g Graph<f64>, &[Var<'g, f64>]) -> Result<Var<'g, f64>>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        let shapes = inputs
            .iter()
            .map(|t| format!("{:?}", t.shape()))
            .collect::<Vec<_>>()
            .join(" ");
        GradCase {
            name: name.into(),
            shapes,
            inputs,
            f: Box::new(f),
        }
    }

    /// Runs [`gradcheck`] on this case.
    pub fn run(&self, opts: &GradcheckOptions) -> Result<GradcheckReport> {
        gradcheck(&self.name, &*self.f, &self.inputs, opts)
    }
}

/// Step and tolerances of a gradient check.
#[derive(Debug, Clone, Copy)]
pub struct GradcheckOptions {
    /// Finite-difference step h.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance: an element passes when |analytic − numeric| ≤ atol + rtol·|numeric|.
    pub rtol: f64,
    /// Seed of the random projection of non-scalar outputs.
    pub seed: u64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            seed: 0x5eed,
        }
    }
}

/// Errors of one input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputErrors {
    /// Largest |analytic − numeric|.
    pub max_abs: f64,
    /// Largest |analytic − numeric| / max(|analytic|, |numeric|) over elements whose
    /// gradient is not negligible (both below atol count as exact).
    pub max_rel: f64,
    /// True when every element is within tolerance.
    pub passed: bool,
}

/// The result of a gradient check.
#[derive(Debug, Clone)]
pub struct GradcheckReport {
    /// The op or layer checked.
    pub name: String,
    /// Errors per input.
    pub inputs: Vec<InputErrors>,
    /// Op names recorded while building the output (what the check exercised).
    pub ops: BTreeSet<&'static str>,
}

impl GradcheckReport {
    /// True when every input passed.
    pub fn passed(&self) -> bool {
        self.inputs.iter().all(|i| i.passed)
    }
    /// Largest absolute error over inputs.
    pub fn max_abs(&self) -> f64 {
        self.inputs.iter().map(|i| i.max_abs).fold(0.0, f64::max)
    }
    /// Largest relative error over inputs.
    pub fn max_rel(&self) -> f64 {
        self.inputs.iter().map(|i| i.max_rel).fold(0.0, f64::max)
    }
    /// Ok when passed, else an error naming the op and the worst input.
    pub fn into_result(self, opts: &GradcheckOptions) -> Result<Self> {
        match self.inputs.iter().position(|i| !i.passed) {
            None => Ok(self),
            Some(i) => Err(AutogradError::GradcheckFailed {
                op: self.name.clone(),
                input: i,
                max_abs: self.inputs[i].max_abs,
                max_rel: self.inputs[i].max_rel,
                atol: opts.atol,
                rtol: opts.rtol,
            }),
        }
    }
}

/// Runs every case of a crate's suite and checks that every op name in `ops` was exercised by
/// some case: `Ok(number of cases)`, or an error listing each case that failed or could not
/// run and each op no case covers. Each crate's own test calls it on its cases and `OPS`.
pub fn check_suite(
    cases: &[GradCase],
    ops: &[&str],
    opts: &GradcheckOptions,
) -> std::result::Result<usize, String> {
    let mut covered = BTreeSet::new();
    let mut problems = Vec::new();
    for case in cases {
        match case.run(opts) {
            Ok(report) => {
                covered.extend(report.ops.iter().copied());
                if !report.passed() {
                    problems.push(format!(
                        "{} {}: abs {:.2e} rel {:.2e}",
                        case.name,
                        case.shapes,
                        report.max_abs(),
                        report.max_rel()
                    ));
                }
            }
            Err(e) => problems.push(format!("{} {}: {e}", case.name, case.shapes)),
        }
    }
    problems.extend(
        ops.iter()
            .filter(|op| !covered.contains(**op))
            .map(|op| format!("{op}: no gradient check exercises this op")),
    );
    if problems.is_empty() {
        Ok(cases.len())
    } else {
        Err(format!("gradcheck failures:\n{}", problems.join("\n")))
    }
}

fn projected(out: &Tensor<f64>, r: &Tensor<f64>) -> f64 {
    out.to_vec()
        .iter()
        .zip(r.to_vec())
        .map(|(a, b)| a * b)
        .sum()
}

/// Compares back-propagated gradients of `f` at `inputs` with central differences.
///
/// ```
/// use neurite_autograd::{gradcheck, GradcheckOptions};
/// use neurite_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(1);
/// let x = Tensor::<f64>::rand_normal(&[3, 4], 0.0, 1.0, &mut rng);
/// let report = gradcheck("tanh", &|_g, v| v[0].tanh(), &[x], &GradcheckOptions::default())?;
/// assert!(report.passed());
/// # Ok::<(), neurite_autograd::AutogradError>(())
/// ```
pub fn gradcheck(
    name: &str,
    f: &GraphFn,
    inputs: &[Tensor<f64>],
    opts: &GradcheckOptions,
) -> Result<GradcheckReport> {
    // Analytic: one backward pass of Σ f(x) ⊙ R.
    let graph = Graph::new();
    let vars: Vec<Var<'_, f64>> = inputs.iter().map(|t| graph.variable(t.clone())).collect();
    let out = f(&graph, &vars)?;
    let ops: BTreeSet<&'static str> = {
        let inner = graph.inner.borrow();
        inner
            .nodes
            .iter()
            .filter(|n| {
                n.op_name != "variable" && n.op_name != "constant" && n.op_name != "parameter"
            })
            .map(|n| n.op_name)
            .collect()
    };
    let out_value = out.value()?;
    let mut rng = Rng::new(opts.seed);
    let r = Tensor::<f64>::rand_uniform(out_value.shape(), -1.0, 1.0, &mut rng);
    let grads = if out.requires_grad() {
        Some(out.backward_with(r.clone(), Default::default())?)
    } else {
        None
    };

    let mut reports = Vec::with_capacity(inputs.len());
    for (i, x) in inputs.iter().enumerate() {
        let analytic = grads
            .as_ref()
            .and_then(|g| g.get(vars[i]).cloned())
            .unwrap_or_else(|| Tensor::zeros(x.shape()))
            .to_vec();
        let base = x.to_vec();
        let (mut max_abs, mut max_rel, mut passed) = (0.0f64, 0.0f64, true);
        for k in 0..base.len() {
            let eval = |delta: f64| -> Result<f64> {
                let mut v = base.clone();
                v[k] += delta;
                // A recording graph of constants: records no backward rules, yet ops behave as
                // in training (dropout masks apply).
                let g = Graph::new();
                let vs: Vec<Var<'_, f64>> = inputs
                    .iter()
                    .enumerate()
                    .map(|(j, t)| {
                        if j == i {
                            Tensor::from_vec(v.clone(), x.shape()).map(|t| g.constant(t))
                        } else {
                            Ok(g.constant(t.clone()))
                        }
                    })
                    .collect::<std::result::Result<_, _>>()?;
                Ok(projected(&f(&g, &vs)?.value()?, &r))
            };
            let numeric = (eval(opts.eps)? - eval(-opts.eps)?) / (2.0 * opts.eps);
            let a = analytic[k];
            let abs = (a - numeric).abs();
            let scale = a.abs().max(numeric.abs());
            let rel = if scale > opts.atol { abs / scale } else { 0.0 };
            max_abs = max_abs.max(abs);
            max_rel = max_rel.max(rel);
            let within = abs <= opts.atol + opts.rtol * numeric.abs();
            if !within {
                passed = false;
            }
        }
        reports.push(InputErrors {
            max_abs,
            max_rel,
            passed,
        });
    }
    Ok(GradcheckReport {
        name: name.to_string(),
        inputs: reports,
        ops,
    })
}
