//! neurite-word2vec: word2vec: CBOW and skip-gram with negative sampling and hierarchical softmax (being written).
