//! GGUF files: reading, writing and the tensor types they hold.
