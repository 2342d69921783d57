//! neurite-rnn: recurrent layers: RNN, GRU, LSTM, bidirectional (being written).
