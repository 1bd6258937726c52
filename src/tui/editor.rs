//! `$VISUAL` / `$EDITOR` for long input (as ollama's Ctrl+G): the text goes to a private
//! temporary file, the editor runs on the terminal, and the file's text comes back.

use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The editor's command words: `$VISUAL`, else `$EDITOR`, else `vi`, split at whitespace so
/// that "code --wait" works.
pub fn command(env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let words = |v: String| v.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    ["VISUAL", "EDITOR"]
        .into_iter()
        .filter_map(env)
        .map(words)
        .find(|w| !w.is_empty())
        .unwrap_or_else(|| vec!["vi".into()])
}

/// Runs `command` on a new temporary file holding `text` and returns what the file holds once
/// the editor exits successfully; the file is removed either way.
pub fn edit(command: &[String], text: &str) -> io::Result<String> {
    let (program, args) = command.split_first().ok_or_else(|| io::Error::other("no editor command"))?;
    let path = temp_path();
    write_private(&path, text)?;
    let shown = command.join(" ");
    let result = match Command::new(program).args(args).arg(&path).status() {
        Ok(status) if status.success() => {
            fs::read_to_string(&path).map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", path.display())))
        }
        Ok(status) => Err(io::Error::other(format!("`{shown}` exited with {status}; the text is unchanged"))),
        Err(e) => Err(io::Error::new(e.kind(), format!("running `{shown}` (set $VISUAL or $EDITOR): {e}"))),
    };
    let _ = fs::remove_file(&path);
    result
}

/// A file name no other edit of this or another process uses.
fn temp_path() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("bitnet-tui-{}-{n}.md", std::process::id()))
}

/// Creates `path` readable by its owner only (a draft may be private) and writes `text`.
fn write_private(path: &PathBuf, text: &str) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file =
        options.open(path).map_err(|e| io::Error::new(e.kind(), format!("creating {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visual_then_editor_then_vi() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        assert_eq!(command(&env(&[("VISUAL", "code --wait"), ("EDITOR", "nano")])), ["code", "--wait"]);
        assert_eq!(command(&env(&[("VISUAL", " "), ("EDITOR", "nano")])), ["nano"]);
        assert_eq!(command(&env(&[])), ["vi"]);
    }

    #[cfg(unix)]
    #[test]
    fn returns_what_the_editor_saved_and_removes_the_file() {
        // The script gets the record file ($1), then the draft file ($2), and notes the latter.
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("record");
        let script = r#"test "$(cat "$2")" = draft && printf 'edited\n' > "$2" && printf '%s' "$2" > "$1""#;
        let command: Vec<String> =
            ["sh", "-c", script, "sh"].map(String::from).into_iter().chain([record.display().to_string()]).collect();
        assert_eq!(edit(&command, "draft").unwrap(), "edited\n");
        let draft_file = std::fs::read_to_string(&record).unwrap();
        assert!(!std::path::Path::new(&draft_file).exists(), "{draft_file} is left behind");
        let failing: Vec<String> = ["sh", "-c", "exit 3", "sh"].map(String::from).to_vec();
        let e = edit(&failing, "draft").unwrap_err().to_string();
        assert!(e.contains("exit status: 3") && e.contains("unchanged"), "{e}");
        let missing = vec!["/nonexistent/editor".to_string()];
        assert!(edit(&missing, "x").unwrap_err().to_string().contains("/nonexistent/editor"));
    }
}
