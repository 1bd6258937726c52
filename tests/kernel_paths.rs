//! Every kernel path gives the same logits, bit for bit, on whole models: the scalar reference is
//! the specification and each SIMD path must compute exactly its floats. Per-kernel tests cannot
//! show this alone: an operation whose paths differ in the last bit (a dot summed in another
//! order) flips int8 activation codes a layer later, and the logits drift from there.
//!
//! Through the binary, for the fixture, two synthetic models (2B4T's widths, 2 layers; GQA 4:1
//! with heads of a width that leaves tails in the attention dots) and SmolLM2: prompts of 1, 6,
//! 17 and 64 tokens (batches below and above the 16 rows where row-wise steps go parallel), the
//! longest followed by 32 greedy steps, with the F16 and the default LM head, under every kernel
//! path this CPU has, at 1 and 2 threads. The prompt's logits (`--all`) must be equal bits, and
//! so must the JSON (shortest round-trip decimals, so equal text is equal f32 bits) with each
//! step's id and top 5.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bitnet_tui::kernels::dispatch::KernelPath;

/// Prompt lengths, and the greedy steps after each: decoding is the same code after any prompt,
/// so it runs once, from the deepest context.
const PROMPTS: [(usize, usize); 4] = [(1, 0), (6, 0), (17, 0), (64, 32)];

fn bitnet_tui(args: &[&str], kernel: Option<KernelPath>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bitnet-tui"));
    if let Some(kernel) = kernel {
        cmd.env("BITNET_TUI_KERNEL", kernel.name());
    }
    let out = cmd.args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bitnet-tui {args:?} failed:\n{stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// A temporary folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("bitnet-tui-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Token ids below 256 (every vocabulary here has them), spread so prompts differ.
fn prompt(len: usize) -> String {
    (0..len).map(|i| ((i * 97 + 31) % 256).to_string()).collect::<Vec<_>>().join(",")
}

/// What one `logits` run reports: its JSON (prompt top 20, then each step's id and top 5) and
/// the prompt's last logits.
struct Run {
    json: String,
    logits: Vec<f32>,
}

/// One `logits` invocation short of its kernel path and thread count.
struct Case<'a> {
    model: &'a Path,
    tokens: String,
    steps: usize,
    head: &'a str,
}

fn logits(case: &Case, kernel: KernelPath, threads: usize, dir: &Path) -> Run {
    let all = dir.join("all.f32");
    let json = bitnet_tui(
        &[
            "logits",
            "-m",
            case.model.to_str().unwrap(),
            "--tokens",
            &case.tokens,
            "--steps",
            &case.steps.to_string(),
            "--all",
            all.to_str().unwrap(),
            "--lm-head",
            case.head,
            "--threads",
            &threads.to_string(),
        ],
        Some(kernel),
    );
    let bytes = std::fs::read(&all).unwrap();
    let logits = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Run { json, logits }
}

/// Runs every prompt under every path and thread count and compares each with scalar at one
/// thread; `heads` are the `--lm-head` values worth running (a head not stored in F16 is used
/// as stored whatever the flag says).
fn assert_paths_agree(name: &str, model: &Path, heads: &[&str]) {
    let dir = TempDir::new(&format!("kernel-paths-{name}"));
    let reference = (KernelPath::Scalar, 1);
    let runs: Vec<(KernelPath, usize)> = KernelPath::available()
        .into_iter()
        .flat_map(|path| [(path, 1), (path, 2)])
        .filter(|&run| run != reference)
        .collect();
    for &head in heads {
        for (len, steps) in PROMPTS {
            let case = Case { model, tokens: prompt(len), steps, head };
            let want = logits(&case, reference.0, reference.1, &dir.0);
            for &(path, threads) in &runs {
                let got = logits(&case, path, threads, &dir.0);
                let label =
                    format!("{name}, {len}-token prompt, --lm-head {head}, {} at {threads} threads", path.name());
                let max_diff = got.logits.iter().zip(&want.logits).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
                assert_eq!(got.logits.len(), want.logits.len(), "{label}");
                assert!(
                    got.logits.iter().zip(&want.logits).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{label}: prompt logits differ from scalar at 1 thread by up to {max_diff}"
                );
                assert_eq!(got.json, want.json, "{label}: the prompt's top 20 or a step's id or top 5 differ");
            }
        }
    }
}

/// Writes a synthetic BitNet model with `gen-model` and the given shape flags.
fn gen_model(dir: &Path, name: &str, shape: &[&str]) -> PathBuf {
    let out = dir.join(format!("{name}.gguf"));
    let mut args = vec!["gen-model", "--seed", "17", "--out", out.to_str().unwrap()];
    args.extend_from_slice(shape);
    bitnet_tui(&args, None);
    out
}

#[test]
fn fixture_logits_are_equal_on_every_path() {
    assert_paths_agree("fixture", &common::bitnet_tiny(), &["f16", "q8"]);
}

#[test]
fn bitnet_2b4t_widths_logits_are_equal_on_every_path() {
    let dir = TempDir::new("kernel-paths-2b4t-model");
    let model = gen_model(&dir.0, "2b4t-2-layers", &["--preset", "2b4t", "--layers", "2"]);
    assert_paths_agree("2B4T widths", &model, &["f16", "q8"]);
}

#[test]
fn gqa_4_to_1_logits_are_equal_on_every_path() {
    // Heads of 20 dimensions: the attention dots have whole eights and a tail of four.
    let dir = TempDir::new("kernel-paths-gqa-model");
    let model = gen_model(&dir.0, "gqa4", &["--hidden", "640", "--ffn", "1792", "--heads", "32", "--kv-heads", "8"]);
    assert_paths_agree("GQA 4:1", &model, &["f16", "q8"]);
}

#[test]
fn smollm2_logits_are_equal_on_every_path() {
    // SmolLM2's head is Q8_0 in the file, used as stored whatever --lm-head says.
    assert_paths_agree("SmolLM2", &common::smollm2(), &["f16"]);
}
