//! Shape ops: reshape, transpose / permute, narrow / slice, concat / stack, broadcast_to,
//! index_select / index_add (the embedding lookup and its scatter-add). Their backward rules
//! route the upstream gradient back to where each element came from.

use ndarray::{Axis, Slice};
use neurite_tensor::{Float, Tensor, TensorError};

use crate::error::{AutogradError, Result};
use crate::graph::{Backward, BackwardContext, Var};

/// Reshape. ∂/∂x: the upstream gradient reshaped back.
pub struct Reshape;
impl<T: Float> Backward<T> for Reshape {
    fn name(&self) -> &'static str {
        "reshape"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        Ok(vec![Some(g.reshape(ctx.input(0).shape())?)])
    }
}

/// Permutation of axes (transpose included). ∂/∂x: the inverse permutation.
pub struct Permute {
    perm: Vec<usize>,
}
impl<T: Float> Backward<T> for Permute {
    fn name(&self) -> &'static str {
        "permute"
    }
    fn backward(
        &self,
        _ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let mut inv = vec![0; self.perm.len()];
        for (i, &p) in self.perm.iter().enumerate() {
            inv[p] = i;
        }
        Ok(vec![Some(g.permute(&inv)?.contiguous())])
    }
}

/// A strided range of one axis. ∂/∂x: zeros with the upstream gradient written into the range.
pub struct SliceAxis {
    axis: usize,
    start: usize,
    end: usize,
    step: usize,
    name: &'static str,
}
impl<T: Float> Backward<T> for SliceAxis {
    fn name(&self) -> &'static str {
        self.name
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let mut out = Tensor::zeros(ctx.input(0).shape());
        let mut view = out.view_mut();
        let mut dst = view.slice_axis_mut(
            Axis(self.axis),
            Slice::new(
                self.start as isize,
                Some(self.end as isize),
                self.step as isize,
            ),
        );
        dst.assign(&g.view());
        Ok(vec![Some(out)])
    }
}

/// Concatenation along an axis. ∂/∂xᵢ: the matching piece of the upstream gradient.
pub struct Concat {
    axis: usize,
    sizes: Vec<usize>,
}
impl<T: Float> Backward<T> for Concat {
    fn name(&self) -> &'static str {
        "concat"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let pieces = g.split(self.axis, &self.sizes)?;
        Ok(pieces
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                if ctx.needs_grad(i) {
                    Some(p.contiguous())
                } else {
                    None
                }
            })
            .collect())
    }
}

/// Stacking along a new axis. ∂/∂xᵢ: slice i of the upstream gradient.
pub struct Stack {
    axis: usize,
}
impl<T: Float> Backward<T> for Stack {
    fn name(&self) -> &'static str {
        "stack"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        (0..ctx.num_inputs())
            .map(|i| {
                if ctx.needs_grad(i) {
                    Ok(Some(g.narrow(self.axis, i, 1)?.squeeze(self.axis)?))
                } else {
                    Ok(None)
                }
            })
            .collect()
    }
}

/// Broadcast to a larger shape. ∂/∂x: the upstream gradient summed back ([`Tensor::sum_to`]).
pub struct BroadcastTo;
impl<T: Float> Backward<T> for BroadcastTo {
    fn name(&self) -> &'static str {
        "broadcast_to"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        Ok(vec![Some(g.sum_to(ctx.input(0).shape())?)])
    }
}

/// Gather entries of an axis by index (embedding lookup along axis 0).
/// ∂/∂x: scatter-add of the upstream gradient to the gathered positions.
pub struct IndexSelect {
    axis: usize,
    indices: Vec<usize>,
}
impl<T: Float> Backward<T> for IndexSelect {
    fn name(&self) -> &'static str {
        "index_select"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let mut out = Tensor::zeros(ctx.input(0).shape());
        out.index_add_inplace(self.axis, &self.indices, &g.contiguous())?;
        Ok(vec![Some(out)])
    }
}

/// Scatter-add: out = x with src added at the indexed positions.
/// ∂/∂x = the upstream gradient; ∂/∂src = the upstream gradient gathered at the indices.
pub struct IndexAdd {
    axis: usize,
    indices: Vec<usize>,
}
impl<T: Float> Backward<T> for IndexAdd {
    fn name(&self) -> &'static str {
        "index_add"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let dx = if ctx.needs_grad(0) {
            Some(g.clone())
        } else {
            None
        };
        let dsrc = if ctx.needs_grad(1) {
            Some(g.index_select(self.axis, &self.indices)?)
        } else {
            None
        };
        Ok(vec![dx, dsrc])
    }
}

