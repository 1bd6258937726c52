//! The model hub layer: which models we offer, where models are on disk, and how they get there.
//!
//! - [`catalog`]: the models offered for download (`assets/models.toml`), the default first.
//! - [`cache`]: the Hugging Face hub cache, shared with huggingface_hub, `hf`, llama.cpp `-hf`.
//! - [`discovery`]: GGUF models in that cache, in models folders and at explicit paths.
//! - [`download`]: resumable, sha256-verified downloads into the cache, with progress and cancel.
//! - [`env`]: the `HF_*` environment (endpoint, token, offline mode, cache location).
//! - [`repo`]: checked repo ids, revisions and file names.
//! - [`format`]: byte counts and durations for people.

pub mod cache;
pub mod catalog;
pub mod discovery;
pub mod download;
pub mod env;
pub mod format;
pub mod repo;
