//! A pool of reusable scratch buffers (im2col columns and their gradients), shared by a layer
//! and the backward rules it records, so a training step allocates no column buffer after the
//! first one per thread.

use std::sync::{Arc, Mutex};

use neurite_tensor::Float;

/// Reusable buffers; each parallel task borrows one for the duration of a closure.
#[derive(Debug, Default)]
pub struct Scratch<T> {
    free: Mutex<Vec<Vec<T>>>,
}

impl<T: Float> Scratch<T> {
    /// An empty pool, shared.
    pub fn shared() -> Arc<Self> {
        Arc::new(Scratch {
            free: Mutex::new(Vec::new()),
        })
    }

    /// Runs `f` on a buffer of at least `len` elements (contents unspecified: `f` must write
    /// before it reads), then returns the buffer to the pool.
    pub fn with<R>(&self, len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
        let mut buf = self
            .free
            .lock()
            .map(|mut v| v.pop())
            .ok()
            .flatten()
            .unwrap_or_default();
        if buf.len() < len {
            buf.resize(len, T::ZERO);
        }
        let r = f(&mut buf[..len]);
        if let Ok(mut v) = self.free.lock() {
            v.push(buf);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused() {
        let s = Scratch::<f32>::shared();
        let p1 = s.with(10, |b| b.as_ptr() as usize);
        let p2 = s.with(8, |b| b.as_ptr() as usize);
        assert_eq!(p1, p2);
        s.with(3, |b| assert_eq!(b.len(), 3));
    }
}
