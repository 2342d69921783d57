//! `Tensor<T>`: an n-dimensional array of `f32` or `f64` on ndarray, cheap to clone
//! (the buffer is shared, copied on write), with constructors and shape operations.

use ndarray::{ArcArray, ArrayD, ArrayViewD, ArrayViewMutD, Axis, IxDyn, Slice};

use crate::error::{Result, TensorError};
use crate::float::Float;
use crate::rng::Rng;

/// An n-dimensional tensor of `f32` or `f64`.
///
/// Cloning is O(1): the buffer is reference-counted and copied only when a shared tensor is
/// written (copy on write). Transposes and narrows are views with strides, not copies.
///
/// ```
/// use neurite_tensor::Tensor;
/// let a = Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
/// let b = Tensor::<f32>::ones(&[3]);
/// let c = a.add(&b)?;                       // broadcasting [2, 3] + [3]
/// assert_eq!(c.to_vec(), vec![2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
/// let s = c.sum_axes(&[1], true)?;          // [2, 1]
/// assert_eq!(s.shape(), &[2, 1]);
/// let p = a.matmul(&a.t()?)?;               // [2, 3]·[3, 2] = [2, 2], transpose by strides
/// assert_eq!(p.to_vec(), vec![14.0, 32.0, 32.0, 77.0]);
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct Tensor<T: Float> {
    pub(crate) data: ArcArray<T, IxDyn>,
}

impl<T: Float> std::fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor<{}>{:?} {:?}", T::NAME, self.shape(), self.data)
    }
}

impl<T: Float> std::fmt::Display for Tensor<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.data)
    }
}

impl<T: Float> From<ArrayD<T>> for Tensor<T> {
    fn from(a: ArrayD<T>) -> Self {
        Tensor {
            data: a.into_shared(),
        }
    }
}

impl<T: Float> Tensor<T> {
    // ---------------------------------------------------------------- constructors

    /// Wraps an ndarray array.
    pub fn from_array(a: ArrayD<T>) -> Self {
        Tensor {
            data: a.into_shared(),
        }
    }

    /// A tensor of `shape` filled row-major from `data`.
    pub fn from_vec(data: Vec<T>, shape: &[usize]) -> Result<Self> {
        let len = data.len();
        ArrayD::from_shape_vec(IxDyn(shape), data)
            .map(Self::from_array)
            .map_err(|_| TensorError::BadLength {
                op: "from_vec",
                len,
                shape: shape.to_vec(),
            })
    }

    /// A tensor of `shape` filled row-major from a slice.
    pub fn from_slice(data: &[T], shape: &[usize]) -> Result<Self> {
        Self::from_vec(data.to_vec(), shape)
    }

    /// A 0-dimensional tensor holding one value.
    pub fn scalar(v: T) -> Self {
        Self::from_array(ArrayD::from_elem(IxDyn(&[]), v))
    }

