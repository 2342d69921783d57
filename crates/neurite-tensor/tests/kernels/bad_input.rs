//! Sizes from bad input that overflow `usize` (or could never be allocated) are typed errors,
//! not arithmetic-overflow or allocation panics.

use neurite_tensor::conv::{col2im_2d, Im2col, Window1d, Window2d};
use neurite_tensor::pool::{adaptive_avg_pool1d, max_pool2d_backward};
use neurite_tensor::{Tensor, TensorError};

#[test]
fn reshape_to_an_overflowing_shape_is_an_error() {
    let t = Tensor::<f32>::zeros(&[2, 3]);
    let e = t.reshape(&[usize::MAX, 2]).unwrap_err();
    assert!(matches!(e, TensorError::BadReshape { .. }), "{e}");
    // The message names both shapes and does not overflow either.
    assert!(e.to_string().contains("too many"), "{e}");
}

#[test]
fn split_sizes_that_overflow_are_an_error() {
    let t = Tensor::<f32>::zeros(&[4]);
    let e = t.split(0, &[usize::MAX, 5]).unwrap_err();
    assert!(matches!(e, TensorError::InvalidArgument { .. }), "{e}");
}

#[test]
fn arange_with_more_elements_than_memory_is_an_error() {
    let e = Tensor::<f64>::arange_step(0.0, 1e300, 1.0).unwrap_err();
    assert!(e.to_string().contains("more than a tensor can hold"), "{e}");
}

#[test]
fn from_vec_into_an_overflowing_shape_reports_without_overflow() {
    let e = Tensor::<f32>::from_vec(vec![1.0], &[usize::MAX, 3]).unwrap_err();
    assert!(matches!(e, TensorError::BadLength { .. }), "{e}");
    assert!(e.to_string().contains("too many"), "{e}");
}

#[test]
fn im2col_plan_of_an_impossible_sample_is_an_error() {
    // C·kh·kw and OH·OW fit, C·H·W does not.
    let win = Window2d::new([1, 1]).with_stride([1 << 30, 1]);
    let e = Im2col::new_2d([1 << 40, 1 << 30, 1], &win).unwrap_err();
    assert!(e.to_string().contains("too many elements"), "{e}");
    let e = Im2col::new_1d([usize::MAX / 2, 4], &Window1d::new([1]).with_stride([8])).unwrap_err();
    assert!(e.to_string().contains("too many elements"), "{e}");
}

#[test]
fn col2im_to_an_impossible_input_shape_is_an_error() {
    let cols = Tensor::<f32>::zeros(&[1, 1, 1]);
    let win = Window2d::new([1, 1]).with_stride([1 << 40, 1 << 40]);
    let e = col2im_2d(&cols, [1, 1, 1 << 40, 1 << 40], &win).unwrap_err();
    assert!(e.to_string().contains("too many elements"), "{e}");
}

#[test]
fn max_pool_backward_to_an_impossible_input_shape_is_an_error() {
    let g = Tensor::<f32>::zeros(&[1, 1, 1, 1]);
    let e = max_pool2d_backward(&g, &[0], [1, 1, usize::MAX, 4]).unwrap_err();
    assert!(e.to_string().contains("too many elements"), "{e}");
}

#[test]
fn adaptive_pool_to_an_impossible_output_size_is_an_error() {
    let x = Tensor::<f32>::ones(&[1, 1, 8]);
    // usize::MAX outputs fit the element count, not this machine: the memory check refuses
    // them before anything is allocated.
    let e = adaptive_avg_pool1d(&x, usize::MAX).unwrap_err();
    assert!(e.to_string().contains("out of memory"), "{e}");
}

#[test]
fn matmul_whose_broadcast_batch_overflows_is_an_error() {
    // Empty operands whose batch axes broadcast to 2^33 × 2^33 products.
    let a = Tensor::<f32>::zeros(&[1 << 33, 1, 1, 0]);
    let b = Tensor::<f32>::zeros(&[1, 1 << 33, 0, 1]);
    let e = a.matmul(&b).unwrap_err();
    assert!(e.to_string().contains("too many elements"), "{e}");
    // With an empty product as well: no element, yet ndarray refuses a shape whose non-zero
    // axes multiply past isize::MAX — still a typed error, and the batch count never formed.
    let b = Tensor::<f32>::zeros(&[1, 1 << 33, 0, 0]);
    assert!(a.matmul(&b).is_err());
    let b = Tensor::<f32>::zeros(&[1, 1 << 20, 0, 0]);
    assert_eq!(a.matmul(&b).unwrap().shape(), &[1 << 33, 1 << 20, 1, 0]);
}

#[test]
fn im2col_plan_over_an_empty_plane_writes_the_padding() {
    // H = W = 0 with padding 1: every column entry is padding (chunks of 0 panicked).
    let p = Im2col::new_2d([2, 0, 0], &Window2d::new([1, 1]).with_padding([1, 1])).unwrap();
    let mut cols = vec![1.0f32; p.cols_len()];
    p.im2col(&[], &mut cols).unwrap();
    assert!(cols.iter().all(|&v| v == 0.0));
    p.col2im_add(&cols, &mut []).unwrap();
}
