//! Crafted model files and flags that once aborted the process or ran on nonsense: each must end
//! with a clear error naming the file and the field (exit status 1), never a panic.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bitnet_tui::gguf::{Array, GgufFile, StringArray, Value};

const ARCH: &str = "bitnet-b1.58";

fn crafted(dir: &Path, name: &str, edits: &[(&str, Value)]) -> PathBuf {
    let path = dir.join(format!("{name}.gguf"));
    common::rewrite_gguf(&common::bitnet_tiny(), &path, edits);
    path
}

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bitnet-tui")).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `run` on the file fails with status 1 and a message naming the file and `field`.
fn assert_refused(path: &Path, field: &str) {
    let p = path.to_str().unwrap();
    for ctx in ["4096", "0"] {
        let (code, err) = run(&["run", "-m", p, "--raw", "-p", "hello", "-n", "2", "--ctx", ctx]);
        assert_eq!(code, Some(1), "{p} --ctx {ctx}: {err}");
        assert!(err.contains(p) && err.contains(field) && !err.contains("panicked"), "{p}: {err}");
    }
}

#[test]
fn hyperparameters_out_of_range_are_refused_with_the_field() {
    let dir = tempfile::tempdir().unwrap();
    // (key, value, what the message must name): missing tensors and shapes are named by tensor.
    let cases = [
        ("block_count", Value::U32(0), "block_count"),
        ("block_count", Value::U32(u32::MAX), "blk.2.attn_norm.weight"),
        ("context_length", Value::U32(0), "context_length"),
        ("attention.layer_norm_rms_epsilon", Value::F32(f32::NAN), "layer_norm_rms_epsilon"),
        ("attention.layer_norm_rms_epsilon", Value::F32(-1.0), "layer_norm_rms_epsilon"),
        ("rope.freq_base", Value::F32(0.0), "rope.freq_base"),
        ("rope.freq_base", Value::F32(f32::NAN), "rope.freq_base"),
        ("embedding_length", Value::U32(u32::MAX), "embedding_length"),
        ("feed_forward_length", Value::U32(u32::MAX), "blk.0.ffn_gate.weight"),
        ("attention.head_count", Value::U32(u32::MAX), "head_count"),
        ("vocab_size", Value::U32(u32::MAX), "token_embd.weight"),
    ];
    for (i, (key, value, field)) in cases.into_iter().enumerate() {
        let key = format!("{ARCH}.{key}");
        let path = crafted(dir.path(), &format!("case{i}"), &[(key.as_str(), value)]);
        assert_refused(&path, field);
    }
}

#[test]
fn token_ids_past_the_embedding_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    for key in ["tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"] {
        let path = crafted(dir.path(), key, &[(key, Value::U32(129_255))]);
        assert_refused(&path, key);
    }
    // A vocabulary longer than the embedding: its last tokens have no rows.
    let file = GgufFile::open(common::bitnet_tiny()).unwrap();
    let mut tokens: StringArray = file.str_array("tokenizer.ggml.tokens").unwrap().iter().collect();
    let mut scores = file.opt_f32_array("tokenizer.ggml.scores").unwrap().unwrap().to_vec();
    let mut types = file.opt_i32_array("tokenizer.ggml.token_type").unwrap().unwrap().to_vec();
    for i in 0..10 {
        tokens.push(&format!("<extra_{i}>"));
        scores.push(0.0);
        types.push(1);
    }
    let path = crafted(
        dir.path(),
        "long_vocab",
        &[
            ("tokenizer.ggml.tokens", Value::Array(Array::String(tokens))),
            ("tokenizer.ggml.scores", Value::Array(Array::F32(scores))),
            ("tokenizer.ggml.token_type", Value::Array(Array::I32(types))),
        ],
    );
    assert_refused(&path, "token_embd.weight has 128256 rows");
}

#[test]
fn sampling_flags_out_of_range_are_refused_by_name() {
    let model = common::bitnet_tiny();
    let m = model.to_str().unwrap();
    for (flag, value) in
        [("--temp", "-1"), ("--temp", "nan"), ("--top-p", "2"), ("--min-p", "5"), ("--repeat-penalty", "0")]
    {
        let (code, err) = run(&["run", "-m", m, "-p", "hi", "-n", "1", flag, value]);
        assert_eq!(code, Some(2), "{flag} {value}: {err}");
        assert!(err.contains(flag) && err.contains("must be"), "{flag} {value}: {err}");
    }
}

