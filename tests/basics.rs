//! Every claim of the `basics` example, checked on the figures it prints (its result line):
//! autograd's gradient and Jacobians equal the closed forms and central finite differences;
//! the Jacobian of a composition is the product of the Jacobians; one backward pass gives vᵀJ;
//! the activations' autograd derivatives are σ(1 − σ), 1 − tanh² and the step; three Linear
//! layers are one; a linear stack cannot learn XOR while tanh and ReLU stacks do; the three
//! losses are the textbook formulas. `--plot` draws the curves.

use neurite_examples::programs::run;

#[test]
fn every_claim_of_the_basics_holds() {
    let dir = std::env::temp_dir().join(format!("neurite-basics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("activations.svg");
    let r = run("basics", &["--quick", "--plot", svg.to_str().unwrap()]).unwrap();
    assert!(r.success, "{}\n{}", r.stdout, r.stderr);
    let f = |k: &str| r.figure(k).unwrap();
    // Exact arithmetic up to rounding where autograd and the closed form compute the same thing.
    for key in [
        "jacobian_max_error",
        "chain_rule_max_error",
        "vjp_max_error",
        "activation_derivative_max_error",
        "collapse_max_error",
        "loss_max_error",
    ] {
        assert!(f(key) < 1e-12, "{key} = {}", f(key));
    }
    // Central differences with h = 1e-6 in f64: truncation and rounding near 1e-10.
    assert!(f("finite_difference_max_error") < 1e-7);
    // One straight boundary classifies at most 3 of XOR's 4 points.
    assert!(f("xor_linear_accuracy") <= 0.75);
    assert_eq!(f("xor_tanh_accuracy"), 1.0);
    assert_eq!(f("xor_relu_accuracy"), 1.0);
    // The timing table has a row per size, and forming J costs more than one VJP at n = 256.
    let row = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("256 "))
        .expect("a timing row for n = 256");
    let ratio: f64 = row
        .split_whitespace()
        .last()
        .unwrap()
        .trim_end_matches('×')
        .parse()
        .unwrap();
    assert!(ratio > 1.0, "{row}");
    let drawing = std::fs::read_to_string(&svg).unwrap();
    assert!(drawing.starts_with("<svg") && drawing.contains("sigmoid") && drawing.contains("gelu"));
    std::fs::remove_dir_all(&dir).unwrap();
}
