//! `Linear`: y = x·Wᵀ + b, the fully-connected layer (a row of neurons), on one fused op
//! whose forward and backward are single GEMMs writing straight into their outputs.

use neurite_autograd::{Backward, BackwardContext, Graph, Parameter, Var};
use neurite_tensor::ndarray::{ArrayView2, Ix2};
use neurite_tensor::{gemm, Float, Rng, Tensor};

use crate::error::{checked_numel, NnError, Result};
use crate::init;
use crate::module::Module;

/// A fully-connected layer: y = x·Wᵀ + b with the weight stored [out, in] as in PyTorch.
///
/// Input [.., in] → output [.., out]. Default initialisation (PyTorch's): W and b uniform in
/// ±1/√in.
pub struct Linear<T: Float> {
    /// Weight [out, in].
    pub weight: Parameter<T>,
    /// Bias \[out\], if any.
    pub bias: Option<Parameter<T>>,
}

impl<T: Float> Linear<T> {
    /// A layer `in_features → out_features` with a bias, seeded.
    pub fn new(in_features: usize, out_features: usize, rng: &mut Rng) -> Result<Self> {
        Self::with_bias(in_features, out_features, true, rng)
    }

    /// A layer with or without a bias.
    pub fn with_bias(
        in_features: usize,
        out_features: usize,
        bias: bool,
        rng: &mut Rng,
    ) -> Result<Self> {
        if in_features == 0 || out_features == 0 {
            return Err(NnError::config(
                "Linear",
                format!("sizes must be positive, got {in_features} → {out_features}"),
            ));
        }
        checked_numel("Linear", &[out_features, in_features])?;
        neurite_tensor::alloc::check_shapes::<T>(
            &format!("Linear({in_features} → {out_features})"),
            &[&[out_features, in_features], &[out_features]],
        )?;
        let weight = Parameter::new(init::pytorch_default(
            &[out_features, in_features],
            in_features,
            rng,
        ));
        let bias =
            bias.then(|| Parameter::new(init::pytorch_default(&[out_features], in_features, rng)));
        Ok(Linear { weight, bias })
    }

    /// A layer with the given weight \[out, in\] and optional bias \[out\] (e.g. loaded from a
    /// file), no Rng needed; other shapes are an [`NnError::ParamShape`].
    pub fn from_tensors(weight: Tensor<T>, bias: Option<Tensor<T>>) -> Result<Self> {
        let s = weight.shape().to_vec();
        if s.len() != 2 || s.contains(&0) {
            return Err(NnError::ParamShape {
                layer: "Linear".into(),
                what: "weight",
                expected: "[out_features ≥ 1, in_features ≥ 1]".into(),
                got: s,
            });
        }
        if let Some(b) = &bias {
            if b.shape() != [s[0]] {
                return Err(NnError::ParamShape {
                    layer: format!("Linear({} → {})", s[1], s[0]),
                    what: "bias",
                    expected: format!("[{}]", s[0]),
                    got: b.shape().to_vec(),
                });
            }
        }
        Ok(Linear {
            weight: Parameter::new(weight),
            bias: bias.map(Parameter::new),
        })
    }

    /// Input features (0 if `weight` was replaced by a value that is not [out, in]; the
    /// forward pass then reports it).
    pub fn in_features(&self) -> usize {
        self.weight.shape().get(1).copied().unwrap_or(0)
    }

    /// Output features (0 if `weight` is not [out, in], as for [`Linear::in_features`]).
    pub fn out_features(&self) -> usize {
        self.weight.shape().first().copied().unwrap_or(0)
    }
}

impl<T: Float> Module<T> for Linear<T> {
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let shape = x.shape();
        if shape.is_empty() || shape[shape.len() - 1] != self.in_features() {
            return Err(NnError::BadInput {
                layer: self.describe(),
                expected: format!("[.., {}]", self.in_features()),
                got: shape,
            });
        }
        linear(
            x,
            graph.param(&self.weight),
            self.bias.as_ref().map(|b| graph.param(b)),
        )
    }
    crate::walk!(T; param weight, param bias);
    fn describe(&self) -> String {
        format!("Linear({} → {})", self.in_features(), self.out_features())
    }
}

