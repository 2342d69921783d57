//! Integration tests of neurite-autograd: every registered op passes its gradient check, the
//! graph's semantics (accumulation, detach, pruning, inference mode, errors), Jacobians, DOT,
//! and flat memory over many training steps.

use std::collections::BTreeSet;

use neurite_autograd::{
    check_suite, concat, grad, jacobian, registry, AutogradError, BackwardOptions,
    GradcheckOptions, Graph, Parameter, OPS,
};
use neurite_tensor::{Rng, Tensor};

#[test]
fn every_registered_case_passes_and_every_op_is_covered() {
    let cases = registry::cases();
    if let Err(e) = check_suite(&cases, OPS, &GradcheckOptions::default()) {
        panic!("{e}");
    }
}

#[test]
fn gradcheck_catches_a_wrong_gradient() {
    use neurite_autograd::{Backward, BackwardContext};
    struct WrongSquare;
    impl Backward<f64> for WrongSquare {
        fn name(&self) -> &'static str {
            "wrong_square"
        }
        fn backward(
            &self,
            ctx: &BackwardContext<'_, f64>,
            g: &Tensor<f64>,
        ) -> neurite_autograd::Result<Vec<Option<Tensor<f64>>>> {
            // Should be 2x·g; x·g is wrong by a factor of two.
            Ok(vec![Some(g.mul(ctx.input(0))?)])
        }
    }
    let x = Tensor::from_vec(vec![1.0, 2.0, -3.0], &[3]).unwrap();
    let case = neurite_autograd::GradCase::new("wrong_square", vec![x], |_, v| {
        let out = v[0].value()?.square();
        v[0].record(WrongSquare, &[], out)
    });
    let opts = GradcheckOptions::default();
    let report = case.run(&opts).unwrap();
    assert!(!report.passed());
    let err = report.into_result(&opts).unwrap_err();
    assert!(err.to_string().contains("wrong_square"), "{err}");
}

#[test]
fn textbook_example_upstream_local_downstream() {
    // f(x, y, z) = (x + y)·max(y, z) at x=1, y=2, z=0: f = 6, ∂f/∂x = 2, ∂f/∂y = 3 + 2 = 5, ∂f/∂z = 0.
    let g = Graph::<f64>::new();
    let x = g.variable(Tensor::scalar(1.0));
    let y = g.variable(Tensor::scalar(2.0));
    let z = g.variable(Tensor::scalar(0.0));
    let f = x.add(y).unwrap().mul(y.maximum(z).unwrap()).unwrap();
    assert_eq!(f.item().unwrap(), 6.0);
    let grads = f.backward().unwrap();
    assert_eq!(grads.get(x).unwrap().item().unwrap(), 2.0);
    assert_eq!(grads.get(y).unwrap().item().unwrap(), 5.0);
    assert_eq!(grads.get(z).unwrap().item().unwrap(), 0.0);
}

#[test]
fn detach_stops_gradients_and_constants_get_none() {
    let g = Graph::<f64>::new();
    let x = g.variable(Tensor::from_vec(vec![3.0], &[1]).unwrap());
    let c = g.constant(Tensor::from_vec(vec![2.0], &[1]).unwrap());
    let y = x
        .mul(x.detach().unwrap())
        .unwrap()
        .mul(c)
        .unwrap()
        .sum()
        .unwrap();
    let grads = y.backward().unwrap();
    // d/dx [x·stop(x)·2] = stop(x)·2 = 6
    assert_eq!(grads.get(x).unwrap().to_vec(), vec![6.0]);
    assert!(grads.get(c).is_none());
}

