//! The differentiable ops: each a struct holding what its backward needs, implementing
//! [`Backward`](crate::Backward), plus the method on [`Var`](crate::Var) that records it.
//!
//! [`OPS`] lists every op name this crate records; the gradient-check suite fails when one
//! of them has no check.

pub mod elementwise;
pub mod linalg;
pub mod reduce;
pub mod shape;

/// Every op name recorded by neurite-autograd (leaves excluded). The gradient-check suite
/// verifies each one is exercised by at least one case.
pub const OPS: &[&str] = &[
    // elementwise.rs
    "add",
    "sub",
    "mul",
    "div",
    "maximum",
    "minimum",
    "pow",
    "neg",
    "exp",
    "ln",
    "sqrt",
    "abs",
    "square",
    "recip",
    "tanh",
    "sigmoid",
    "relu",
    "softplus",
    "gelu",
    "leaky_relu",
    "elu",
    "powf",
    "add_scalar",
    "mul_scalar",
    "clamp",
    "dropout",
    // reduce.rs
    "sum_axes",
    "sum_all",
    "mean_axes",
    "mean_all",
    "max_axis",
    "min_axis",
    "logsumexp",
    "softmax",
    "log_softmax",
    "gather",
    // linalg.rs
    "matmul",
    // shape.rs
    "reshape",
    "permute",
    "narrow",
    "slice",
    "concat",
    "stack",
    "index_select",
    "index_add",
    "broadcast_to",
];
