//! `convert` against the GGUF the generator writes from the same ternary weights.
//!
//! A synthetic GGUF (`gen-model`'s writer) is turned into a Hugging Face checkpoint in each of the
//! four formats found on the hub by `hf_checkpoint` (test code written from the family doc, not
//! from the converter). Converting it back must give the generator's tensors byte for byte, with
//! each scale what the format can hold, and the same logits.

mod common;
mod hf_checkpoint;
mod hub_support;

use std::collections::HashMap;
use std::path::Path;

use bitnet_tui::convert::{convert, ConvertOptions, ProjectionType};
use bitnet_tui::engine::model::{LogitsWanted, Model, RunState};
use bitnet_tui::engine::protocol::LmHead;
use bitnet_tui::engine::sampler::argmax;
use bitnet_tui::engine::synthetic::BitnetShape;
use bitnet_tui::engine::vocab::Vocab;
use bitnet_tui::gguf::{GgufFile, GgufWriter, TensorSpec};
use hf_checkpoint::{generated, write_checkpoint, Format, B158, BITNET, LLAMA};
use hub_support::hub_server::{FakeHub, HubConfig};
use hub_support::put;
use serde_json::json;

/// `gguf` with each I2_S scale replaced by `scales[name]`: what a conversion must produce.
fn with_scales(gguf: &Path, scales: &HashMap<String, f32>, out: &Path) {
    let file = GgufFile::open(gguf).unwrap();
    let mut w = GgufWriter::new();
    for (key, value) in file.metadata() {
        w.set(key.clone(), value.clone());
    }
    for t in file.tensors() {
        w.add_tensor(TensorSpec::new(t.name.clone(), t.ty, &t.dims));
    }
    let mut bytes = Vec::new();
    w.write(&mut bytes, |i, spec, out| {
        let info = &file.tensors()[i];
        let mut data = file.tensor_data(info).to_vec();
        if let Some(scale) = scales.get(&spec.name) {
            let at = info.n_elements() as usize / 4;
            data[at..at + 4].copy_from_slice(&scale.to_le_bytes());
        }
        out.write_all(&data)
    })
    .unwrap();
    std::fs::write(out, bytes).unwrap();
}

/// A Falcon3-style checkpoint (packed BitLinear, llama) of the generator's tiny model, in `dir/hf`.
fn falcon_checkpoint(dir: &Path) -> std::path::PathBuf {
    let source = generated(dir, &LLAMA);
    let hf = dir.join("hf");
    write_checkpoint(&source, &hf, &LLAMA, Format::PackedDivides, &Vocab::small_byte_level());
    hf
}

fn options(ty: ProjectionType) -> ConvertOptions {
    ConvertOptions { projection_type: ty, name: Some("converted".into()), cancel: None }
}

/// Logits at every position of a fixed prompt, then 16 greedy tokens.
fn run_model(path: &Path) -> (Vec<f32>, Vec<u32>) {
    let mut model = Model::load(path).unwrap();
    model.set_lm_head(LmHead::F16);
    let prompt = [1u32, 72, 101, 108, 108, 111, 44, 32, 119, 111];
    let mut kv = model.new_kv_cache(64);
    let mut st = RunState::default();
    let logits = model.forward(&mut st, &mut kv, &prompt, 0, LogitsWanted::Last).to_vec();
    let mut next = argmax(&logits);
    let mut greedy = vec![next];
    for s in 0..15 {
        next = argmax(model.forward(&mut st, &mut kv, &[next], prompt.len() + s, LogitsWanted::Last));
        greedy.push(next);
    }
    (logits, greedy)
}