/// A 2-D view of a tensor whose leading axes fold into rows: [.., k] → [rows, k]. Strided 2-D
/// tensors (a transpose) are viewed as they are; other layouts are made contiguous first.
fn rows_view<'a, T: Float>(t: &'a Tensor<T>, keep: &'a mut Option<Tensor<T>>) -> ArrayView2<'a, T> {
    if t.ndim() == 2 {
        return t.view().into_dimensionality::<Ix2>().expect("2-D tensor"); // ok: checked ndim
    }
    let k = t.shape()[t.ndim() - 1];
    let rows = t.len() / k.max(1);
    if t.as_slice().is_none() {
        *keep = Some(t.contiguous());
    }
    let src = keep.as_ref().unwrap_or(t);
    let slice = src.as_slice().expect("contiguous"); // ok: made contiguous above
    ArrayView2::from_shape((rows, k), slice).expect("row-major [rows, k]") // ok: sizes match
}

/// The fused linear op y = x·Wᵀ + b. ∂L/∂x = G·W, ∂L/∂W = Gᵀ·x, ∂L/∂b = Σ_rows G.
/// Each is one GEMM (or one column sum) into a fresh buffer; the transposes are strides.
pub struct LinearOp;

impl<T: Float> Backward<T> for LinearOp {
    fn name(&self) -> &'static str {
        "linear"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> neurite_autograd::Result<Vec<Option<Tensor<T>>>> {
        let (x, w) = (ctx.input(0), ctx.input(1));
        let (out_f, in_f) = (w.shape()[0], w.shape()[1]);
        let (mut kx, mut kg) = (None, None);
        let g2 = rows_view(upstream, &mut kg); // [rows, out]
        let w2 = w.view().into_dimensionality::<Ix2>().expect("2-D weight"); // ok: checked in forward
        let rows = g2.dim().0;
        let dx = if ctx.needs_grad(0) {
            let mut buf = vec![T::ZERO; rows * in_f];
            {
                let mut c =
                    neurite_tensor::ndarray::ArrayViewMut2::from_shape((rows, in_f), &mut buf)
                        .expect("sizes match"); // ok: allocated to size
                gemm(T::ONE, &g2, &w2, T::ZERO, &mut c)?;
            }
            Some(Tensor::from_vec(buf, x.shape())?)
        } else {
            None
        };
        let dw = if ctx.needs_grad(1) {
            let x2 = rows_view(x, &mut kx);
            let mut buf = vec![T::ZERO; out_f * in_f];
            {
                let mut c =
                    neurite_tensor::ndarray::ArrayViewMut2::from_shape((out_f, in_f), &mut buf)
                        .expect("sizes match"); // ok: allocated to size
                gemm(T::ONE, &g2.t(), &x2, T::ZERO, &mut c)?;
            }
            Some(Tensor::from_vec(buf, &[out_f, in_f])?)
        } else {
            None
        };
        let mut out = vec![dx, dw];
        if ctx.num_inputs() == 3 {
            out.push(if ctx.needs_grad(2) {
                let mut acc = vec![T::ZERO; out_f];
                match g2.as_slice() {
                    // Row-major upstream (the usual case): add rows, vectorised over columns.
                    Some(gs) => {
                        for row in gs.chunks_exact(out_f) {
                            acc.iter_mut().zip(row).for_each(|(a, &v)| *a += v);
                        }
                    }
                    None => {
                        for row in g2.rows() {
                            acc.iter_mut().zip(row.iter()).for_each(|(a, &v)| *a += v);
                        }
                    }
                }
                Some(Tensor::from_vec(acc, &[out_f])?)
            } else {
                None
            });
        }
        Ok(out)
    }
}

