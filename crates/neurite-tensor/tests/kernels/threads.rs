//! Results are identical, bit for bit, for any thread count: every parallel kernel is run on
//! inputs above its parallel threshold in pools of 1, 2 and 3 threads.

use neurite_tensor::conv::{col2im_2d, im2col_2d, Window2d};
use neurite_tensor::pool::{
    avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward, PadCount,
};
use neurite_tensor::{Rng, Tensor};

fn run_all() -> Vec<Vec<f64>> {
    let mut rng = Rng::new(11);
    let x = Tensor::<f64>::rand_normal(&[8, 16, 24, 24], 0.0, 1.0, &mut rng);
    let win = Window2d::new([3, 3])
        .with_padding([1, 1])
        .with_dilation([1, 2]);
    let cols = im2col_2d(&x, &win).unwrap();
    let back = col2im_2d(&cols, [8, 16, 24, 24], &win).unwrap();
    let pool_win = Window2d::new([3, 3])
        .with_stride([2, 2])
        .with_padding([1, 1]);
    let mp = max_pool2d(&x, &pool_win).unwrap();
    let mpb = max_pool2d_backward(&mp.values, &mp.argmax, [8, 16, 24, 24]).unwrap();
    let ap = avg_pool2d(&x, &pool_win, PadCount::Exclude).unwrap();
    let apb = avg_pool2d_backward(&ap, [8, 16, 24, 24], &pool_win, PadCount::Exclude).unwrap();
    let a = Tensor::<f64>::rand_normal(&[300, 200], 0.0, 1.0, &mut rng);
    let b = Tensor::<f64>::rand_normal(&[250, 200], 0.0, 1.0, &mut rng);
    let ab = a.matmul(&b.t().unwrap()).unwrap();
    let batched = x
        .reshape(&[128, 24, 24])
        .unwrap()
        .matmul(&x.reshape(&[128, 24, 24]).unwrap())
        .unwrap();
    let e = x.tanh().add(&x.sigmoid()).unwrap().softmax(3).unwrap();
    let mut y = x.clone();
    y.add_scaled_inplace(0.5, &x.exp()).unwrap();
    vec![
        cols.to_vec(),
        back.to_vec(),
        mp.values.to_vec(),
        mp.argmax.iter().map(|&i| i as f64).collect(),
        mpb.to_vec(),
        ap.to_vec(),
        apb.to_vec(),
        ab.to_vec(),
        batched.to_vec(),
        e.to_vec(),
        y.to_vec(),
        x.sum_axes(&[0, 2], false).unwrap().to_vec(),
    ]
}

#[test]
fn kernels_give_identical_results_for_any_thread_count() {
    let in_pool = |n: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(run_all)
    };
    let one = in_pool(1);
    for n in [2, 3] {
        let many = in_pool(n);
        for (k, (a, b)) in one.iter().zip(&many).enumerate() {
            // Bitwise: compare the bit patterns so that NaN = NaN would count too.
            let same =
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "kernel {k} differs between 1 and {n} threads");
        }
    }
}