impl<'g, T: Float> Var<'g, T> {
    /// The same elements in a new shape.
    pub fn reshape(self, shape: &[usize]) -> Result<Var<'g, T>> {
        let out = self.value()?.reshape(shape)?;
        self.record(Reshape, &[], out)
    }
    /// Flattens all axes after the first: [n, …] → [n, rest].
    pub fn flatten_from(self, axis: usize) -> Result<Var<'g, T>> {
        let shape = self.shape();
        if axis > shape.len() {
            return Err(TensorError::BadAxis {
                op: "flatten_from",
                axis,
                ndim: shape.len(),
            }
            .into());
        }
        let mut new: Vec<usize> = shape[..axis].to_vec();
        new.push(shape[axis..].iter().product());
        self.reshape(&new)
    }
    /// Reorders axes: output axis i is input axis `perm[i]`.
    pub fn permute(self, perm: &[usize]) -> Result<Var<'g, T>> {
        let out = self.value()?.permute(perm)?;
        self.record(
            Permute {
                perm: perm.to_vec(),
            },
            &[],
            out,
        )
    }
    /// Swaps two axes.
    pub fn transpose(self, a: usize, b: usize) -> Result<Var<'g, T>> {
        let n = self.shape().len();
        if a >= n || b >= n {
            return Err(TensorError::BadAxis {
                op: "transpose",
                axis: a.max(b),
                ndim: n,
            }
            .into());
        }
        let mut perm: Vec<usize> = (0..n).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }
    /// Transpose of a 2-D variable.
    pub fn t(self) -> Result<Var<'g, T>> {
        if self.shape().len() != 2 {
            return Err(TensorError::BadRank {
                op: "t",
                expected: "a 2-D tensor",
                got: self.shape(),
            }
            .into());
        }
        self.transpose(0, 1)
    }
    /// `len` entries of `axis` from `start`.
    pub fn narrow(self, axis: usize, start: usize, len: usize) -> Result<Var<'g, T>> {
        let out = self.value()?.narrow(axis, start, len)?;
        self.record(
            SliceAxis {
                axis,
                start,
                end: start + len,
                step: 1,
                name: "narrow",
            },
            &[],
            out,
        )
    }
    /// Entries `start..end` with `step` of `axis`.
    pub fn slice(self, axis: usize, start: usize, end: usize, step: usize) -> Result<Var<'g, T>> {
        let out = self.value()?.slice(axis, start, end, step)?;
        self.record(
            SliceAxis {
                axis,
                start,
                end,
                step,
                name: "slice",
            },
            &[],
            out,
        )
    }
    /// Removes a size-1 axis.
    pub fn squeeze(self, axis: usize) -> Result<Var<'g, T>> {
        let out = self.value()?.squeeze(axis)?;
        self.record(Reshape, &[], out)
    }
    /// Inserts a size-1 axis.
    pub fn unsqueeze(self, axis: usize) -> Result<Var<'g, T>> {
        let out = self.value()?.unsqueeze(axis)?;
        self.record(Reshape, &[], out)
    }
    /// Materialises a broadcast to `shape`.
    pub fn broadcast_to(self, shape: &[usize]) -> Result<Var<'g, T>> {
        let out = self.value()?.broadcast_to(shape)?;
        self.record(BroadcastTo, &[], out)
    }
    /// Gathers entries of `axis` by index (rows along axis 0: the embedding lookup).
    pub fn index_select(self, axis: usize, indices: &[usize]) -> Result<Var<'g, T>> {
        let out = self.value()?.index_select(axis, indices)?;
        self.record(
            IndexSelect {
                axis,
                indices: indices.to_vec(),
            },
            &[],
            out,
        )
    }
    /// self with `src[.., j, ..]` added at `self[.., indices[j], ..]`.
    pub fn index_add(self, axis: usize, indices: &[usize], src: Var<'g, T>) -> Result<Var<'g, T>> {
        self.graph.check_same("index_add", src)?;
        let out = self.value()?.index_add(axis, indices, &src.value()?)?;
        self.record(
            IndexAdd {
                axis,
                indices: indices.to_vec(),
            },
            &[src],
            out,
        )
    }
    /// Splits `axis` into pieces of the given sizes.
    pub fn split(self, axis: usize, sizes: &[usize]) -> Result<Vec<Var<'g, T>>> {
        let dim = *self.shape().get(axis).ok_or(TensorError::BadAxis {
            op: "split",
            axis,
            ndim: self.shape().len(),
        })?;
        // A sum that overflows cannot add up to `dim` either.
        if sizes.iter().try_fold(0usize, |acc, &s| acc.checked_add(s)) != Some(dim) {
            return Err(AutogradError::invalid(
                "split",
                format!("sizes {sizes:?} do not add up to {dim}"),
            ));
        }
        let mut start = 0;
        sizes
            .iter()
            .map(|&s| {
                let v = self.narrow(axis, start, s);
                start += s;
                v
            })
            .collect()
    }
}

/// Concatenates variables along an existing axis.
pub fn concat<'g, T: Float>(vars: &[Var<'g, T>], axis: usize) -> Result<Var<'g, T>> {
    let first = vars
        .first()
        .ok_or_else(|| AutogradError::invalid("concat", "needs at least one variable"))?;
    let values = vars.iter().map(|v| v.value()).collect::<Result<Vec<_>>>()?;
    let refs: Vec<&Tensor<T>> = values.iter().collect();
    let out = Tensor::concat(&refs, axis)?;
    let sizes = values.iter().map(|v| v.shape()[axis]).collect();
    first.graph.record(Concat { axis, sizes }, vars, out)
}

/// Stacks same-shaped variables along a new axis.
pub fn stack<'g, T: Float>(vars: &[Var<'g, T>], axis: usize) -> Result<Var<'g, T>> {
    let first = vars
        .first()
        .ok_or_else(|| AutogradError::invalid("stack", "needs at least one variable"))?;
    let values = vars.iter().map(|v| v.value()).collect::<Result<Vec<_>>>()?;
    let refs: Vec<&Tensor<T>> = values.iter().collect();
    let out = Tensor::stack(&refs, axis)?;
    first.graph.record(Stack { axis }, vars, out)
}
