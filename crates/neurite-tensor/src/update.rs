//! The element-wise parameter updates of the optimisers, θ ← θ − α·(…), over flat slices.
//!
//! neurite-nn's optimisers keep their state and hyper-parameters; the loops over the values live
//! here so that they run compiled for the CPU's vector instructions ([`simd::run`]) in any
//! build. Each kernel does the same arithmetic, in the same order, on every [`simd::Level`]
//! (no fused multiply-add, and square roots and divisions are exact in every instruction set),
//! so a step gives the same bits on every level and for any thread count.
//!
//! All slices of one call must have the same length (the kernels stop at the shortest).

use crate::float::Float;
use crate::simd;

/// Plain SGD: θ ← θ − α·g.
///
/// ```
/// let mut theta = [1.0f32, 2.0];
/// neurite_tensor::update::sgd(&mut theta, &[0.5, -1.0], 0.1);
/// assert_eq!(theta, [1.0 - 0.1 * 0.5, 2.0 + 0.1]);
/// ```
pub fn sgd<T: Float>(theta: &mut [T], g: &[T], lr: T) {
    simd::run(simd::level(), || {
        theta.iter_mut().zip(g).for_each(|(t, &g)| *t -= lr * g)
    });
}

/// SGD with L2 weight decay λ and optional (Nesterov) momentum μ, as PyTorch's: g ← g + λθ;
/// with momentum, v ← μv + g and the step is v (or g + μv with Nesterov); θ ← θ − α·step.
/// `velocity` is `None` without momentum.
pub fn sgd_momentum<T: Float>(
    theta: &mut [T],
    g: &[T],
    velocity: Option<&mut [T]>,
    lr: T,
    momentum: T,
    weight_decay: T,
    nesterov: bool,
) {
    let (mu, wd) = (momentum, weight_decay);
    simd::run(simd::level(), || match velocity {
        None => {
            for (t, &g) in theta.iter_mut().zip(g) {
                *t -= lr * (g + wd * *t);
            }
        }
        Some(v) => {
            for ((t, &g), v) in theta.iter_mut().zip(g).zip(v.iter_mut()) {
                let g = g + wd * *t;
                *v = mu * *v + g;
                *t -= lr * if nesterov { g + mu * *v } else { *v };
            }
        }
    });
}

/// The scalars of one Adam / AdamW step of one parameter (the bias corrections folded in).
#[derive(Debug, Clone, Copy)]
pub struct AdamStep<T> {
    /// α / (1 − β₁ᵗ).
    pub step_size: T,
    /// √(1 − β₂ᵗ).
    pub sqrt_c2: T,
    /// β₁.
    pub beta1: T,
    /// β₂.
    pub beta2: T,
    /// 1 − β₁ (given, so that the caller may round it from a wider type).
    pub one_minus_beta1: T,
    /// 1 − β₂.
    pub one_minus_beta2: T,
    /// ε.
    pub eps: T,
    /// λ: added to the gradient as λθ (Adam), unless `decoupled`.
    pub weight_decay: T,
    /// With `decoupled` (AdamW): θ is first multiplied by this (1 − αλ).
    pub shrink: T,
    /// AdamW's decoupled weight decay instead of Adam's L2 term.
    pub decoupled: bool,
}

/// Adam / AdamW: g ← g + λθ (or θ ← θ·(1 − αλ) when decoupled); m ← β₁m + (1 − β₁)g;
/// v ← β₂v + (1 − β₂)g²; θ ← θ − (α/c₁)·m / (√v/√c₂ + ε).
pub fn adam<T: Float>(theta: &mut [T], g: &[T], m: &mut [T], v: &mut [T], s: &AdamStep<T>) {
    let (tb1, tb2) = (s.beta1, s.beta2);
    let (ob1, ob2) = (s.one_minus_beta1, s.one_minus_beta2);
    let (step_size, sqrt_c2, teps, twd, shrink) =
        (s.step_size, s.sqrt_c2, s.eps, s.weight_decay, s.shrink);
    let decoupled = s.decoupled;
    simd::run(simd::level(), || {
        for (((t, &g), m), v) in theta.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            let g = if decoupled {
                *t *= shrink;
                g
            } else {
                g + twd * *t
            };
            *m = tb1 * *m + ob1 * g;
            *v = tb2 * *v + ob2 * g * g;
            *t -= step_size * *m / (v.sqrt() / sqrt_c2 + teps);
        }
    });
}

/// RMSprop as PyTorch's: g ← g + λθ; v ← ρv + (1 − ρ)g²; d = g/(√v + ε); with momentum
/// b ← μb + d and θ ← θ − α·b, else θ ← θ − α·d. `buffer` is `None` without momentum.
#[allow(clippy::too_many_arguments)]
pub fn rmsprop<T: Float>(
    theta: &mut [T],
    g: &[T],
    square_avg: &mut [T],
    buffer: Option<&mut [T]>,
    lr: T,
    rho: T,
    eps: T,
    momentum: T,
    weight_decay: T,
) {
    let (mu, wd) = (momentum, weight_decay);
    let v = square_avg;
    simd::run(simd::level(), || match buffer {
        Some(b) => {
            for (((t, &g), v), b) in theta.iter_mut().zip(g).zip(v.iter_mut()).zip(b.iter_mut()) {
                let g = g + wd * *t;
                *v = rho * *v + (T::ONE - rho) * g * g;
                let d = g / (v.sqrt() + eps);
                *b = mu * *b + d;
                *t -= lr * *b;
            }
        }
        None => {
            for ((t, &g), v) in theta.iter_mut().zip(g).zip(v.iter_mut()) {
                let g = g + wd * *t;
                *v = rho * *v + (T::ONE - rho) * g * g;
                let d = g / (v.sqrt() + eps);
                *t -= lr * d;
            }
        }
    });
}