#[test]
fn branches_without_parameters_are_not_differentiated() {
    let g = Graph::<f64>::new();
    let data = g.constant(Tensor::ones(&[2, 2]));
    let expensive = data.exp().unwrap().matmul(data).unwrap();
    assert!(!expensive.requires_grad());
    let w = Parameter::new(Tensor::ones(&[2, 2]));
    let out = expensive.matmul(g.param(&w)).unwrap().sum().unwrap();
    assert!(out.requires_grad());
    let grads = out.backward().unwrap();
    assert_eq!(grads.wrt(&w).unwrap().shape(), &[2, 2]);
}

#[test]
fn param_bound_twice_is_one_leaf_and_accumulates() {
    let w = Parameter::new(Tensor::<f64>::from_vec(vec![2.0], &[1]).unwrap());
    let g = Graph::new();
    let a = g.param(&w);
    let b = g.param(&w);
    assert_eq!(a.id(), b.id());
    let y = a.mul(b).unwrap().add(a).unwrap().sum().unwrap(); // w² + w → 2w + 1 = 5
    let grads = y.backward().unwrap();
    assert_eq!(grads.wrt(&w).unwrap().to_vec(), vec![5.0]);
}

#[test]
fn inference_graph_records_nothing() {
    let w = Parameter::new(Tensor::<f32>::ones(&[3, 3]));
    let g = Graph::inference();
    let y = g
        .constant(Tensor::ones(&[2, 3]))
        .matmul(g.param(&w))
        .unwrap()
        .relu()
        .unwrap()
        .sum()
        .unwrap();
    assert_eq!(y.item().unwrap(), 18.0);
    assert!(!y.requires_grad());
    assert_eq!(y.backward().unwrap_err(), AutogradError::InferenceGraph);
}

#[test]
fn typed_errors() {
    let g = Graph::<f64>::new();
    let x = g.variable(Tensor::ones(&[2, 3]));
    assert!(matches!(
        x.backward(),
        Err(AutogradError::NonScalarBackward { .. })
    ));
    assert!(matches!(
        x.backward_with(Tensor::ones(&[3, 2]), BackwardOptions::default()),
        Err(AutogradError::UpstreamShape { .. })
    ));
    let other = Graph::<f64>::new();
    let y = other.variable(Tensor::ones(&[2, 3]));
    assert!(matches!(
        x.add(y),
        Err(AutogradError::ForeignVariable { op: "add" })
    ));
    assert!(matches!(x.matmul(x), Err(AutogradError::Tensor(_))));
    let s = x.sum().unwrap();
    s.backward().unwrap();
    assert!(matches!(s.backward(), Err(AutogradError::Released { .. })));
}

#[test]
fn sizes_that_overflow_are_typed_errors() {
    let g = Graph::<f64>::new();
    let x = g.variable(Tensor::ones(&[2, 3]));
    // Split sizes whose sum overflows usize (a debug-build panic before).
    assert!(matches!(
        x.split(1, &[usize::MAX, 4]),
        Err(AutogradError::InvalidArgument { .. })
    ));
    assert!(matches!(
        x.reshape(&[usize::MAX, 2]),
        Err(AutogradError::Tensor(_))
    ));
    assert!(matches!(
        x.narrow(1, usize::MAX, 2),
        Err(AutogradError::Tensor(_))
    ));
}

#[test]
fn backward_with_upstream_and_retained_graph() {
    let g = Graph::<f64>::new();
    let x = g.variable(Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap());
    let y = x.square().unwrap();
    let grads = y
        .backward_with(
            Tensor::from_vec(vec![1.0, 10.0], &[2]).unwrap(),
            BackwardOptions { retain_graph: true },
        )
        .unwrap();
    assert_eq!(grads.get(x).unwrap().to_vec(), vec![2.0, 40.0]);
    assert_eq!(y.grad().unwrap().to_vec(), vec![1.0, 10.0]);
    let dot = g.to_dot();
    assert!(dot.contains("square") && dot.contains("n0 -> n1"), "{dot}");
}