fn assert_same_tensors(got: &Path, want: &Path) {
    let (got, want) = (GgufFile::open(got).unwrap(), GgufFile::open(want).unwrap());
    assert_eq!(got.tensors().len(), want.tensors().len());
    for (g, w) in got.tensors().iter().zip(want.tensors()) {
        assert_eq!((&g.name, g.ty, &g.dims), (&w.name, w.ty, &w.dims));
        assert!(got.tensor_data(g) == want.tensor_data(w), "{}: bytes differ", g.name);
    }
    for key in ["tokenizer.ggml.tokens", "tokenizer.ggml.merges"] {
        let (g, w) = (got.str_array(key).unwrap(), want.str_array(key).unwrap());
        assert!(g.iter().eq(w.iter()), "{key}");
    }
    assert_eq!(
        got.opt_i32_array("tokenizer.ggml.token_type").unwrap(),
        want.opt_i32_array("tokenizer.ggml.token_type").unwrap()
    );
    for key in ["tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"] {
        assert_eq!(got.opt_u32(key).unwrap(), want.opt_u32(key).unwrap(), "{key}");
    }
    assert_eq!(got.opt_str("tokenizer.chat_template").unwrap(), want.opt_str("tokenizer.chat_template").unwrap());
    let arch = want.arch().unwrap();
    assert_eq!(got.arch().unwrap(), arch);
    for key in ["rope.freq_base", "attention.layer_norm_rms_epsilon"] {
        assert_eq!(got.f32(&format!("{arch}.{key}")).unwrap(), want.f32(&format!("{arch}.{key}")).unwrap(), "{key}");
    }
}

fn round_trip(shape: &BitnetShape, format: Format) {
    let dir = tempfile::tempdir().unwrap();
    let vocab = Vocab::small_byte_level();
    let source = generated(dir.path(), shape);
    let hf = dir.path().join("hf");
    let written = write_checkpoint(&source, &hf, shape, format, &vocab);
    let want = dir.path().join("want.gguf");
    with_scales(&source, &written.scales, &want);
    let got = dir.path().join("got.gguf");
    let report = convert(&hf, &got, &options(ProjectionType::I2S), |_, _, _| {}).unwrap();
    assert!(report.ignored.is_empty(), "{:?}", report.ignored);
    assert_same_tensors(&got, &want);
    let (got_logits, got_greedy) = run_model(&got);
    let (want_logits, want_greedy) = run_model(&want);
    assert_eq!(got_greedy, want_greedy);
    assert!(got_logits.iter().zip(&want_logits).all(|(a, b)| a.to_bits() == b.to_bits()), "logits differ");
}

#[test]
fn packed_autobitlinear_2b4t_converts_to_the_generators_tensors() {
    round_trip(&B158, Format::PackedMultiplies);
}

#[test]
fn latent_2b4t_weights_ternarise_to_the_generators_codes() {
    round_trip(&B158, Format::Latent);
}

#[test]
fn latent_1bitllm_weights_convert_to_the_bitnet_architecture() {
    round_trip(&BITNET, Format::Latent);
}

#[test]
fn fp16_latent_weights_keep_an_fp16_scale_as_bitnet_cpp_does() {
    round_trip(&BITNET, Format::LatentF16);
}

#[test]
fn packed_bitlinear_falcon3_converts_with_the_llama_permutation() {
    round_trip(&LLAMA, Format::PackedDivides);
}

#[test]
fn dequantised_falcon_e_weights_convert_to_the_generators_tensors() {
    round_trip(&LLAMA, Format::Dequantised);
}

#[test]
fn latent_llama_weights_convert_when_the_config_says_bitnet() {
    round_trip(&LLAMA, Format::Latent);
}

#[test]
fn converting_twice_gives_the_same_bytes_and_every_type_the_same_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let hf = falcon_checkpoint(dir.path());
    let (a, b) = (dir.path().join("a.gguf"), dir.path().join("b.gguf"));
    convert(&hf, &a, &options(ProjectionType::I2S), |_, _, _| {}).unwrap();
    convert(&hf, &b, &options(ProjectionType::I2S), |_, _, _| {}).unwrap();
    assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(), "two conversions differ");
    let (_, i2s_greedy) = run_model(&a);
    for ty in [ProjectionType::Tq2_0, ProjectionType::Tq1_0, ProjectionType::F16] {
        let path = dir.path().join(format!("{ty:?}.gguf"));
        convert(&hf, &path, &options(ty), |_, _, _| {}).unwrap();
        let file = GgufFile::open(&path).unwrap();
        assert_eq!(file.tensor("blk.0.attn_q.weight").unwrap().ty, ty.tensor_type());
        let greedy = run_model(&path).1;
        if ty == ProjectionType::F16 {
            // F16 projections multiply float activations, without the int8 activation codes the
            // ternary types use, so the two runs drift apart after a while (at step 13 here).
            assert_eq!(greedy[..8], i2s_greedy[..8], "{ty:?}");
        } else {
            assert_eq!(greedy, i2s_greedy, "{ty:?}");
        }
    }
}