/// y = x·Wᵀ + b as one fused op: x \[.., in\], weight \[out, in\], bias \[out\] → \[.., out\].
///
/// The bias is written into the output first and the GEMM accumulates onto it (β = 1), so the
/// forward pass makes one buffer; the backward makes one per gradient.
pub fn linear<'g, T: Float>(
    x: Var<'g, T>,
    weight: Var<'g, T>,
    bias: Option<Var<'g, T>>,
) -> Result<Var<'g, T>> {
    let (xv, wv) = (x.value()?, weight.value()?);
    if wv.ndim() != 2 {
        return Err(NnError::BadInput {
            layer: "linear".into(),
            expected: "a weight [out, in]".into(),
            got: wv.shape().to_vec(),
        });
    }
    let (out_f, in_f) = (wv.shape()[0], wv.shape()[1]);
    if xv.ndim() == 0 || xv.shape()[xv.ndim() - 1] != in_f {
        return Err(NnError::BadInput {
            layer: "linear".into(),
            expected: format!("an input [.., {in_f}]"),
            got: xv.shape().to_vec(),
        });
    }
    let bv = match bias {
        Some(b) => {
            let bv = b.value()?;
            if bv.shape() != [out_f] {
                return Err(NnError::BadInput {
                    layer: "linear".into(),
                    expected: format!("a bias [{out_f}]"),
                    got: bv.shape().to_vec(),
                });
            }
            Some(bv)
        }
        None => None,
    };
    let mut keep = None;
    let x2 = rows_view(&xv, &mut keep);
    let rows = x2.dim().0;
    let mut buf = match &bv {
        Some(b) => {
            let bc = b.contiguous();
            let bs = bc.as_slice().expect("contiguous"); // ok: made contiguous above
            let mut buf = Vec::with_capacity(rows * out_f);
            for _ in 0..rows {
                buf.extend_from_slice(bs);
            }
            buf
        }
        None => vec![T::ZERO; rows * out_f],
    };
    {
        let w2 = wv.view().into_dimensionality::<Ix2>().expect("2-D weight"); // ok: checked above
        let mut c = neurite_tensor::ndarray::ArrayViewMut2::from_shape((rows, out_f), &mut buf)
            .expect("sizes match"); // ok: allocated to size
        let beta = if bv.is_some() { T::ONE } else { T::ZERO };
        gemm(T::ONE, &x2, &w2.t(), beta, &mut c)?;
    }
    drop(keep);
    let mut shape = xv.shape().to_vec();
    *shape.last_mut().expect("ndim ≥ 1") = out_f; // ok: checked above
    let out = Tensor::from_vec(buf, &shape)?;
    let mut others = vec![weight];
    others.extend(bias);
    Ok(x.record(LinearOp, &others, out)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_linear_matches_matmul_plus_bias() {
        let mut rng = Rng::new(5);
        let l = Linear::<f64>::new(7, 3, &mut rng).unwrap();
        for shape in [&[4usize, 7][..], &[2, 3, 7], &[7]] {
            let x = Tensor::rand_normal(shape, 0.0, 1.0, &mut rng);
            let g = Graph::new();
            let y = l
                .forward(&g, g.constant(x.clone()))
                .unwrap()
                .value()
                .unwrap();
            let want = x
                .reshape(&[x.len() / 7, 7])
                .unwrap()
                .matmul(&l.weight.value().t().unwrap())
                .unwrap()
                .add(l.bias.as_ref().unwrap().value())
                .unwrap();
            for (a, b) in y.to_vec().iter().zip(want.to_vec()) {
                assert!((a - b).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn from_tensors_validates_shapes_and_needs_no_rng() {
        let w = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
        let l = Linear::from_tensors(
            w.clone(),
            Some(Tensor::from_vec(vec![0.5, -0.5], &[2]).unwrap()),
        )
        .unwrap();
        assert_eq!((l.in_features(), l.out_features()), (3, 2));
        let g = Graph::new();
        let y = l
            .forward(&g, g.constant(Tensor::ones(&[1, 3])))
            .unwrap()
            .value()
            .unwrap();
        assert_eq!(y.to_vec(), vec![6.5, 14.5]);
        assert!(matches!(
            Linear::from_tensors(w.clone(), Some(Tensor::zeros(&[3]))),
            Err(NnError::ParamShape { what: "bias", .. })
        ));
        assert!(matches!(
            Linear::<f64>::from_tensors(Tensor::zeros(&[6]), None),
            Err(NnError::ParamShape { what: "weight", .. })
        ));
        assert!(Linear::<f64>::from_tensors(Tensor::zeros(&[0, 3]), None).is_err());
        let ln = crate::LayerNorm::from_tensors(
            Tensor::<f64>::ones(&[3]),
            Some(Tensor::zeros(&[3])),
            1e-5,
        )
        .unwrap();
        assert_eq!(ln.forward(&g, g.constant(w)).unwrap().shape(), vec![2, 3]);
        assert!(crate::LayerNorm::from_tensors(
            Tensor::<f64>::ones(&[3]),
            Some(Tensor::zeros(&[2])),
            1e-5
        )
        .is_err());
        assert!(crate::LayerNorm::from_tensors(Tensor::<f64>::ones(&[3]), None, 0.0).is_err());
    }

    #[test]
    fn wrong_feature_count_is_a_typed_error() {
        let mut rng = Rng::new(5);
        let l = Linear::<f32>::new(4, 2, &mut rng).unwrap();
        let g = Graph::new();
        let x = g.constant(Tensor::zeros(&[3, 5]));
        let err = l.forward(&g, x).unwrap_err();
        assert!(err.to_string().contains("[.., 4]"), "{err}");
        assert!(Linear::<f32>::new(0, 2, &mut rng).is_err());
        // Sizes whose weight cannot exist (ndarray panicked building it).
        assert!(matches!(
            Linear::<f32>::new(1 << 40, 1 << 40, &mut rng),
            Err(NnError::InvalidConfig { .. })
        ));
    }

    #[test]
    fn a_layer_beyond_memory_is_a_typed_error() {
        let mut rng = Rng::new(5);
        // 10^10 weights of 4 bytes: 40 GB, more than the machines this runs on; an
        // allocation abort before.
        let e = Linear::<f32>::new(100_000, 100_000, &mut rng)
            .err()
            .unwrap();
        assert!(
            matches!(
                e,
                NnError::Tensor(neurite_tensor::TensorError::OutOfMemory { .. })
            ),
            "{e}"
        );
        assert!(e.to_string().contains("Linear(100000 → 100000)"), "{e}");
        let e = crate::Embedding::<f32>::new(100_000, 100_000, &mut rng)
            .err()
            .unwrap();
        assert!(matches!(e, NnError::Tensor(_)), "{e}");
        let e = crate::LayerNorm::<f64>::new(&[100_000, 100_000])
            .err()
            .unwrap();
        assert!(matches!(e, NnError::Tensor(_)), "{e}");
    }

    #[test]
    fn a_weight_replaced_by_another_rank_is_a_typed_error() {
        let mut rng = Rng::new(5);
        let mut l = Linear::<f32>::new(4, 2, &mut rng).unwrap();
        *l.weight.value_mut() = Tensor::zeros(&[8]);
        assert_eq!((l.in_features(), l.out_features()), (0, 8));
        let g = Graph::new();
        for x in [Tensor::zeros(&[3, 4]), Tensor::zeros(&[3, 0])] {
            let err = l.forward(&g, g.constant(x)).unwrap_err();
            assert!(matches!(err, NnError::BadInput { .. }), "{err}");
        }
    }
}