#[test]
fn grad_and_jacobian() {
    let x = Tensor::<f64>::from_vec(vec![0.5, -1.0, 2.0], &[3]).unwrap();
    let gx = grad(|v| v.tanh()?.sum(), &x).unwrap();
    for (g, xv) in gx.to_vec().iter().zip(x.to_vec()) {
        assert!((g - (1.0 - xv.tanh().powi(2))).abs() < 1e-12);
    }
    // softmax Jacobian: diag(s) − s·sᵀ, rows sum to zero.
    let j = jacobian(|v| v.softmax(0), &x).unwrap();
    assert_eq!(j.shape(), &[3, 3]);
    let s = x.softmax(0).unwrap().to_vec();
    for i in 0..3 {
        for k in 0..3 {
            let want = if i == k {
                s[i] - s[i] * s[k]
            } else {
                -s[i] * s[k]
            };
            assert!((j.get(&[i, k]).unwrap() - want).abs() < 1e-12);
        }
    }
    // A map R² → R³: Jacobian 3×2.
    let x2 = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).unwrap();
    let j2 = jacobian(|v| concat(&[v, v.square()?.narrow(0, 0, 1)?], 0), &x2).unwrap();
    assert_eq!(j2.shape(), &[3, 2]);
    assert_eq!(j2.to_vec(), vec![1.0, 0.0, 0.0, 1.0, 2.0, 0.0]);
}

#[test]
fn memory_stays_flat_over_200_steps() {
    // A 2-layer regression net trained for 200 steps; each step's graph is released as
    // backward proceeds: after backward only the loss keeps its value, and the graph size is the
    // same every step.
    let mut rng = Rng::new(5);
    let x = Tensor::<f32>::rand_normal(&[32, 8], 0.0, 1.0, &mut rng);
    let y = x.sum_axes(&[1], true).unwrap();
    let mut w1 = Parameter::new(Tensor::rand_normal(&[8, 16], 0.0, 0.3, &mut rng));
    let mut w2 = Parameter::new(Tensor::rand_normal(&[16, 1], 0.0, 0.3, &mut rng));
    let mut sizes = BTreeSet::new();
    let mut first_loss = None;
    let mut last_loss = 0.0;
    for _ in 0..200 {
        let g = Graph::new();
        let h = g
            .constant(x.clone())
            .matmul(g.param(&w1))
            .unwrap()
            .tanh()
            .unwrap();
        let loss = h
            .matmul(g.param(&w2))
            .unwrap()
            .sub(g.constant(y.clone()))
            .unwrap()
            .square()
            .unwrap()
            .mean()
            .unwrap();
        last_loss = loss.item().unwrap();
        first_loss.get_or_insert(last_loss);
        let grads = loss.backward().unwrap();
        assert_eq!(g.live_values(), 1, "only the loss value survives backward");
        sizes.insert(g.len());
        let (g1, g2) = (
            grads.wrt(&w1).unwrap().clone(),
            grads.wrt(&w2).unwrap().clone(),
        );
        w1.value_mut().add_scaled_inplace(-0.05, &g1).unwrap();
        w2.value_mut().add_scaled_inplace(-0.05, &g2).unwrap();
    }
    assert_eq!(sizes.len(), 1, "graph size varies across steps: {sizes:?}");
    assert!(
        last_loss < 0.2 * first_loss.unwrap(),
        "loss did not fall: {first_loss:?} → {last_loss}"
    );
}

#[test]
fn check_suite_reports_failures_and_uncovered_ops() {
    let x = Tensor::from_vec(vec![0.5, -1.0, 2.0], &[3]).unwrap();
    let cases = vec![neurite_autograd::GradCase::new("tanh", vec![x], |_, v| {
        v[0].tanh()
    })];
    let opts = GradcheckOptions::default();
    assert_eq!(check_suite(&cases, &[], &opts), Ok(1));
    let e = check_suite(&cases, &["no_such_op"], &opts).unwrap_err();
    assert!(e.contains("no_such_op") && !e.contains("tanh [3]"), "{e}");
}
