//! Every SIMD level computes the same bits as the portable path, on shapes large enough to be
//! split over threads as well as small ones. The element-wise kernels, reductions, im2col /
//! col2im and pooling do the same arithmetic in the same order on every level (no fused
//! multiply-add, no reassociation), so equality is exact; the other files check the portable
//! path (and each level, a third of the cases each) against naive references.

use neurite_tensor::conv::{col2im_2d, im2col_2d, Im2col, Window2d};
use neurite_tensor::pool::{
    adaptive_avg_pool2d, avg_pool2d, max_pool2d, max_pool2d_backward, max_pool2d_values,
};
use neurite_tensor::simd::{self, Level};
use neurite_tensor::{PadCount, Rng, Tensor};
use proptest::prelude::*;

use crate::common::CASES;

/// The bits of every output of a batch of kernels run at `level`.
fn outputs(level: Level, x: &Tensor<f32>, bias: &Tensor<f32>, img: &Tensor<f32>) -> Vec<Vec<u32>> {
    let _simd = simd::force_level(level);
    let bits = |t: Tensor<f32>| t.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    let mut out = vec![
        bits(x.relu()),
        bits(x.sigmoid()),
        bits(x.mul_scalar(0.37).add_scalar(-1.5)),
        bits(x.add(bias).unwrap()),
        bits(x.mul(&x.tanh()).unwrap()),
        bits(x.sum_axes(&[0], false).unwrap()),
        bits(x.sum_axes(&[1], true).unwrap()),
        bits(x.softmax(1).unwrap()),
        bits(x.log_softmax(0).unwrap()),
    ];
    let mut y = x.clone();
    y.add_scaled_inplace(-0.25, &x.exp()).unwrap();
    y.map_inplace(|v| v * v - 1.0);
    out.push(bits(y));

    let [n, c, h, w]: [usize; 4] = img.shape().try_into().unwrap();
    let win = Window2d::new([3, 3]).with_padding([1, 1]);
    let cols = im2col_2d(img, &win).unwrap();
    out.push(bits(col2im_2d(&cols, [n, c, h, w], &win).unwrap()));
    out.push(bits(cols));
    let plan = Im2col::new_2d([c, h, w], &win).unwrap();
    let sample = &img.to_vec()[..c * h * w];
    let mut col = vec![0.0f32; plan.cols_len()];
    plan.im2col(sample, &mut col).unwrap();
    let mut back = vec![0.5f32; plan.sample_len()];
    plan.col2im_add(&col, &mut back).unwrap();
    out.push(back.iter().map(|v| v.to_bits()).collect());
    let pooled = max_pool2d(img, &Window2d::pool([2, 2])).unwrap();
    let dx = max_pool2d_backward(&pooled.values.mul_scalar(3.0), &pooled.argmax, [n, c, h, w]);
    out.push(pooled.argmax.iter().map(|&i| i as u32).collect());
    out.push(bits(pooled.values));
    out.push(bits(
        max_pool2d_values(img, &Window2d::pool([2, 2])).unwrap(),
    ));
    out.push(bits(dx.unwrap()));
    let odd = Window2d::new([3, 2])
        .with_stride([2, 1])
        .with_padding([1, 0]);
    out.push(bits(max_pool2d(img, &odd).unwrap().values));
    out.push(bits(avg_pool2d(img, &odd, PadCount::Exclude).unwrap()));
    let ceil = Window2d::pool([3, 3])
        .with_stride([2, 2])
        .with_dilation([1, 2])
        .with_padding([1, 0])
        .with_ceil_mode(true);
    if let Ok(m) = max_pool2d(img, &ceil) {
        out.push(bits(m.values));
        out.push(bits(avg_pool2d(img, &ceil, PadCount::Include).unwrap()));
    }
    out.push(bits(adaptive_avg_pool2d(img, [3, 2]).unwrap()));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES / 4))]

    #[test]
    fn every_level_gives_the_portable_bits(
        rows in 1..400usize,
        cols in 1..400usize,
        (n, c, h, w) in (1..40usize, 1..8usize, 2..30usize, 2..30usize),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng::new(seed);
        let x = Tensor::<f32>::rand_normal(&[rows, cols], 0.0, 2.0, &mut rng);
        let bias = Tensor::<f32>::rand_normal(&[cols], 0.0, 1.0, &mut rng);
        let img = Tensor::<f32>::rand_normal(&[n, c, h, w], 0.0, 1.0, &mut rng);
        let want = outputs(Level::Portable, &x, &bias, &img);
        for level in Level::available() {
            let got = outputs(level, &x, &bias, &img);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                prop_assert!(g == w, "output {} differs at {}", i, level);
            }
        }
    }
}
