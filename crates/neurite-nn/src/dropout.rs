//! `Dropout` (inverted dropout, seeded) and `Flatten`: the parameter-free plumbing layers.

use std::cell::RefCell;

use neurite_autograd::{Graph, Var};
use neurite_tensor::{Float, Rng};

use crate::error::{NnError, Result};
use crate::module::Module;

/// Inverted dropout: in training mode each element is zeroed with probability `p` and the rest
/// scaled by 1/(1 − p), so evaluation ([`Module::set_training`]`(false)`, or an inference graph)
/// is the identity. The layer owns its seeded generator (behind a `RefCell`, since forward
/// takes `&self`): the same seed gives the same masks.
#[derive(Debug)]
pub struct Dropout {
    p: f64,
    training: bool,
    rng: RefCell<Rng>,
}

impl Dropout {
    /// Dropout with probability `p` in [0, 1), masks drawn from a generator seeded with `seed`.
    pub fn new(p: f64, seed: u64) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            return Err(NnError::config(
                "Dropout",
                format!("probability must be in [0, 1), got {p}"),
            ));
        }
        Ok(Dropout {
            p,
            training: true,
            rng: RefCell::new(Rng::new(seed)),
        })
    }
    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }
    /// True in training mode.
    pub fn is_training(&self) -> bool {
        self.training
    }
}

impl<T: Float> Module<T> for Dropout {
    fn forward<'g>(&self, _graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        if !self.training {
            return Ok(x);
        }
        Ok(x.dropout(self.p, &mut self.rng.borrow_mut())?)
    }
    crate::walk!(T; rng rng);
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn describe(&self) -> String {
        format!("Dropout(p={})", self.p)
    }
}

/// Flattens the axes from `start_axis` on: [n, c, h, w] → [n, c·h·w] with the default
/// start axis 1 (PyTorch's `nn.Flatten`). Its backward reshapes the gradient back.
#[derive(Debug, Clone, Copy)]
pub struct Flatten {
    start_axis: usize,
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten { start_axis: 1 }
    }
}

impl Flatten {
    /// Flattens from `start_axis` on.
    pub fn new(start_axis: usize) -> Self {
        Flatten { start_axis }
    }
}

impl<T: Float> Module<T> for Flatten {
    fn forward<'g>(&self, _graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let shape = x.shape();
        if self.start_axis >= shape.len() {
            return Err(NnError::BadInput {
                layer: <Self as Module<T>>::describe(self),
                expected: format!("an input with more than {} dimensions", self.start_axis),
                got: shape,
            });
        }
        Ok(x.flatten_from(self.start_axis)?)
    }
    crate::walk!(T;);
    fn describe(&self) -> String {
        format!("Flatten(from axis {})", self.start_axis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurite_tensor::Tensor;

    #[test]
    fn dropout_is_seeded_scaled_and_identity_in_eval() {
        let x = Tensor::<f64>::ones(&[1000]);
        let run = |d: &Dropout| {
            let g = Graph::new();
            let v = g.variable(x.clone());
            d.forward(&g, v).unwrap().value().unwrap().to_vec()
        };
        let a = run(&Dropout::new(0.3, 9).unwrap());
        let b = run(&Dropout::new(0.3, 9).unwrap());
        assert_eq!(a, b, "same seed, same mask");
        let zeros = a.iter().filter(|&&v| v == 0.0).count();
        assert!((200..400).contains(&zeros), "{zeros} zeros");
        assert!(a.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-12));
        let mut d = Dropout::new(0.3, 9).unwrap();
        Module::<f64>::set_training(&mut d, false);
        assert!(run(&d).iter().all(|&v| v == 1.0));
        assert!(Dropout::new(1.0, 0).is_err());
        assert!(Dropout::new(-0.1, 0).is_err());
    }

    #[test]
    fn flatten_shapes() {
        let g = Graph::<f32>::new();
        let x = g.constant(Tensor::zeros(&[2, 3, 4, 5]));
        assert_eq!(
            Flatten::default().forward(&g, x).unwrap().shape(),
            vec![2, 60]
        );
        assert_eq!(
            Flatten::new(2).forward(&g, x).unwrap().shape(),
            vec![2, 3, 20]
        );
        let v = g.constant(Tensor::zeros(&[7]));
        assert!(Flatten::default().forward(&g, v).is_err());
    }
}
