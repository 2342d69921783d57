//! Outputs and losses as the subject pairs them: linear output + MSE (regression), softmax
//! output + cross-entropy (multi-class, fused with log-softmax for stability).

use neurite_autograd::Var;
use neurite_tensor::Float;

use crate::error::{NnError, Result};

/// Mean squared error: mean((pred − target)²). Shapes must match.
pub fn mse<'g, T: Float>(pred: Var<'g, T>, target: Var<'g, T>) -> Result<Var<'g, T>> {
    if pred.shape() != target.shape() {
        return Err(NnError::BadInput {
            layer: "mse".into(),
            expected: format!("target of shape {:?}", pred.shape()),
            got: target.shape(),
        });
    }
    Ok(pred.sub(target)?.square()?.mean()?)
}

/// Softmax cross-entropy with class-index targets: mean over the batch of −log softmax(logits)[label].
/// Logits [batch, classes]; computed through log-softmax, so it is stable for any logits.
pub fn cross_entropy<'g, T: Float>(logits: Var<'g, T>, labels: &[usize]) -> Result<Var<'g, T>> {
    let shape = logits.shape();
    if shape.len() != 2 || shape[0] != labels.len() {
        return Err(NnError::BadInput {
            layer: "cross_entropy".into(),
            expected: format!(
                "logits [batch, classes] with batch = {} labels",
                labels.len()
            ),
            got: shape,
        });
    }
    if let Some((position, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= shape[1]) {
        return Err(NnError::LabelOutOfRange {
            op: "cross_entropy",
            label,
            position,
            classes: shape[1],
        });
    }
    Ok(logits.log_softmax(1)?.gather(labels)?.mean()?.neg()?)
}
