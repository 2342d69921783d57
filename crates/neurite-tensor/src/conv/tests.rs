//! Unit tests of the im2col / col2im helpers.

use super::*;

#[test]
fn valid_range_matches_brute_force() {
    for count in 0..6 {
        for step in 1..4 {
            for offset in 0..5 {
                for pad in 0..4 {
                    for len in 0..5 {
                        let ok: Vec<usize> = (0..count)
                            .filter(|&t| {
                                let p = (t * step + offset) as isize - pad as isize;
                                p >= 0 && p < len as isize
                            })
                            .collect();
                        let (lo, hi) = valid_range(count, step, offset, pad, len);
                        assert_eq!(ok, (lo..hi).collect::<Vec<_>>());
                    }
                }
            }
        }
    }
}

#[test]
fn bad_windows_are_typed_errors() {
    let x = Tensor::<f32>::zeros(&[1, 1, 3, 3]);
    let e = im2col_2d(&x, &Window2d::new([4, 1])).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("[1, 1, 3, 3]") && msg.contains("[4, 1]"),
        "{msg}"
    );
    assert!(im2col_2d(&x, &Window2d::new([0, 1])).is_err());
    assert!(im2col_2d(&x, &Window2d::new([1, 1]).with_stride([0, 1])).is_err());
    assert!(im2col_2d(&x, &Window2d::new([2, 2]).with_dilation([1, 0])).is_err());
    assert!(im2col_2d(&x, &Window2d::new([2, 2]).with_dilation([3, 1])).is_err());
    assert!(im2col_2d(&x.reshape(&[1, 9]).unwrap(), &Window2d::new([1, 1])).is_err());
    let huge = Window2d::new([usize::MAX, 1]).with_dilation([2, 1]);
    assert!(im2col_2d(&x, &huge).is_err());
    let mut small = vec![0.0f32; 3];
    assert!(im2col_2d_into(&[0.0; 9], [1, 1, 3, 3], &Window2d::new([2, 2]), &mut small).is_err());
    let cols = Tensor::<f32>::zeros(&[1, 4, 5]);
    assert!(col2im_2d(&cols, [1, 1, 3, 3], &Window2d::new([2, 2])).is_err());
}
