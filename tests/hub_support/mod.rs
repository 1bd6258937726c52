//! Helpers for the hub tests: the fake hub server and small model files.
#![allow(dead_code)] // each test binary uses its own subset

pub mod hub_server;

use std::path::Path;

use bitnet_tui::gguf::{GgufWriter, TensorSpec, TensorType, Value};
use rand::{RngCore, SeedableRng};

/// A small valid GGUF model: `arch`, `general.name`, an optional `general.finetune`, and one
/// Q8_0 matrix.
pub fn tiny_gguf(arch: &str, name: &str, finetune: Option<&str>) -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.set("general.architecture", Value::String(arch.into()));
    w.set("general.name", Value::String(name.into()));
    if let Some(f) = finetune {
        w.set("general.finetune", Value::String(f.into()));
    }
    let spec = TensorSpec::new("blk.0.attn_q.weight", TensorType::Q8_0, &[64, 32]);
    let bytes = vec![0u8; spec.n_bytes() as usize];
    w.add_tensor(spec);
    w.to_bytes(&[bytes]).expect("writing to memory cannot fail")
}

/// `n` bytes of deterministic noise, so transfers cannot succeed by accident.
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    rand_chacha::ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
    bytes
}

/// Writes `bytes` to `<root>/<repo>/<file>`, as the fake hub serves them.
pub fn put(root: &Path, repo: &str, file: &str, bytes: &[u8]) {
    let path = root.join(repo).join(file);
    std::fs::create_dir_all(path.parent().expect("a file in a repo folder")).expect("create repo folder");
    std::fs::write(path, bytes).expect("write served file");
}

/// The sha256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
