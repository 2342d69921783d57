//! Matrix product, 2-D and batched, with its backward rule.

use neurite_tensor::{Float, Tensor};

use crate::error::Result;
use crate::graph::{Backward, BackwardContext, Var};

/// C = A·B (batch axes broadcast). ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G, each summed back over
/// broadcast batch axes. Transposes are strided views: no copies.
pub struct Matmul;

fn mt<T: Float>(t: &Tensor<T>) -> Result<Tensor<T>> {
    let n = t.ndim();
    Ok(t.transpose(n - 2, n - 1)?)
}

impl<T: Float> Backward<T> for Matmul {
    fn name(&self) -> &'static str {
        "matmul"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let (a, b) = (ctx.input(0), ctx.input(1));
        let da = if ctx.needs_grad(0) {
            Some(g.matmul(&mt(b)?)?.sum_to(a.shape())?)
        } else {
            None
        };
        let db = if !ctx.needs_grad(1) {
            None
        } else if b.ndim() == 2 && a.ndim() > 2 {
            // A shared [k, n] weight under a batch: fold the batch into rows, one GEMM
            // [k, b·m]·[b·m, n] instead of a batched product and a sum.
            let k = a.shape()[a.ndim() - 1];
            let n = g.shape()[g.ndim() - 1];
            let a2 = a.reshape(&[a.len() / k.max(1), k])?;
            let g2 = g.reshape(&[g.len() / n.max(1), n])?;
            Some(a2.t()?.matmul(&g2)?)
        } else {
            Some(mt(a)?.matmul(g)?.sum_to(b.shape())?)
        };
        Ok(vec![da, db])
    }
}

impl<'g, T: Float> Var<'g, T> {
    /// Matrix product: [.., m, k]·[.., k, n] → [.., m, n], batch axes broadcasting.
    pub fn matmul(self, other: Var<'g, T>) -> Result<Var<'g, T>> {
        self.graph.check_same("matmul", other)?;
        let out = self.value()?.matmul(&other.value()?)?;
        self.record(Matmul, &[other], out)
    }
}