#[test]
fn absurd_thread_counts_are_capped_with_a_warning() {
    let model = common::bitnet_tiny();
    let (code, err) = run(&["run", "-m", model.to_str().unwrap(), "--raw", "-p", "hi", "-n", "1", "-t", "100000000"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("warning: --threads 100000000"), "{err}");
}

#[test]
fn an_engine_panic_becomes_an_error_not_a_crash() {
    let model = common::bitnet_tiny();
    for point in ["load", "step"] {
        let out = Command::new(env!("CARGO_BIN_EXE_bitnet-tui"))
            .args(["run", "-m", model.to_str().unwrap(), "--raw", "-p", "hi", "-n", "2"])
            .env("BITNET_TUI_FAULT", point)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{point}: {err}");
        assert!(err.contains("internal error") && !err.contains("panicked"), "{point}: {err}");
    }
}

#[test]
fn a_model_file_truncated_while_mapped_ends_with_a_clear_error() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.gguf");
    std::fs::copy(common::bitnet_tiny(), &model).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bitnet-tui"))
        .args(["run", "-m", model.to_str().unwrap(), "--raw", "-p", "hi", "-n", "100000", "--ctx", "4096"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once text flows the model is mapped and in use; then half of the file goes.
    let mut first = [0u8; 1];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    let len = std::fs::metadata(&model).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&model).unwrap().set_len(len / 2).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(model.to_str().unwrap()) && err.contains("changed on disk"), "{err}");
}

#[test]
fn paths_that_are_not_files_and_absurd_bench_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for (path, what) in [
        (fifo.as_path(), "not a regular file"),
        (dir.path(), "a directory"),
        (Path::new("/dev/null"), "not a regular file"),
    ] {
        // A FIFO used to block in open() for ever; the test harness would time out.
        let (code, err) = run(&["run", "-m", path.to_str().unwrap(), "-p", "hi"]);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains(path.to_str().unwrap()) && err.contains(what), "{err}");
    }
    let model = common::bitnet_tiny();
    let m = model.to_str().unwrap();
    for (args, flag) in [
        (vec!["-p", "1000000000000", "-n", "1"], "-p 1000000000000"),
        (vec!["-p", "0", "-n", "1", "--depth", "1000000000000"], "--depth 1000000000000"),
    ] {
        let mut all = vec!["bench", "-m", m, "-r", "1"];
        all.extend(args);
        let (code, err) = run(&all);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains(flag) && err.contains("context of 4096"), "{err}");
    }
    let (code, err) = run(&["run", "-m", m, "--raw", "-p", ""]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("the prompt is empty"), "{err}");
}

#[test]
fn batch_skips_lines_that_are_not_utf8_or_too_long_and_reads_on() {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.jsonl"), dir.path().join("out.jsonl"));
    let mut lines = b"{\"prompt\": \"Hi\", \"max_tokens\": 2}\n{\"prompt\": \"\xff\xfe\"}\n".to_vec();
    lines.extend_from_slice(format!("{{\"prompt\": \"{}\"}}\n", "a".repeat(3 << 20)).as_bytes());
    lines.extend_from_slice(b"{\"prompt\": \"Hello\", \"max_tokens\": 2}\n");
    std::fs::write(&input, lines).unwrap();
    let model = common::bitnet_tiny();
    let (code, err) =
        run(&["batch", "-m", model.to_str().unwrap(), "-i", input.to_str().unwrap(), "-o", output.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("line 2: skipped: not valid UTF-8") && err.contains("line 3: skipped: longer than"), "{err}");
    let written: Vec<serde_json::Value> =
        std::fs::read_to_string(&output).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let numbers: Vec<u64> = written.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 4]);
    assert!(written.iter().all(|r| r["tokens"] == 2), "{written:?}");
}

#[test]
fn a_reply_cut_inside_a_character_lists_each_token_once() {
    // SmolLM2 writes each 😀 as three tokens: these lengths stop inside one.
    let model = common::smollm2();
    for n in ["1", "4", "8"] {
        let out = Command::new(env!("CARGO_BIN_EXE_bitnet-tui"))
            .args(["run", "-m", model.to_str().unwrap(), "--raw", "-p", "I love you so much ❤️❤️❤️ 😀😀😀"])
            .args(["-n", n, "--temp", "0", "--json"])
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ids = json["tokens"].as_array().unwrap();
        assert!(json["text"].as_str().unwrap().ends_with('\u{fffd}'), "-n {n}: {json}");
        assert_eq!(ids.len().to_string(), n, "-n {n}: {json}");
        assert_eq!(json["stats"]["generated_tokens"].as_u64().unwrap().to_string(), n);
    }
}

#[test]
fn a_chat_template_that_loops_for_ever_fails_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let template = "{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}";
    // SmolLM2 (llama) renders its file's template; BitNet models use their own chat format.
    let path = dir.path().join("loop.gguf");
    common::rewrite_gguf(&common::smollm2(), &path, &[("tokenizer.chat_template", Value::String(template.into()))]);
    let started = std::time::Instant::now();
    let (code, err) = run(&["run", "-m", path.to_str().unwrap(), "-p", "hi", "-n", "1"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("tokenizer.chat_template runs too long"), "{err}");
    // Not a timing assertion: 10^10 steps would take hours, the fuel stops it in seconds.
    assert!(started.elapsed() < std::time::Duration::from_secs(120));
}
