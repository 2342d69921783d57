//! Graphviz DOT output of a recorded graph, so a learner can look at the computational graph:
//! each node shows its op, shape, forward value (or a summary) and, after a `retain_graph`
//! backward, its gradient.

use std::fmt::Write;

use neurite_tensor::{Float, Tensor};

use crate::graph::Graph;

fn summary<T: Float>(t: &Tensor<T>) -> String {
    let v = t.to_vec();
    if v.len() <= 4 {
        let items: Vec<String> = v.iter().map(|x| format!("{:.4}", x.to_f64())).collect();
        format!("[{}]", items.join(", "))
    } else {
        let f: Vec<f64> = v.iter().map(|x| x.to_f64()).collect();
        let min = f.iter().copied().fold(f64::INFINITY, f64::min);
        let max = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = f.iter().sum::<f64>() / f.len() as f64;
        format!("min {min:.3} mean {mean:.3} max {max:.3}")
    }
}

impl<T: Float> Graph<T> {
    /// The recorded graph in Graphviz DOT: inputs point to the ops that consume them.
    ///
    /// ```
    /// use neurite_autograd::{Graph, BackwardOptions};
    /// use neurite_tensor::Tensor;
    /// let g = Graph::<f64>::new();
    /// let x = g.variable(Tensor::scalar(2.0));
    /// let y = x.square()?;
    /// y.backward_with(Tensor::scalar(1.0), BackwardOptions { retain_graph: true })?;
    /// let dot = g.to_dot();
    /// assert!(dot.starts_with("digraph"));
    /// assert!(dot.contains("square"));
    /// # Ok::<(), neurite_autograd::AutogradError>(())
    /// ```
    pub fn to_dot(&self) -> String {
        let inner = self.inner.borrow();
        let mut s = String::from(
            "digraph neurite {\n  rankdir=LR;\n  node [shape=record, fontname=\"monospace\"];\n",
        );
        // Inputs of a node are only kept while its backward rule is; record edges from the
        // node list of ops that still know them.
        for (i, n) in inner.nodes.iter().enumerate() {
            let name = match &n.label {
                Some(l) => format!("{l} = {}", n.op_name),
                None => n.op_name.to_string(),
            };
            let value = n
                .value
                .as_ref()
                .map(summary)
                .unwrap_or_else(|| "released".into());
            let grad = n
                .grad
                .as_ref()
                .map(|g| format!(" | grad {}", summary(g)))
                .unwrap_or_default();
            let label = format!("#{i} {name} | shape {:?} | value {value}{grad}", n.shape);
            let label = label
                .replace('{', "\\{")
                .replace('}', "\\}")
                .replace('<', "\\<")
                .replace('>', "\\>")
                .replace('"', "\\\"");
            let _ = writeln!(s, "  n{i} [label=\"{label}\"];");
            for &p in &n.inputs {
                let _ = writeln!(s, "  n{p} -> n{i};");
            }
        }
        s.push_str("}\n");
        s
    }
}
