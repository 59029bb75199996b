"""V: the convolutional VAE (SPEC "V"). `vae.vae` is the TensorFlow model for training;
`vae.numpy_vae` encodes frames in numpy from `vae.json`, for rollouts."""