/// Adagrad: g ← g + λθ; s ← s + g²; θ ← θ − α·g/(√s + ε).
pub fn adagrad<T: Float>(theta: &mut [T], g: &[T], sum_sq: &mut [T], lr: T, eps: T, wd: T) {
    simd::run(simd::level(), || {
        for ((t, &g), s) in theta.iter_mut().zip(g).zip(sum_sq.iter_mut()) {
            let g = g + wd * *t;
            *s += g * g;
            *t -= lr * g / (s.sqrt() + eps);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::Level;
    use proptest::prelude::*;

    fn vecs(n: usize, seed: u64) -> [Vec<f32>; 4] {
        let mut rng = crate::Rng::new(seed);
        let mut v = || (0..n).map(|_| rng.normal() as f32).collect::<Vec<f32>>();
        [v(), v(), v(), v().iter().map(|x| x.abs()).collect()]
    }

    proptest! {
        // Every level gives exactly the bits of the scalar formulas written out naively.
        #[test]
        fn updates_match_the_naive_formulas_on_every_level(
            n in 0usize..300,
            seed in 0u64..1000,
            nesterov in any::<bool>(),
            decoupled in any::<bool>(),
        ) {
            let [t0, g, m0, v0] = vecs(n, seed);
            let (lr, mu, wd, eps, rho) = (0.01f32, 0.9f32, 0.001f32, 1e-8f32, 0.99f32);
            for level in Level::available() {
                let mut t = t0.clone();
                simd::with_level(level, || sgd(&mut t, &g, lr));
                for i in 0..n {
                    prop_assert_eq!(t[i], t0[i] - lr * g[i]);
                }

                let (mut t, mut v) = (t0.clone(), m0.clone());
                simd::with_level(level, || {
                    sgd_momentum(&mut t, &g, Some(&mut v), lr, mu, wd, nesterov)
                });
                for i in 0..n {
                    let gi = g[i] + wd * t0[i];
                    let vi = mu * m0[i] + gi;
                    let step = if nesterov { gi + mu * vi } else { vi };
                    prop_assert_eq!((t[i], v[i]), (t0[i] - lr * step, vi));
                }
                let mut t = t0.clone();
                simd::with_level(level, || sgd_momentum(&mut t, &g, None, lr, mu, wd, false));
                for i in 0..n {
                    prop_assert_eq!(t[i], t0[i] - lr * (g[i] + wd * t0[i]));
                }

                let st = AdamStep {
                    step_size: 0.001 / 0.1,
                    sqrt_c2: 0.001f32.sqrt(),
                    beta1: 0.9,
                    beta2: 0.999,
                    one_minus_beta1: 0.1,
                    one_minus_beta2: 0.001,
                    eps,
                    weight_decay: wd,
                    shrink: 1.0 - 0.001 * wd,
                    decoupled,
                };
                let (mut t, mut m, mut v) = (t0.clone(), m0.clone(), v0.clone());
                simd::with_level(level, || adam(&mut t, &g, &mut m, &mut v, &st));
                for i in 0..n {
                    let (mut ti, gi) = (t0[i], g[i]);
                    let gi = if decoupled { ti *= st.shrink; gi } else { gi + wd * ti };
                    let mi = 0.9 * m0[i] + 0.1 * gi;
                    let vi = 0.999 * v0[i] + 0.001 * gi * gi;
                    ti -= st.step_size * mi / (vi.sqrt() / st.sqrt_c2 + eps);
                    prop_assert_eq!((t[i], m[i], v[i]), (ti, mi, vi));
                }

                for with_momentum in [false, true] {
                    let (mut t, mut v, mut b) = (t0.clone(), v0.clone(), m0.clone());
                    let buf = if with_momentum { Some(&mut b[..]) } else { None };
                    simd::with_level(level, || {
                        rmsprop(&mut t, &g, &mut v, buf, lr, rho, eps, mu, wd)
                    });
                    for i in 0..n {
                        let gi = g[i] + wd * t0[i];
                        let vi = rho * v0[i] + (1.0 - rho) * gi * gi;
                        let d = gi / (vi.sqrt() + eps);
                        let ti = if with_momentum {
                            let bi = mu * m0[i] + d;
                            prop_assert_eq!(b[i], bi);
                            t0[i] - lr * bi
                        } else {
                            t0[i] - lr * d
                        };
                        prop_assert_eq!((t[i], v[i]), (ti, vi));
                    }
                }

                let (mut t, mut s) = (t0.clone(), v0.clone());
                simd::with_level(level, || adagrad(&mut t, &g, &mut s, lr, eps, wd));
                for i in 0..n {
                    let gi = g[i] + wd * t0[i];
                    let si = v0[i] + gi * gi;
                    prop_assert_eq!((t[i], s[i]), (t0[i] - lr * gi / (si.sqrt() + eps), si));
                }
            }
        }
    }
}
