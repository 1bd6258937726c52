//! The inference engine: model, tokenizer, chat format, sampler, KV cache and the worker thread.

pub mod bandwidth;
pub mod bench;
pub mod chat;
pub mod kv_cache;
pub mod model;
pub mod protocol;
pub mod sampler;
pub mod synthetic;
pub mod tokenizer;
pub mod vocab;
