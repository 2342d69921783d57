//! neurite-autograd: reverse-mode automatic differentiation over a recorded computational graph (being written).