#[test]
fn bad_checkpoints_get_errors_that_name_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let hf = falcon_checkpoint(dir.path());
    let out = dir.path().join("out.gguf");
    let config_path = hf.join("config.json");
    let good: serde_json::Value = serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
    let fails_with = |config: serde_json::Value, needles: &[&str]| {
        std::fs::write(&config_path, config.to_string()).unwrap();
        let err = format!("{:#}", convert(&hf, &out, &options(ProjectionType::I2S), |_, _, _| {}).unwrap_err());
        for needle in needles {
            assert!(err.contains(needle), "{needle:?} not in {err}");
        }
        assert!(!out.exists(), "a failed conversion left {}", out.display());
    };
    let mut gpt2 = good.clone();
    gpt2["architectures"] = json!(["GPT2LMHeadModel"]);
    fails_with(gpt2, &["config.json", "architectures[0]", "GPT2LMHeadModel"]);
    let mut deeper = good.clone();
    deeper["num_hidden_layers"] = json!(3);
    fails_with(deeper, &["model.safetensors", "model.layers.2.input_layernorm.weight"]);
    let mut wider = good.clone();
    wider["intermediate_size"] = json!(1024);
    fails_with(wider, &["model.layers.0.mlp.gate_proj.weight", "(256, 256)"]);
    let mut mistyped = good.clone();
    mistyped["num_attention_heads"] = json!("four");
    fails_with(mistyped, &["config.json", "num_attention_heads"]);
    let mut uneven = good.clone();
    uneven["head_dim"] = json!(null);
    uneven["hidden_size"] = json!(250);
    fails_with(uneven, &["config.json", "multiple of num_attention_heads"]);
    std::fs::write(&config_path, good.to_string()).unwrap();

    // Full-precision weights without a BitNet quantization_config: an ordinary model, refused.
    let plain = dir.path().join("plain");
    write_checkpoint(&dir.path().join("generated.gguf"), &plain, &LLAMA, Format::Latent, &Vocab::small_byte_level());
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(plain.join("config.json")).unwrap()).unwrap();
    config.as_object_mut().unwrap().remove("quantization_config");
    std::fs::write(plain.join("config.json"), config.to_string()).unwrap();
    let err = format!("{:#}", convert(&plain, &out, &options(ProjectionType::I2S), |_, _, _| {}).unwrap_err());
    assert!(err.contains("q_proj") && err.contains("not a BitNet checkpoint"), "{err}");

    std::fs::write(hf.join("tokenizer.json"), r#"{"model": {"type": "Unigram"}}"#).unwrap();
    let err = format!("{:#}", convert(&hf, &out, &options(ProjectionType::I2S), |_, _, _| {}).unwrap_err());
    assert!(err.contains("tokenizer.json") && err.contains("Unigram"), "{err}");
}

