//! Pooling kernels: max (with argmax) and average, forward and backward (being written).
