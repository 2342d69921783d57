//! Convolution helpers: im2col / col2im in 1-D and 2-D (being written).
