"""M: the MDN-RNN (SPEC "M"). `rnn.rnn` is the TensorFlow model for training;
`rnn.numpy_rnn` steps the LSTM and samples the MDN in numpy from `rnn.json`."""
