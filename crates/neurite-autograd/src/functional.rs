//! Derivatives as plain functions: [`grad`] of a scalar function and the [`jacobian`] of a
//! vector function.

use neurite_tensor::{Float, Tensor};

use crate::error::{AutogradError, Result};
use crate::graph::{BackwardOptions, Graph, Var};

/// ∇f(x) for a scalar-valued `f`: the gradient, with x's shape.
///
/// ```
/// use neurite_autograd::grad;
/// use neurite_tensor::Tensor;
/// // f(x) = Σ x², ∇f = 2x
/// let x = Tensor::<f64>::from_vec(vec![1.0, -2.0, 3.0], &[3])?;
/// let g = grad(|x| x.square()?.sum(), &x)?;
/// assert_eq!(g.to_vec(), vec![2.0, -4.0, 6.0]);
/// # Ok::<(), neurite_autograd::AutogradError>(())
/// ```
pub fn grad<T: Float>(
    f: impl for<'g> Fn(Var<'g, T>) -> Result<Var<'g, T>>,
    x: &Tensor<T>,
) -> Result<Tensor<T>> {
    let graph = Graph::new();
    let v = graph.variable(x.clone());
    let y = f(v)?;
    let grads = y.backward()?;
    Ok(grads
        .get(v)
        .cloned()
        .unwrap_or_else(|| Tensor::zeros(x.shape())))
}

/// The Jacobian of `f` at `x`: for n inputs (x's elements) and m outputs (f(x)'s elements),
/// the m×n matrix J[i, j] = ∂fᵢ/∂xⱼ, one backward pass per output.
///
/// ```
/// use neurite_autograd::jacobian;
/// use neurite_tensor::Tensor;
/// // f(x) = 3x element-wise: J = 3·I
/// let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2])?;
/// let j = jacobian(|x| x.mul_scalar(3.0), &x)?;
/// assert_eq!(j.to_vec(), vec![3.0, 0.0, 0.0, 3.0]);
/// # Ok::<(), neurite_autograd::AutogradError>(())
/// ```
pub fn jacobian<T: Float>(
    f: impl for<'g> Fn(Var<'g, T>) -> Result<Var<'g, T>>,
    x: &Tensor<T>,
) -> Result<Tensor<T>> {
    let graph = Graph::new();
    let v = graph.variable(x.clone());
    let y = f(v)?;
    let out_shape = y.shape();
    let m: usize = out_shape.iter().product();
    let n = x.len();
    let mut jac = vec![T::ZERO; m * n];
    for i in 0..m {
        let mut e = vec![T::ZERO; m];
        e[i] = T::ONE;
        let seed = Tensor::from_vec(e, &out_shape).map_err(AutogradError::from)?;
        let grads = y.backward_with(seed, BackwardOptions { retain_graph: true })?;
        if let Some(g) = grads.get(v) {
            jac[i * n..(i + 1) * n].copy_from_slice(&g.to_vec());
        }
    }
    Ok(Tensor::from_vec(jac, &[m, n])?)
}