/// `bitnet-tui convert owner/repo` as a user runs it: the checkpoint comes from the (local) hub
/// into the cache, then converts to the same bytes as the folder does.
#[test]
fn a_repo_name_downloads_the_checkpoint_then_converts_it() {
    let dir = tempfile::tempdir().unwrap();
    let hf = falcon_checkpoint(dir.path());
    let local = dir.path().join("local.gguf");
    convert(&hf, &local, &options(ProjectionType::I2S), |_, _, _| {}).unwrap();

    let served = dir.path().join("served");
    for entry in std::fs::read_dir(&hf).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        put(&served, "tiiuae/Falcon3-Tiny-1.58bit", &name, &std::fs::read(&path).unwrap());
    }
    let hub = FakeHub::start(HubConfig::new(&served)).unwrap();
    let home = dir.path().join("home");
    let out = dir.path().join("from-hub.gguf");
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_bitnet-tui"));
        for var in ["HF_HOME", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "XDG_CACHE_HOME", "HUGGINGFACE_HUB_CACHE"]
        {
            cmd.env_remove(var);
        }
        cmd.env("HOME", &home).env("HF_HUB_CACHE", home.join("hub")).env("HF_ENDPOINT", hub.url()).args(args);
        cmd.output().unwrap()
    };
    let args = ["convert", "tiiuae/Falcon3-Tiny-1.58bit", "--out", out.to_str().unwrap(), "--name", "converted"];
    let output = run(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("architecture llama") && stderr.contains("packed ternary"), "{stderr}");
    assert!(std::fs::read(&out).unwrap() == std::fs::read(&local).unwrap(), "the hub conversion differs");
    let snapshot = home
        .join("hub/models--tiiuae--Falcon3-Tiny-1.58bit/snapshots")
        .join(FakeHub::main_commit("tiiuae/Falcon3-Tiny-1.58bit"));
    assert!(snapshot.join("model.safetensors").is_file() && snapshot.join("tokenizer.json").is_file());

    let missing = run(&["convert", "tiiuae/No-Such-Model", "--out", out.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("tiiuae/No-Such-Model"));
}