    /// Zeros. For a shape the program chose; a shape from input goes to [`Tensor::try_zeros`].
    ///
    /// # Panics
    /// When no buffer of `shape` can be allocated (see [`Tensor::try_full`]).
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, T::ZERO)
    }

    /// Ones. For a shape the program chose; a shape from input goes to [`Tensor::try_full`].
    ///
    /// # Panics
    /// When no buffer of `shape` can be allocated (see [`Tensor::try_full`]).
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, T::ONE)
    }

    /// Every element `value`. For a shape the program chose; a shape from input goes to
    /// [`Tensor::try_full`], its checked twin.
    ///
    /// # Panics
    /// When no buffer of `shape` can be allocated, with the message of [`Tensor::try_full`]'s
    /// error.
    pub fn full(shape: &[usize], value: T) -> Self {
        match Self::try_full(shape, value) {
            Ok(t) => t,
            // ok: the documented panicking form; user-given shapes go through try_full.
            Err(e) => panic!("Tensor::full: {e} (use Tensor::try_full for shapes from input)"), // ok: documented panicking form
        }
    }

    /// Zeros, or a typed error when the shape cannot be held: [`TensorError::TooLarge`] when
    /// its element count overflows, [`TensorError::OutOfMemory`] when its bytes are beyond
    /// what this process can hold or the allocator refuses them (see [`crate::alloc`]).
    ///
    /// ```
    /// use neurite_tensor::{Tensor, TensorError};
    /// assert_eq!(Tensor::<f32>::try_zeros(&[2, 3])?.shape(), &[2, 3]);
    /// assert!(matches!(Tensor::<f32>::try_zeros(&[usize::MAX, 2]), Err(TensorError::TooLarge { .. })));
    /// assert!(matches!(Tensor::<f32>::try_zeros(&[1 << 50]), Err(TensorError::OutOfMemory { .. })));
    /// # Ok::<(), TensorError>(())
    /// ```
    pub fn try_zeros(shape: &[usize]) -> Result<Self> {
        Self::try_full(shape, T::ZERO)
    }

    /// Every element `value`, or a typed error when the shape cannot be held (as
    /// [`Tensor::try_zeros`]).
    pub fn try_full(shape: &[usize], value: T) -> Result<Self> {
        let n = crate::alloc::checked_elements("tensor", shape)?;
        let what = || format!("tensor of shape {shape:?}");
        crate::alloc::check_bytes::<T>(&what(), n)?;
        let v = crate::alloc::try_vec(&what(), n, value)?;
        Self::from_vec(v, shape)
    }

    /// 0, 1, …, n−1.
    pub fn arange(n: usize) -> Self {
        Self::from_array(ArrayD::from_shape_fn(IxDyn(&[n]), |i| T::from_usize(i[0])))
    }

    /// start, start+step, … while below `end` (above, for a negative step).
    pub fn arange_step(start: f64, end: f64, step: f64) -> Result<Self> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(TensorError::invalid(
                "arange_step",
                format!("need finite bounds and a non-zero step, got start={start} end={end} step={step}"),
            ));
        }
        let count = ((end - start) / step).ceil().max(0.0);
        // More elements than a buffer can hold is an error, not an allocation panic.
        let max = (isize::MAX as usize / std::mem::size_of::<T>()) as f64;
        if count >= max {
            return Err(TensorError::invalid(
                "arange_step",
                format!(
                    "start={start} end={end} step={step} gives {count} elements, more than a tensor can hold"
                ),
            ));
        }
        let n = count as usize;
        let v = (0..n)
            .map(|i| T::from_f64(start + step * i as f64))
            .collect();
        Self::from_vec(v, &[n])
    }

    /// Seeded uniform samples in [lo, hi).
    pub fn rand_uniform(shape: &[usize], lo: f64, hi: f64, rng: &mut Rng) -> Self {
        Self::from_array(ArrayD::from_shape_simple_fn(IxDyn(shape), || {
            T::from_f64(rng.uniform_range(lo, hi))
        }))
    }

    /// Seeded normal samples N(mean, std²).
    pub fn rand_normal(shape: &[usize], mean: f64, std: f64, rng: &mut Rng) -> Self {
        Self::from_array(ArrayD::from_shape_simple_fn(IxDyn(shape), || {
            T::from_f64(mean + std * rng.normal())
        }))
    }

    /// The identity matrix n×n.
    pub fn eye(n: usize) -> Self {
        Self::from_array(ArrayD::from_shape_fn(IxDyn(&[n, n]), |i| {
            if i[0] == i[1] {
                T::ONE
            } else {
                T::ZERO
            }
        }))
    }

    // ---------------------------------------------------------------- access

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.data.ndim()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// A read-only ndarray view.
    pub fn view(&self) -> ArrayViewD<'_, T> {
        self.data.view()
    }

    /// A mutable ndarray view (copies first if the buffer is shared).
    pub fn view_mut(&mut self) -> ArrayViewMutD<'_, T> {
        self.data.view_mut()
    }

    /// The shared ndarray array.
    pub fn array(&self) -> &ArcArray<T, IxDyn> {
        &self.data
    }

    /// Converts into an owned ndarray array (no copy when unshared and contiguous).
    pub fn into_array(self) -> ArrayD<T> {
        self.data.into_owned()
    }

    /// The elements in row-major order.
    pub fn to_vec(&self) -> Vec<T> {
        match self.data.as_slice() {
            Some(s) => s.to_vec(),
            None => self.data.iter().copied().collect(),
        }
    }

    /// The elements as a row-major slice, if the tensor is stored contiguously in that order.
    pub fn as_slice(&self) -> Option<&[T]> {
        self.data.as_slice()
    }

    /// The elements as a mutable row-major slice; makes the buffer unique and contiguous first.
    pub fn as_slice_mut(&mut self) -> &mut [T] {
        if !self.data.is_standard_layout() {
            self.data = self.data.as_standard_layout().into_owned().into_shared();
        }
        self.data
            .as_slice_mut()
            .expect("standard layout was just ensured") // ok: invariant established above
    }

    /// The same tensor stored contiguously in row-major order (no copy when already so).
    pub fn contiguous(&self) -> Self {
        if self.data.is_standard_layout() {
            self.clone()
        } else {
            Self::from_array(self.data.as_standard_layout().into_owned())
        }
    }

    /// The single value of a one-element tensor.
    pub fn item(&self) -> Result<T> {
        if self.len() != 1 {
            return Err(TensorError::BadRank {
                op: "item",
                expected: "a tensor of one element",
                got: self.shape().to_vec(),
            });
        }
        Ok(*self.data.iter().next().expect("one element")) // ok: checked above
    }

    /// The element at a multi-index.
    pub fn get(&self, index: &[usize]) -> Result<T> {
        if index.len() != self.ndim() {
            return Err(TensorError::shape_detail(
                "get",
                index,
                self.shape(),
                "index must have one entry per dimension",
            ));
        }
        for (&i, &d) in index.iter().zip(self.shape()) {
            if i >= d {
                return Err(TensorError::IndexOutOfRange {
                    op: "get",
                    index: i,
                    bound: d,
                });
            }
        }
        Ok(self.data[IxDyn(index)])
    }

    /// Converts the element type (f32 ↔ f64).
    pub fn cast<U: Float>(&self) -> Tensor<U> {
        Tensor::from_array(self.data.map(|&x| U::from_f64(x.to_f64())))
    }

    /// Applies `f` to every element.
    pub fn map(&self, f: impl Fn(T) -> T + Sync + Send) -> Self {
        crate::ops::map_unary(self, f)
    }

    /// True when every element is finite (no NaN, no ±∞).
    pub fn all_finite(&self) -> bool {
        self.data.iter().all(|x| x.is_finite())
    }

    // ---------------------------------------------------------------- shape operations

    pub(crate) fn check_axis(&self, op: &'static str, axis: usize) -> Result<()> {
        if axis >= self.ndim() {
            Err(TensorError::BadAxis {
                op,
                axis,
                ndim: self.ndim(),
            })
        } else {
            Ok(())
        }
    }

    /// The same elements in a new shape (row-major order); no copy when contiguous.
    pub fn reshape(&self, shape: &[usize]) -> Result<Self> {
        // A product that overflows cannot equal the element count either.
        let count = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if count != Some(self.len()) {
            return Err(TensorError::BadReshape {
                from: self.shape().to_vec(),
                to: shape.to_vec(),
            });
        }
        let src = self.contiguous();
        let data =
            src.data
                .into_shape_with_order(IxDyn(shape))
                .map_err(|_| TensorError::BadReshape {
                    from: self.shape().to_vec(),
                    to: shape.to_vec(),
                })?;
        Ok(Tensor { data })
    }

    /// Flattens all dimensions into one.
    pub fn flatten(&self) -> Self {
        self.reshape(&[self.len()]).expect("same element count") // ok: same count by construction
    }

    /// Swaps two axes (a strided view, no copy).
    pub fn transpose(&self, a: usize, b: usize) -> Result<Self> {
        self.check_axis("transpose", a)?;
        self.check_axis("transpose", b)?;
        let mut data = self.data.clone();
        data.swap_axes(a, b);
        Ok(Tensor { data })
    }

    /// The transpose of a 2-D tensor (a strided view, no copy).
    pub fn t(&self) -> Result<Self> {
        if self.ndim() != 2 {
            return Err(TensorError::BadRank {
                op: "t",
                expected: "a 2-D tensor",
                got: self.shape().to_vec(),
            });
        }
        self.transpose(0, 1)
    }

    /// Reorders the axes: output axis i is input axis `perm[i]` (a strided view, no copy).
    pub fn permute(&self, perm: &[usize]) -> Result<Self> {
        let n = self.ndim();
        let mut seen = vec![false; n];
        if perm.len() != n
            || perm
                .iter()
                .any(|&p| p >= n || std::mem::replace(&mut seen[p], true))
        {
            return Err(TensorError::invalid(
                "permute",
                format!(
                    "{perm:?} is not a permutation of the {n} axes of shape {:?}",
                    self.shape()
                ),
            ));
        }
        Ok(Tensor {
            data: self.data.clone().permuted_axes(IxDyn(perm)),
        })
    }

    /// `len` entries of `axis` starting at `start` (a view, no copy).
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Self> {
        self.check_axis("narrow", axis)?;
        let dim = self.shape()[axis];
        if !matches!(start.checked_add(len), Some(end) if end <= dim) {
            return Err(TensorError::invalid(
                "narrow",
                format!(
                    "range {start}..{} exceeds axis {axis} of size {dim}",
                    start.saturating_add(len)
                ),
            ));
        }
        let mut data = self.data.clone();
        data.slice_axis_inplace(Axis(axis), Slice::from(start..start + len));
        Ok(Tensor { data })
    }

    /// Entries `start..end` (step `step` ≥ 1) of `axis` (a view, no copy).
    pub fn slice(&self, axis: usize, start: usize, end: usize, step: usize) -> Result<Self> {
        self.check_axis("slice", axis)?;
        let dim = self.shape()[axis];
        if step == 0 || start > end || end > dim {
            return Err(TensorError::invalid(
                "slice",
                format!(
                    "{start}..{end} step {step} is not a valid range of axis {axis} of size {dim}"
                ),
            ));
        }
        let mut data = self.data.clone();
        data.slice_axis_inplace(
            Axis(axis),
            Slice::new(start as isize, Some(end as isize), step as isize),
        );
        Ok(Tensor { data })
    }

    /// Removes an axis of size 1.
    pub fn squeeze(&self, axis: usize) -> Result<Self> {
        self.check_axis("squeeze", axis)?;
        if self.shape()[axis] != 1 {
            return Err(TensorError::invalid(
                "squeeze",
                format!(
                    "axis {axis} of shape {:?} has size {}, not 1",
                    self.shape(),
                    self.shape()[axis]
                ),
            ));
        }
        let mut shape = self.shape().to_vec();
        shape.remove(axis);
        self.reshape(&shape)
    }

    /// Inserts an axis of size 1 at `axis` (0..=ndim).
    pub fn unsqueeze(&self, axis: usize) -> Result<Self> {
        if axis > self.ndim() {
            return Err(TensorError::BadAxis {
                op: "unsqueeze",
                axis,
                ndim: self.ndim() + 1,
            });
        }
        let mut shape = self.shape().to_vec();
        shape.insert(axis, 1);
        self.reshape(&shape)
    }

    /// Joins tensors along an existing axis; all other dimensions must agree.
    pub fn concat(tensors: &[&Tensor<T>], axis: usize) -> Result<Self> {
        let first = tensors
            .first()
            .ok_or_else(|| TensorError::invalid("concat", "needs at least one tensor"))?;
        first.check_axis("concat", axis)?;
        for t in &tensors[1..] {
            let ok = t.ndim() == first.ndim()
                && t.shape()
                    .iter()
                    .zip(first.shape())
                    .enumerate()
                    .all(|(i, (a, b))| i == axis || a == b);
            if !ok {
                return Err(TensorError::shape_detail(
                    "concat",
                    first.shape(),
                    t.shape(),
                    format!("all dimensions but axis {axis} must agree"),
                ));
            }
        }
        let views: Vec<_> = tensors.iter().map(|t| t.data.view()).collect();
        let out = ndarray::concatenate(Axis(axis), &views)
            .map_err(|e| TensorError::invalid("concat", e.to_string()))?;
        Ok(Self::from_array(out))
    }

    /// Stacks same-shaped tensors along a new axis.
    pub fn stack(tensors: &[&Tensor<T>], axis: usize) -> Result<Self> {
        let first = tensors
            .first()
            .ok_or_else(|| TensorError::invalid("stack", "needs at least one tensor"))?;
        if axis > first.ndim() {
            return Err(TensorError::BadAxis {
                op: "stack",
                axis,
                ndim: first.ndim() + 1,
            });
        }
        for t in &tensors[1..] {
            if t.shape() != first.shape() {
                return Err(TensorError::shape_detail(
                    "stack",
                    first.shape(),
                    t.shape(),
                    "stacked tensors must have the same shape",
                ));
            }
        }
        let views: Vec<_> = tensors.iter().map(|t| t.data.view()).collect();
        let out = ndarray::stack(Axis(axis), &views)
            .map_err(|e| TensorError::invalid("stack", e.to_string()))?;
        Ok(Self::from_array(out))
    }

    /// Splits `axis` into pieces of the given sizes (views, no copies).
    pub fn split(&self, axis: usize, sizes: &[usize]) -> Result<Vec<Self>> {
        self.check_axis("split", axis)?;
        let total = sizes.iter().try_fold(0usize, |acc, &s| acc.checked_add(s));
        if total != Some(self.shape()[axis]) {
            return Err(TensorError::invalid(
                "split",
                format!(
                    "sizes {sizes:?} do not add up to axis {axis} of shape {:?}",
                    self.shape()
                ),
            ));
        }
        let mut start = 0;
        sizes
            .iter()
            .map(|&s| {
                let piece = self.narrow(axis, start, s);
                start += s;
                piece
            })
            .collect()
    }

    /// Gathers entries of `axis` by index: `out[.., j, ..] = self[.., indices[j], ..]`.
    /// Along axis 0 this is the embedding lookup (gather rows).
    pub fn index_select(&self, axis: usize, indices: &[usize]) -> Result<Self> {
        self.check_axis("index_select", axis)?;
        let bound = self.shape()[axis];
        if let Some(&bad) = indices.iter().find(|&&i| i >= bound) {
            return Err(TensorError::IndexOutOfRange {
                op: "index_select",
                index: bad,
                bound,
            });
        }
        if axis == 0 {
            if let Some(src) = self.data.as_slice() {
                // Fast path: contiguous rows.
                let row = self.len() / bound.max(1);
                let mut out = Vec::with_capacity(indices.len() * row);
                for &i in indices {
                    out.extend_from_slice(&src[i * row..(i + 1) * row]);
                }
                let mut shape = self.shape().to_vec();
                shape[0] = indices.len();
                return Self::from_vec(out, &shape);
            }
        }
        Ok(Self::from_array(self.data.select(Axis(axis), indices)))
    }

    /// Scatter-adds: returns a copy of `self` where `self[.., indices[j], ..] += src[.., j, ..]`
    /// (repeated indices accumulate). The backward of [`Tensor::index_select`].
    pub fn index_add(&self, axis: usize, indices: &[usize], src: &Tensor<T>) -> Result<Self> {
        let mut out = self.clone();
        out.index_add_inplace(axis, indices, src)?;
        Ok(out)
    }

    /// In-place scatter-add: `self[.., indices[j], ..] += src[.., j, ..]`.
    pub fn index_add_inplace(
        &mut self,
        axis: usize,
        indices: &[usize],
        src: &Tensor<T>,
    ) -> Result<()> {
        self.check_axis("index_add", axis)?;
        let mut want = self.shape().to_vec();
        want[axis] = indices.len();
        if src.shape() != want.as_slice() {
            return Err(TensorError::shape_detail(
                "index_add",
                &want,
                src.shape(),
                "src must match self with axis replaced by the number of indices",
            ));
        }
        let bound = self.shape()[axis];
        if let Some(&bad) = indices.iter().find(|&&i| i >= bound) {
            return Err(TensorError::IndexOutOfRange {
                op: "index_add",
                index: bad,
                bound,
            });
        }
        if axis == 0 && self.data.is_standard_layout() {
            if let Some(s) = src.data.as_slice() {
                let row = self.len() / bound.max(1);
                let dst = self.as_slice_mut();
                for (j, &i) in indices.iter().enumerate() {
                    for (d, &v) in dst[i * row..(i + 1) * row]
                        .iter_mut()
                        .zip(&s[j * row..(j + 1) * row])
                    {
                        *d += v;
                    }
                }
                return Ok(());
            }
        }
        let mut dst = self.data.view_mut();
        for (j, &i) in indices.iter().enumerate() {
            let mut d = dst.index_axis_mut(Axis(axis), i);
            d += &src.data.index_axis(Axis(axis), j);
        }
        Ok(())
    }
}
