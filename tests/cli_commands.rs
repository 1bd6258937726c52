//! The headless commands end to end, through the binary: run, logits, perplexity, batch, gen-model.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn bitnet_tui(args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bitnet-tui")).args(args).output().unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "bitnet-tui {args:?} failed:\n{stderr}");
    (stdout, stderr)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bitnet-tui-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn run_answers_what_is_two_plus_two() {
    let model = common::smollm2();
    let (stdout, _) = bitnet_tui(&["run", "-m", path_str(&model), "-p", "What is 2+2?", "--temp", "0", "--json"]);
    let j: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["text"], "The answer to this classic math problem is 4.");
    assert_eq!(j["stop_reason"], "end-of-text");
    assert_eq!(j["tokens"].as_array().unwrap().len(), 11);
    assert!(j["stats"]["decode_tok_s"].as_f64().unwrap() > 0.0);
    // Streaming mode prints the text and a stats line on stderr.
    let (stdout, stderr) = bitnet_tui(&["run", "-m", path_str(&model), "-p", "What is 2+2?", "--temp", "0"]);
    assert_eq!(stdout.trim(), "The answer to this classic math problem is 4.");
    assert!(stderr.contains("generation 11 tok"), "{stderr}");
}

#[test]
fn raw_run_continues_text() {
    let (stdout, _) = bitnet_tui(&[
        "run",
        "-m",
        path_str(&common::smollm2()),
        "--raw",
        "-p",
        "The capital of France is",
        "-n",
        "1",
        "--temp",
        "0",
    ]);
    assert_eq!(stdout.trim_end_matches('\n'), " Paris");
}