/// The chat with three models in one conversation, switched with Ctrl+N in a real terminal:
/// SmolLM2, the BitNet fixture, and a synthetic Falcon3-style checkpoint converted here.
#[test]
fn ctrl_n_switches_between_smollm2_the_fixture_and_a_converted_falcon3_in_one_chat() {
    let dir = tempfile::tempdir().unwrap();
    let hf = falcon_checkpoint(dir.path());
    let converted = dir.path().join("falcon3-tiny.gguf");
    let options = ConvertOptions {
        projection_type: ProjectionType::I2S,
        name: Some("falcon3-tiny-converted".into()),
        cancel: None,
    };
    convert(&hf, &converted, &options, |_, _, _| {}).unwrap();

    let data = dir.path().join("data");
    let cmd = format!(
        "env XDG_CONFIG_HOME={0}/config XDG_DATA_HOME={1} XDG_STATE_HOME={0}/state HF_HUB_OFFLINE=1 {2} \
         --model {3} --model {4} --model {5} --temp 0 -n 12; echo EXITED:$?; sleep 60",
        dir.path().display(),
        data.display(),
        env!("CARGO_BIN_EXE_bitnet-tui"),
        common::smollm2().display(),
        common::bitnet_tiny().display(),
        converted.display(),
    );
    let tmux = common::tmux::Tmux::start("family", &cmd);
    let minute = std::time::Duration::from_secs(60);
    tmux.wait_for("SmolLM2 to load", minute, |s| s.contains("Loaded Smollm2"));
    let turns = [
        ("What is 2+2?", "Loaded Smollm2"),
        ("Hello", "Loaded bitnet2b"),
        ("Bonjour", "Loaded falcon3-tiny-converted"),
    ];
    for (i, (prompt, loaded)) in turns.iter().enumerate() {
        if i > 0 {
            tmux.keys(&["C-n"]);
            let screen = tmux.wait_for(loaded, minute, |s| s.contains(loaded));
            assert!(screen.lines().next().unwrap_or_default().contains("ready"), "{screen}");
        }
        tmux.text(prompt);
        tmux.keys(&["Enter"]);
        tmux.wait_for("the reply", minute, |s| s.matches(" TTFT ").count() > i);
    }
    let screen = tmux.screen();
    assert!(screen.contains("llama") && screen.contains("I2_S"), "the converted model's load notice:\n{screen}");
    tmux.keys(&["C-q"]);
    let screen = tmux.wait_for("the app to exit", minute, |s| s.contains("EXITED:"));
    assert!(screen.contains("EXITED:0"), "{screen}");

    let conversations = data.join("bitnet-tui").join("conversations");
    let files: Vec<_> = std::fs::read_dir(conversations).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    let messages = saved["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 6, "{saved}");
    let prompts: Vec<&str> = messages.iter().step_by(2).map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(prompts, ["What is 2+2?", "Hello", "Bonjour"]);
    let replies = serde_json::to_string(&messages[5]).unwrap();
    assert!(replies.contains("falcon3-tiny"), "the last reply does not name its model: {replies}");
}

/// A cancel stops the conversion between tensors and leaves no file.
#[test]
fn a_cancelled_conversion_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hf = falcon_checkpoint(dir.path());
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let options = ConvertOptions { cancel: Some(cancel.clone()), ..options(ProjectionType::I2S) };
    let out = dir.path().join("out.gguf");
    let mut seen = 0;
    let result = convert(&hf, &out, &options, |done, _, _| {
        seen = done;
        if done == 5 {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let err = format!("{:#}", result.unwrap_err());
    assert!(err.contains("cancelled") && err.contains("out.gguf"), "{err}");
    assert_eq!(seen, 5, "it stopped at the next tensor");
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(leftovers.iter().all(|n| !n.to_string_lossy().contains("out.gguf")), "{leftovers:?}");
}

/// A sharded checkpoint (`model.safetensors.index.json` and two shards) converts to the same bytes
/// as the single file; a tensor in two shards, or an index naming a file outside the folder, is
/// refused.
#[test]
fn sharded_checkpoints_convert_like_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let hf = falcon_checkpoint(dir.path());
    let single = dir.path().join("single.gguf");
    convert(&hf, &single, &options(ProjectionType::I2S), |_, _, _| {}).unwrap();

    let whole = std::fs::read(hf.join("model.safetensors")).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&whole).unwrap();
    let mut names: Vec<String> = tensors.names().into_iter().map(str::to_owned).collect();
    names.sort();
    let (first, second) = names.split_at(names.len() / 2);
    let mut weight_map = serde_json::Map::new();
    for (i, part) in [first, second].iter().enumerate() {
        let file = format!("model-0000{}-of-00002.safetensors", i + 1);
        let views: Vec<(String, safetensors::tensor::TensorView)> =
            part.iter().map(|n| (n.clone(), tensors.tensor(n).unwrap())).collect();
        safetensors::serialize_to_file(views, None, &hf.join(&file)).unwrap();
        for n in part.iter() {
            weight_map.insert(n.clone(), json!(file));
        }
    }
    std::fs::remove_file(hf.join("model.safetensors")).unwrap();
    let index = hf.join("model.safetensors.index.json");
    std::fs::write(&index, json!({"metadata": {}, "weight_map": weight_map}).to_string()).unwrap();
    let sharded = dir.path().join("sharded.gguf");
    convert(&hf, &sharded, &options(ProjectionType::I2S), |_, _, _| {}).unwrap();
    assert!(std::fs::read(&single).unwrap() == std::fs::read(&sharded).unwrap(), "sharding changed the output");

    // The same tensor in both shards.
    let twice = hf.join("model-00002-of-00002.safetensors");
    let views: Vec<(String, safetensors::tensor::TensorView)> =
        second.iter().chain(&first[..1]).map(|n| (n.clone(), tensors.tensor(n).unwrap())).collect();
    safetensors::serialize_to_file(views, None, &twice).unwrap();
    let err = format!("{:#}", convert(&hf, &sharded, &options(ProjectionType::I2S), |_, _, _| {}).unwrap_err());
    assert!(err.contains(&first[0]) && err.contains("also in"), "{err}");
    // An index that points outside the folder.
    std::fs::write(&index, json!({"weight_map": {"a": "../elsewhere.safetensors"}}).to_string()).unwrap();
    let err = format!("{:#}", convert(&hf, &sharded, &options(ProjectionType::I2S), |_, _, _| {}).unwrap_err());
    assert!(err.contains("model.safetensors.index.json") && err.contains("elsewhere"), "{err}");
}
