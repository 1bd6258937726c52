//! A Hugging Face checkpoint's tensors: one `model.safetensors`, or the shards that
//! `model.safetensors.index.json` lists. Each shard is mapped, never read whole; after a tensor
//! is converted its pages are released, so the resident size stays near one tensor.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use memmap2::Mmap;
use safetensors::tensor::{Dtype, Metadata, TensorInfo};
use safetensors::SafeTensors;
use serde::Deserialize;

use crate::kernels::float::{dequantize_row_bf16, dequantize_row_f16, dequantize_row_f32};
use crate::kernels::mmap::{map_readonly, release_range};

pub const INDEX_FILE: &str = "model.safetensors.index.json";
pub const SINGLE_FILE: &str = "model.safetensors";

struct Shard {
    path: PathBuf,
    map: Mmap,
    /// Where the data section starts (after the 8-byte length and the JSON header).
    data_start: usize,
    metadata: Metadata,
}

/// One tensor of the checkpoint, borrowed from its shard's map.
pub struct TensorRef<'a> {
    pub name: &'a str,
    /// The shard it is in, for error messages.
    pub file: &'a Path,
    pub dtype: Dtype,
    /// Row-major, outermost first (PyTorch order).
    pub shape: &'a [usize],
    pub bytes: &'a [u8],
}

impl TensorRef<'_> {
    /// `name (file)`, for messages.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.file.display())
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_float(&self) -> bool {
        matches!(self.dtype, Dtype::F32 | Dtype::F16 | Dtype::BF16)
    }

    /// Elements `start..start + out.len()` as f32; the tensor must be F32, F16 or BF16.
    pub fn floats_at(&self, start: usize, out: &mut [f32]) -> Result<()> {
        let size = match self.dtype {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::BF16 => 2,
            other => bail!("{}: dtype {other:?} where a float tensor was expected", self.label()),
        };
        let bytes = &self.bytes[start * size..(start + out.len()) * size];
        match self.dtype {
            Dtype::F32 => dequantize_row_f32(bytes, out),
            Dtype::F16 => dequantize_row_f16(bytes, out),
            _ => dequantize_row_bf16(bytes, out),
        }
        Ok(())
    }

    /// The whole tensor as f32.
    pub fn floats(&self) -> Result<Vec<f32>> {
        let mut out = vec![0f32; self.len()];
        self.floats_at(0, &mut out)?;
        Ok(out)
    }
}

#[derive(Deserialize)]
struct Index {
    weight_map: BTreeMap<String, String>,
}

/// Every tensor of a checkpoint folder.
pub struct Checkpoint {
    shards: Vec<Shard>,
    /// Tensor name → shard.
    by_name: HashMap<String, usize>,
}

impl Checkpoint {
    /// Opens `dir`'s safetensors: the shards its index lists, else `model.safetensors`, else
    /// every `*.safetensors` file in it.
    pub fn open(dir: &Path) -> Result<Self> {
        let files = shard_files(dir)?;
        let mut shards = Vec::with_capacity(files.len());
        let mut by_name = HashMap::new();
        for path in files {
            let shard = open_shard(&path)?;
            for name in shard.metadata.offset_keys() {
                if let Some(&earlier) = by_name.get(&name) {
                    let first: &Shard = &shards[earlier];
                    bail!("{}: tensor {name} is also in {}", path.display(), first.path.display());
                }
                by_name.insert(name, shards.len());
            }
            shards.push(shard);
        }
        Ok(Self { shards, by_name })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Every tensor name, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The tensor `name`, or an error naming the folder.
    pub fn tensor(&self, name: &str) -> Result<TensorRef<'_>> {
        let Some((name, &i)) = self.by_name.get_key_value(name) else {
            let place = match self.shards.as_slice() {
                [one] => one.path.display().to_string(),
                many => {
                    let folder = many.first().and_then(|s| s.path.parent()).map(|p| p.display().to_string());
                    format!("{} ({} shards)", folder.unwrap_or_default(), many.len())
                }
            };
            bail!("{place}: the checkpoint has no tensor {name}");
        };
        let shard = &self.shards[i];
        let info: &TensorInfo = shard.metadata.info(name).expect("indexed names are in their shard");
        let (start, end) = info.data_offsets;
        Ok(TensorRef {
            name: name.as_str(),
            file: &shard.path,
            dtype: info.dtype,
            shape: &info.shape,
            bytes: &shard.map[shard.data_start + start..shard.data_start + end],
        })
    }

    /// Lets the pages of tensor `name` go from our resident set (they stay in the page cache).
    pub fn release(&self, name: &str) {
        if let Some(&i) = self.by_name.get(name) {
            let shard = &self.shards[i];
            if let Some(info) = shard.metadata.info(name) {
                let (start, end) = info.data_offsets;
                // Best effort: failing to drop pages only costs memory.
                let _ = release_range(&shard.map, shard.data_start + start, end - start);
            }
        }
    }
}

fn shard_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let index = dir.join(INDEX_FILE);
    if index.is_file() {
        return Ok(read_index(&index)?.into_iter().map(|f| dir.join(f)).collect());
    }
    let single = dir.join(SINGLE_FILE);
    if single.is_file() {
        return Ok(vec![single]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    if files.is_empty() {
        bail!("{}: no {SINGLE_FILE}, {INDEX_FILE} or other *.safetensors file", dir.display());
    }
    files.sort();
    Ok(files)
}

/// The shard files `model.safetensors.index.json` names, sorted, each once.
pub fn read_index(index: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(index).with_context(|| format!("reading {}", index.display()))?;
    let parsed: Index = serde_json::from_str(&text)
        .with_context(|| format!("{}: weight_map is missing or not a map of names to files", index.display()))?;
    let mut files: Vec<String> = parsed.weight_map.into_values().collect();
    files.sort_unstable();
    files.dedup();
    if let Some(bad) = files.iter().find(|f| f.contains('/') || f.contains('\\') || f.starts_with('.')) {
        anyhow::bail!("{}: weight_map names the file {bad:?}, which is not a file beside it", index.display());
    }
    Ok(files)
}

fn open_shard(path: &Path) -> Result<Shard> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let map = map_readonly(&file).with_context(|| format!("mapping {}", path.display()))?;
    let (header_len, metadata) = SafeTensors::read_metadata(&map)
        .map_err(|e| anyhow::anyhow!("{}: not a valid safetensors file: {e}", path.display()))?;
    Ok(Shard { path: path.to_owned(), map, data_start: 8 + header_len, metadata })
}
