//! neurite-nn: the layer zoo: modules, activations, losses, optimisers, data and training (being written).
