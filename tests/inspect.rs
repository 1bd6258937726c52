//! `inspect` on the bitnet.cpp fixture and on SmolLM2: the facts each file must report.

mod common;

use std::process::Command;

use bitnet_tui::gguf::{GgufFile, ModelSummary};
use bitnet_tui::kernels::dequant::dequantize_tensor_row;

fn inspect_json(path: &std::path::Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_bitnet-tui")).arg("inspect").arg(path).arg("--json").output().unwrap();
    assert!(out.status.success(), "inspect failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn fixture_summary() {
    let j = inspect_json(&common::bitnet_tiny());
    assert_eq!(j["architecture"], "bitnet-b1.58");
    let hp = &j["hparams"];
    assert_eq!((hp["n_layers"].as_u64(), hp["hidden"].as_u64(), hp["ffn"].as_u64()), (Some(2), Some(256), Some(768)));
    assert_eq!((hp["heads"].as_u64(), hp["kv_heads"].as_u64()), (Some(2), Some(1)));
    assert_eq!(j["vocab_size"], 128256);
    assert_eq!(j["n_tensors"], 24);
    assert_eq!(j["by_type"]["I2_S"]["count"], 14);
    assert_eq!(j["by_type"]["F32"]["count"], 9);
    assert_eq!(j["by_type"]["F16"]["count"], 1);
    let tk = &j["tokenizer"];
    assert_eq!(
        (tk["bos"].as_u64(), tk["eos"].as_u64(), tk["eot"].as_u64()),
        (Some(128000), Some(128001), Some(128009))
    );
}

#[test]
fn fixture_i2s_check_values() {
    // ../shared/fixtures/README.md, "I2_S check values".
    let file = GgufFile::open(common::bitnet_tiny()).unwrap();
    let t = file.tensor("blk.0.attn_q.weight").unwrap();
    assert_eq!(t.offset, 74002240);
    let data = file.tensor_data(t);
    assert_eq!(&data[..8], &[0x28, 0x54, 0xaa, 0x06, 0x59, 0xa4, 0x8a, 0x91]);
    let scale = bitnet_tui::kernels::i2_s::tensor_scale(data, 256 * 256);
    assert_eq!(scale, 0.067486_5_f32);
    let cols = [0, 1, 2, 31, 32, 64, 96, 127, 128, 255];
    let expected: [(usize, [i32; 10]); 3] = [
        (0, [-1, 0, 1, 1, 1, 1, -1, 0, -1, 0]),
        (1, [0, 0, -1, 0, 0, -1, 1, 0, 0, 0]),
        (255, [-1, 0, 0, -1, 1, -1, 1, -1, 0, 1]),
    ];
    let mut row = vec![0f32; 256];
    for (r, want) in expected {
        dequantize_tensor_row(t.ty, data, 256, 256, r, &mut row);
        let got: Vec<f32> = cols.iter().map(|&c| row[c]).collect();
        let want: Vec<f32> = want.iter().map(|&v| v as f32 * scale).collect();
        assert_eq!(got, want, "row {r}");
    }
}

#[test]
fn smollm2_summary() {
    let j = inspect_json(&common::smollm2());
    assert_eq!(j["architecture"], "llama");
    assert_eq!(j["hparams"]["n_layers"], 30);
    assert_eq!(j["hparams"]["hidden"], 576);
    assert_eq!(j["n_tensors"], 272);
    assert_eq!(j["by_type"]["Q4_1"]["count"], 210);
    assert_eq!(j["by_type"]["F32"]["count"], 61);
    assert_eq!(j["by_type"]["Q8_0"]["count"], 1);
    assert_eq!(j["vocab_size"], 49152);
    let template = j["tokenizer"]["chat_template"].as_str().unwrap();
    assert!(template.contains("<|im_start|>"), "{template}");
    // The text output shows the template too.
    let out = Command::new(env!("CARGO_BIN_EXE_bitnet-tui")).arg("inspect").arg(common::smollm2()).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("<|im_start|>assistant"));
}

#[test]
fn summary_names_quant_and_keeps_every_key() {
    let file = GgufFile::open(common::bitnet_tiny()).unwrap();
    let s = ModelSummary::of(&file).unwrap();
    assert_eq!(s.quant, "I2_S");
    assert_eq!(s.metadata.len(), 24);
}