#[test]
fn logits_match_the_fixture_reference() {
    let fixtures = common::shared_dir().join("fixtures");
    let reference: Value =
        serde_json::from_slice(&std::fs::read(fixtures.join("bitnet-tiny.ref.json")).unwrap()).unwrap();
    let dir = temp_dir("logits");
    let all = dir.join("all.f32");
    let (stdout, _) = bitnet_tui(&[
        "logits",
        "-m",
        path_str(&common::bitnet_tiny()),
        "--tokens",
        "128000,791,6864,315,9822,374",
        "--top",
        "20",
        "--steps",
        "32",
        "--all",
        path_str(&all),
        "--lm-head",
        "f16",
    ]);
    let j: Value = serde_json::from_str(&stdout).unwrap();
    let top = j["top"].as_array().unwrap();
    for (got, want) in top.iter().zip(reference["top20_after_prompt"].as_array().unwrap()) {
        assert_eq!(got[0], want[0]);
        assert!((got[1].as_f64().unwrap() - want[1].as_f64().unwrap()).abs() < 1e-3);
    }
    let steps = j["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 32);
    for (got, want) in steps.iter().zip(reference["greedy_steps"].as_array().unwrap()) {
        assert_eq!(got["id"], want["id"], "step {}", want["step"]);
        assert_eq!(got["top5"][1][0], want["top5"][1][0], "step {}", want["step"]);
    }
    let bytes = std::fs::read(&all).unwrap();
    let expected = std::fs::read(fixtures.join("bitnet-tiny.prompt-logits.f32")).unwrap();
    assert_eq!(bytes.len(), expected.len());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn perplexity_matches_llama_cpp_within_one_percent() {
    let text = common::shared_dir().join("reference").join("ppl.txt");
    let (stdout, _) = bitnet_tui(&[
        "perplexity",
        "-m",
        path_str(&common::smollm2()),
        "-f",
        path_str(&text),
        "--ctx",
        "512",
        "--json",
    ]);
    let j: Value = serde_json::from_str(&stdout).unwrap();
    let ppl = j["ppl"].as_f64().unwrap();
    assert_eq!(j["windows"], 14);
    assert!((ppl / 18.3914 - 1.0).abs() < 0.01, "ppl {ppl}");
}

#[test]
fn batch_answers_each_line_and_skips_bad_ones() {
    let dir = temp_dir("batch");
    let input = dir.join("in.jsonl");
    let output = dir.join("out.jsonl");
    std::fs::write(
        &input,
        "{\"prompt\": \"What is 2+2?\", \"temperature\": 0}\nnot json\n{\"prompt\": \"Say hi\", \"max_tokens\": 3}\n",
    )
    .unwrap();
    let (_, stderr) = bitnet_tui(&[
        "batch",
        "-m",
        path_str(&common::smollm2()),
        "--input",
        path_str(&input),
        "--output",
        path_str(&output),
    ]);
    assert!(stderr.contains("line 2: skipped"), "{stderr}");
    let mut lines: Vec<Value> =
        std::fs::read_to_string(&output).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    // Lines run together and are written as they finish; each names its input line.
    lines.sort_by_key(|l| l["line"].as_u64());
    assert_eq!(lines[0]["text"], "The answer to this classic math problem is 4.");
    assert_eq!(lines[1]["line"], 3);
    assert_eq!(lines[1]["tokens"], 3);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn batch_in_parallel_answers_exactly_as_one_at_a_time() {
    let dir = temp_dir("batch-parallel");
    let input = dir.join("in.jsonl");
    let prompts = [
        "What is 2+2?",
        "Name a colour.",
        "Say hi.",
        "What is the capital of France?",
        "Count to five.",
        "Why is the sky blue?",
    ];
    let lines: Vec<String> = prompts.iter().map(|p| format!("{{\"prompt\": \"{p}\", \"max_tokens\": 12}}")).collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let answers = |parallel: &str| {
        let output = dir.join(format!("out-{parallel}.jsonl"));
        bitnet_tui(&[
            "batch",
            "-m",
            path_str(&common::smollm2()),
            "--input",
            path_str(&input),
            "--output",
            path_str(&output),
            "--temp",
            "0",
            "--parallel",
            parallel,
        ]);
        let mut rows: Vec<(u64, String)> = std::fs::read_to_string(&output)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .map(|v| (v["line"].as_u64().unwrap(), v["text"].as_str().unwrap().to_string()))
            .collect();
        rows.sort();
        rows
    };
    let one = answers("1");
    assert_eq!(one.len(), prompts.len());
    assert_eq!(answers("4"), one);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn generated_tiny_model_runs() {
    let dir = temp_dir("gen-tiny");
    let model = dir.join("tiny.gguf");
    bitnet_tui(&["gen-model", "--preset", "tiny", "--seed", "3", "--out", path_str(&model)]);
    let (stdout, _) = bitnet_tui(&["inspect", path_str(&model), "--json"]);
    let j: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["architecture"], "bitnet-b1.58");
    assert_eq!(j["n_tensors"], 24);
    let (stdout, _) = bitnet_tui(&["run", "-m", path_str(&model), "-p", "Hello", "-n", "8", "--json"]);
    let j: Value = serde_json::from_str(&stdout).unwrap();
    assert!(j["stats"]["generated_tokens"].as_u64().unwrap() >= 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn generated_2b4t_model_has_the_real_layout() {
    let tokenizer = std::env::var("LLAMA3_TIKTOKEN").expect(
        "LLAMA3_TIKTOKEN is not set: run the tests through .ci/run, or pip download --no-deps llama-models==0.3.0, \
         unzip it and point LLAMA3_TIKTOKEN at llama_models/llama3/tokenizer.model",
    );
    let dir = temp_dir("gen-2b4t");
    let model = dir.join("2b4t.gguf");
    bitnet_tui(&["gen-model", "--preset", "2b4t", "--tokenizer", &tokenizer, "--out", path_str(&model)]);
    let (stdout, _) = bitnet_tui(&["inspect", path_str(&model), "--json"]);
    let j: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["n_tensors"], 332);
    assert_eq!(j["by_type"]["I2_S"]["count"], 210);
    assert_eq!(j["by_type"]["F32"]["count"], 121);
    assert_eq!(j["by_type"]["F16"]["count"], 1);
    let keys: Vec<&str> = j["metadata"].as_array().unwrap().iter().map(|kv| kv[0].as_str().unwrap()).collect();
    let a = "bitnet-b1.58";
    let spec_order: Vec<String> = [
        "general.architecture",
        "general.name",
        &format!("{a}.vocab_size"),
        &format!("{a}.context_length"),
        &format!("{a}.embedding_length"),
        &format!("{a}.block_count"),
        &format!("{a}.feed_forward_length"),
        &format!("{a}.rope.dimension_count"),
        &format!("{a}.attention.head_count"),
        &format!("{a}.attention.head_count_kv"),
        "tokenizer.ggml.add_bos_token",
        &format!("{a}.attention.layer_norm_rms_epsilon"),
        &format!("{a}.rope.freq_base"),
        "general.file_type",
        "tokenizer.ggml.model",
        "tokenizer.ggml.tokens",
        "tokenizer.ggml.scores",
        "tokenizer.ggml.token_type",
        "tokenizer.ggml.merges",
        "tokenizer.ggml.bos_token_id",
        "tokenizer.ggml.eos_token_id",
        "tokenizer.ggml.padding_token_id",
        "tokenizer.chat_template",
        "general.quantization_version",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(keys, spec_order);
    let size = j["file_bytes"].as_f64().unwrap();
    assert!((size / 1.19e9 - 1.0).abs() < 0.01, "size {size}");
    assert_eq!(j["tokenizer"]["merges"], 280147);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bench_reports_each_test_and_depth() {
    let model = common::bitnet_tiny();
    let (stdout, _) = bitnet_tui(&[
        "bench",
        "-m",
        path_str(&model),
        "-p",
        "8",
        "-n",
        "4",
        "-r",
        "2",
        "-t",
        "1,2",
        "--depth",
        "0,16",
        "--json",
    ]);
    let j: Value = serde_json::from_str(&stdout).unwrap();
    let rows = j["rows"].as_array().unwrap();
    let tests: Vec<(u64, &str)> =
        rows.iter().map(|r| (r["threads"].as_u64().unwrap(), r["test"].as_str().unwrap())).collect();
    assert_eq!(tests, [(1, "pp8"), (1, "tg4"), (1, "tg4@16"), (2, "pp8"), (2, "tg4"), (2, "tg4@16")]);
    for r in rows {
        assert!(r["tok_s"]["mean"].as_f64().unwrap() > 0.0, "{r}");
    }
    assert!(rows.iter().filter(|r| r["roofline"].is_number()).count() == 4);
}

#[test]
fn tokenize_reads_an_argument_a_file_or_standard_input_alike() {
    use std::io::Write;
    let model = common::bitnet_tiny();
    let m = path_str(&model);
    let dir = temp_dir("tokenize");
    let file = dir.join("text.txt");
    std::fs::write(&file, "Hello (world) 12345").unwrap();
    let (from_arg, _) = bitnet_tui(&["tokenize", "-m", m, "Hello (world) 12345"]);
    let (from_file, _) = bitnet_tui(&["tokenize", "-m", m, "-f", path_str(&file)]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_bitnet-tui"))
        .args(["tokenize", "-m", m])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"Hello (world) 12345").unwrap();
    let from_stdin = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    assert!(from_arg.contains("[128000,9906,320,14957,8,220,4513,1774]"), "{from_arg}");
    assert_eq!(from_file, from_arg);
    assert_eq!(from_stdin, from_arg);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Runs the binary with `envs`, feeding `stdin`; returns stdout, failing on a non-zero exit.
fn bitnet_tui_with(args: &[&str], envs: &[(&str, &Path)], stdin: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_bitnet-tui"))
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, *v)))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bitnet-tui {args:?} failed:\n{stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// `run` without -m takes the model the chat used last, and the prompt from an argument or from
/// standard input (where `echo`'s newline is not part of the message); `batch` reads and writes
/// `-`. All give the answer `run -m … -p …` gives.
#[test]
fn run_and_batch_take_stdin_and_default_to_the_most_recent_model() {
    let data = temp_dir("recent-model");
    let smol = common::smollm2();
    bitnet_tui::app::store::Store::new(&data).save_recent_models(&[PathBuf::from("/gone.gguf"), smol.clone()]).unwrap();
    let env = [("BITNET_TUI_DATA", data.as_path())];
    let want = "The answer to this classic math problem is 4.";
    let from_arg = bitnet_tui_with(&["run", "What is 2+2?", "--temp", "0", "--json"], &env, b"");
    let from_stdin = bitnet_tui_with(&["run", "--temp", "0", "--json"], &env, b"What is 2+2?\n");
    for out in [from_arg, from_stdin] {
        let j: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(j["text"], want);
    }
    let lines = b"{\"prompt\": \"What is 2+2?\", \"temperature\": 0}\n\n{\"prompt\": \"Say hi\", \"max_tokens\": 3}\n";
    let out = bitnet_tui_with(&["batch", "-i", "-", "-o", "-"], &env, lines);
    let mut replies: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    replies.sort_by_key(|l| l["line"].as_u64());
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0]["text"], want);
    assert_eq!(replies[1]["line"], 3);
    std::fs::remove_dir_all(data).unwrap();
}

#[test]
fn run_without_a_model_or_a_recent_one_says_what_to_do() {
    let data = temp_dir("no-recent-model");
    let out = Command::new(env!("CARGO_BIN_EXE_bitnet-tui"))
        .args(["run", "Hi"])
        .env("BITNET_TUI_DATA", &data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no --model given and no recent model") && stderr.contains("-m PATH"), "{stderr}");
    std::fs::remove_dir_all(data).unwrap();
}

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef bitnet-tui"), ("fish", "complete -c bitnet-tui")]
    {
        let (stdout, _) = bitnet_tui(&["completions", shell]);
        assert!(stdout.contains(marker), "{shell}: {}", &stdout[..stdout.len().min(300)]);
        for subcommand in ["run", "serve", "download", "completions"] {
            assert!(stdout.contains(subcommand), "{shell} completes {subcommand}");
        }
    }
}

/// `models` looks where the chat's picker looks — `BITNET_TUI_MODELS_DIR` (or the config's
/// models_dir) and the recent list — and lists a file reached from several of them once.
#[test]
fn models_lists_the_models_dir_and_recent_models_once_each() {
    let home = temp_dir("models-home");
    let data = home.join("data");
    let folder = home.join("models");
    std::fs::create_dir_all(&folder).unwrap();
    let (in_folder, elsewhere) = (folder.join("in-folder.gguf"), home.join("elsewhere.gguf"));
    for out in [&in_folder, &elsewhere] {
        let shape = ["--layers", "1", "--hidden", "128", "--ffn", "128", "--heads", "1", "--kv-heads", "1"];
        bitnet_tui(&[&["gen-model", "--out", path_str(out)][..], &shape[..]].concat());
    }
    let recent = [in_folder.clone(), elsewhere.clone(), home.join("gone.gguf")];
    bitnet_tui::app::store::Store::new(&data).save_recent_models(&recent).unwrap();
    let env = [
        ("HOME", home.as_path()),
        ("HF_HUB_CACHE", &home.join("hub")),
        ("BITNET_TUI_DATA", data.as_path()),
        ("BITNET_TUI_MODELS_DIR", folder.as_path()),
    ];
    let out = bitnet_tui_with(&["models", "--json"], &env, b"");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    let mut listed: Vec<&str> = rows.iter().map(|r| r["path"].as_str().unwrap()).collect();
    listed.sort();
    assert_eq!(listed, [path_str(&elsewhere), path_str(&in_folder)], "{out}");
    std::fs::remove_dir_all(home).unwrap();
}
