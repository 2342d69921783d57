//! neurite-cnn: convolutional layers and pooling (being written).
