//! Writing a file so that readers (and a crash or kill -9 at any moment) see either the old file
//! or the whole new one, never a torn one.

use std::fs::{self, File};
use std::io;
use std::path::Path;

use anyhow::Context;

/// Writes through `fill` into a temporary file beside `path` (creating the folder), syncs it,
/// renames it over `path` and syncs the folder. On error the temporary file is removed and
/// `path` is untouched.
pub fn write_atomically(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().with_context(|| format!("{}: not a file path", path.display()))?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let write = || -> io::Result<()> {
        let mut file = File::create(&tmp)?;
        fill(&mut file)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename itself is durable only once the folder is synced (not possible everywhere).
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        anyhow::Error::from(e).context(format!("writing {}", path.display()))
    })
}
