//! Settings of the chat screen, layered: command line > environment > config.toml > defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::app::keymap::Keymap;
use crate::app::persona::Persona;
use crate::app::sliders::Knobs;
use crate::app::theme::{ColorOverrides, ThemeChoice, ThemeName};
use crate::cli::args::{LoadArgs, SamplingArgs};
use crate::engine::draft::DraftMode;
use crate::engine::protocol::{ContextPolicy, LoadOptions};
use crate::engine::sampler::SamplingParams;

/// The shipped example config, printed by `bitnet-tui config init`.
pub const EXAMPLE_CONFIG: &str = include_str!("../../config.example.toml");

/// Environment variables, named once.
pub mod env {
    pub const CONFIG: &str = "BITNET_TUI_CONFIG";
    pub const DATA: &str = "BITNET_TUI_DATA";
    pub const MODELS_DIR: &str = "BITNET_TUI_MODELS_DIR";
    pub const SYSTEM_PROMPT: &str = "BITNET_TUI_SYSTEM_PROMPT";
    pub const MAX_TOKENS: &str = "BITNET_TUI_MAX_TOKENS";
    pub const THREADS: &str = "BITNET_TUI_THREADS";
    pub const CTX: &str = "BITNET_TUI_CTX";
    pub const NO_COLOR: &str = "NO_COLOR";
}

const DEFAULT_MAX_TOKENS: usize = 1024;
const DEFAULT_FRAME_RATE: u32 = 30;
/// Lines longer than this are hard to read; a wider terminal centres the conversation.
const DEFAULT_MAX_WIDTH: u16 = 120;

/// `config.toml` as written; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    models: Vec<PathBuf>,
    models_dir: Option<PathBuf>,
    system_prompt: Option<String>,
    max_tokens: Option<usize>,
    threads: Option<usize>,
    ctx: Option<usize>,
    context_policy: Option<ContextPolicy>,
    draft: Option<DraftMode>,
    #[serde(default)]
    sampling: SamplingArgs,
    #[serde(default)]
    ui: FileUi,
    keys: Option<toml::Table>,
    #[serde(default)]
    personas: BTreeMap<String, FilePersona>,
    #[serde(default)]
    theme: ColorOverrides,
}

/// `[personas.NAME]`: a system prompt with optional sampling settings on top of the starting ones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePersona {
    system_prompt: String,
    max_tokens: Option<usize>,
    #[serde(default)]
    sampling: SamplingArgs,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileUi {
    show_stats: Option<bool>,
    mouse: Option<bool>,
    frame_rate: Option<u32>,
    theme: Option<ThemeName>,
    max_width: Option<u16>,
}

/// What the command line says about the chat (the flags shared with `run`).
#[derive(Debug, Clone, Copy)]
pub struct CliOverrides<'a> {
    pub models: &'a [PathBuf],
    pub sampling: &'a SamplingArgs,
    pub load: &'a LoadArgs,
    pub max_tokens: Option<usize>,
    /// `--system`.
    pub system_prompt: Option<&'a str>,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Models named on the command line (first one is loaded at start).
    pub cli_models: Vec<PathBuf>,
    /// Models listed in config.toml.
    pub config_models: Vec<PathBuf>,
    pub models_dir: Option<PathBuf>,
    /// The system prompt of a new chat without a persona.
    pub system_prompt: Option<String>,
    pub max_tokens: usize,
    pub load: LoadOptions,
    pub sampling: SamplingParams,
    /// The configured personas, by name.
    pub personas: Vec<Persona>,
    /// `None`: show the stats panel when the terminal is wide enough.
    pub show_stats: Option<bool>,
    /// Whether the app takes the mouse at start (the wheel, clicks); off, the terminal selects
    /// text.
    pub mouse: bool,
    pub frame_rate: u32,
    pub keymap: Keymap,
    pub no_color: bool,
    pub theme: ThemeChoice,
    /// Widest the conversation's text gets, in columns; 0: the whole width.
    pub max_width: u16,
}

/// Where things live on disk.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl Paths {
    /// XDG folders through `directories`, with `BITNET_TUI_CONFIG` / `BITNET_TUI_DATA` first.
    pub fn resolve(env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let dirs = directories::ProjectDirs::from("", "", "bitnet-tui")
            .context("cannot find a home folder for config and data files")?;
        let config_file = env(env::CONFIG).map(PathBuf::from).unwrap_or_else(|| dirs.config_dir().join("config.toml"));
        let data_dir = env(env::DATA).map(PathBuf::from).unwrap_or_else(|| dirs.data_dir().to_path_buf());
        let log_dir = dirs.state_dir().unwrap_or_else(|| dirs.cache_dir()).to_path_buf();
        Ok(Self { config_file, data_dir, log_dir })
    }
}

impl Settings {
    /// Reads `config_file` (a missing file means defaults) and layers env and CLI on top.
    pub fn load(
        config_file: &Path,
        env: &dyn Fn(&str) -> Option<String>,
        cli: CliOverrides<'_>,
    ) -> anyhow::Result<Self> {
        let text = match std::fs::read_to_string(config_file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", config_file.display())),
        };
        Self::from_parts(&text, &config_file.display().to_string(), env, cli)
    }

    /// `file_name` labels the errors found in `file_text` (and only those: a bad environment
    /// variable is not the file's fault, which may not even exist).
    pub fn from_parts(
        file_text: &str,
        file_name: &str,
        env: &dyn Fn(&str) -> Option<String>,
        cli: CliOverrides<'_>,
    ) -> anyhow::Result<Self> {
        let in_file = || format!("config file {file_name}");
        let file: FileConfig = toml::from_str(file_text).with_context(in_file)?;
        let keymap = Keymap::with_overrides(file.keys.as_ref()).with_context(in_file)?;
        let env_num = |name: &str| -> anyhow::Result<Option<usize>> {
            env(name)
                .map(|v| {
                    v.trim()
                        .parse::<usize>()
                        .with_context(|| format!("environment variable {name}=`{v}` is not a whole number"))
                })
                .transpose()
        };

        let from_file = file.sampling.apply(SamplingParams::default());
        from_file.validate().map_err(|why| anyhow::anyhow!("[sampling] {why}")).with_context(in_file)?;

        let load_defaults = LoadOptions::default();
        let load_base = LoadOptions {
            threads: env_num(env::THREADS)?.or(file.threads).unwrap_or(load_defaults.threads),
            ctx: env_num(env::CTX)?.or(file.ctx).unwrap_or(load_defaults.ctx),
            context_policy: file.context_policy.unwrap_or(load_defaults.context_policy),
            draft: file.draft.unwrap_or(load_defaults.draft),
            // The rest has no config key; its flags still apply below.
            ..load_defaults
        };

        let max_tokens = cli.max_tokens.or(env_num(env::MAX_TOKENS)?).or(file.max_tokens).unwrap_or(DEFAULT_MAX_TOKENS);
        if max_tokens == 0 {
            let source = if cli.max_tokens.is_some() {
                "--max-tokens".to_string()
            } else if env(env::MAX_TOKENS).is_some() {
                format!("environment variable {}", env::MAX_TOKENS)
            } else {
                in_file()
            };
            anyhow::bail!("{source}: `max_tokens` must be at least 1");
        }

        let sampling = cli.sampling.apply(from_file);
        let mut personas = Vec::new();
        for (name, persona) in file.personas {
            let knobs = Knobs {
                sampling: persona.sampling.apply(sampling.clone()),
                max_tokens: persona.max_tokens.unwrap_or(max_tokens),
            };
            let table = format!("[personas.{name}]");
            knobs
                .sampling
                .validate()
                .map_err(|why| anyhow::anyhow!("{table} sampling: {why}"))
                .with_context(in_file)?;
            anyhow::ensure!(knobs.max_tokens > 0, "{}: {table} `max_tokens` must be at least 1", in_file());
            personas.push(Persona { name: Some(name), system_prompt: Some(persona.system_prompt), knobs });
        }

        Ok(Self {
            cli_models: cli.models.to_vec(),
            config_models: file.models,
            models_dir: env(env::MODELS_DIR).map(PathBuf::from).or(file.models_dir),
            system_prompt: cli.system_prompt.map(str::to_string).or(env(env::SYSTEM_PROMPT)).or(file.system_prompt),
            max_tokens,
            load: cli.load.apply(load_base),
            sampling,
            personas,
            show_stats: file.ui.show_stats,
            mouse: file.ui.mouse.unwrap_or(true),
            frame_rate: file.ui.frame_rate.unwrap_or(DEFAULT_FRAME_RATE).clamp(1, 120),
            keymap,
            // Per no-color.org: present and not empty.
            no_color: env(env::NO_COLOR).is_some_and(|v| !v.is_empty()),
            theme: ThemeChoice { name: file.ui.theme.unwrap_or_default(), overrides: file.theme },
            max_width: file.ui.max_width.unwrap_or(DEFAULT_MAX_WIDTH),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn resolve(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
        sampling: &SamplingArgs,
        load: &LoadArgs,
        max_tokens: Option<usize>,
    ) -> anyhow::Result<Settings> {
        let cli = CliOverrides { models: &[], sampling, load, max_tokens, system_prompt: None };
        Settings::from_parts(text, "config.toml", env, cli)
    }

    #[test]
    fn example_config_parses_to_the_defaults() {
        let s = resolve(EXAMPLE_CONFIG, &no_env, &SamplingArgs::default(), &LoadArgs::default(), None).unwrap();
        let d = resolve("", &no_env, &SamplingArgs::default(), &LoadArgs::default(), None).unwrap();
        assert_eq!(s.sampling, SamplingParams::default());
        assert_eq!(s.sampling, d.sampling);
        assert_eq!(s.load, LoadOptions::default());
        assert_eq!(s.max_tokens, DEFAULT_MAX_TOKENS);
        assert_eq!(s.keymap, Keymap::defaults().unwrap());
        assert_eq!(s.frame_rate, d.frame_rate);
        assert_eq!(s.show_stats, d.show_stats);
        assert_eq!(s.mouse, d.mouse);
        assert_eq!((&s.theme, s.max_width), (&d.theme, d.max_width));
    }

    #[test]
    fn cli_beats_env_beats_file() {
        let file = "max_tokens = 100\nthreads = 2\nctx = 1000\n[sampling]\ntemperature = 0.5\ntop_k = 7\n";
        let env = |name: &str| match name {
            env::MAX_TOKENS => Some("200".to_string()),
            env::THREADS => Some("3".to_string()),
            _ => None,
        };
        let sampling = SamplingArgs { temperature: Some(0.1), ..SamplingArgs::default() };
        let load = LoadArgs { threads: Some(4), ..LoadArgs::default() };
        let s = resolve(file, &env, &sampling, &load, None).unwrap();
        assert_eq!(s.sampling.temperature, 0.1);
        assert_eq!(s.sampling.top_k, 7);
        assert_eq!(s.max_tokens, 200);
        assert_eq!(s.load.threads, 4);
        assert_eq!(s.load.ctx, 1000);
        let s = resolve(file, &env, &SamplingArgs::default(), &LoadArgs::default(), Some(300)).unwrap();
        assert_eq!(s.max_tokens, 300);
        assert_eq!(s.load.threads, 3);
        assert_eq!(s.sampling.temperature, 0.5);
    }

    #[test]
    fn bad_config_names_the_key() {
        let err = |text: &str| {
            let e = resolve(text, &no_env, &SamplingArgs::default(), &LoadArgs::default(), None).unwrap_err();
            format!("{e:#}")
        };
        assert!(err("[sampling]\ntemprature = 1.0\n").contains("temprature"));
        assert!(err("max_tokens = \"many\"\n").contains("max_tokens"));
        assert!(err("[keys.chat]\nsend = [\"ctrl+bogus\"]\n").contains("keys.chat.send"));
        assert!(err("max_tokens = 0\n").contains("max_tokens"));
        assert!(err("[sampling]\ntop_p = 2.0\n").contains("top_p = 2"));
        assert!(err("[sampling]\ntemperature = nan\n").contains("temperature = NaN"));
        assert!(err("max_tokens = 0\n").contains("config.toml"));
        // An environment variable's fault is not blamed on the file.
        let env = |name: &str| (name == env::CTX).then(|| "lots".to_string());
        let e = format!("{:#}", resolve("", &env, &SamplingArgs::default(), &LoadArgs::default(), None).unwrap_err());
        assert!(e.contains(env::CTX) && !e.contains("config"), "{e}");
        let env = |name: &str| (name == env::MAX_TOKENS).then(|| "0".to_string());
        let e = format!("{:#}", resolve("", &env, &SamplingArgs::default(), &LoadArgs::default(), None).unwrap_err());
        assert!(e.contains(env::MAX_TOKENS) && !e.contains("config"), "{e}");
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "bogus = 1\n").unwrap();
        let cli = CliOverrides {
            models: &[],
            sampling: &SamplingArgs::default(),
            load: &LoadArgs::default(),
            max_tokens: None,
            system_prompt: None,
        };
        let e = Settings::load(&path, &no_env, cli).unwrap_err();
        let text = format!("{e:#}");
        assert!(text.contains("config.toml") && text.contains("bogus"), "{text}");
        assert!(Settings::load(&dir.path().join("missing.toml"), &no_env, cli).is_ok());
    }

    /// The example's commented `[personas.…]` tables, uncommented.
    fn example_personas() -> String {
        let lines = EXAMPLE_CONFIG.lines().skip_while(|l| !l.starts_with("# [personas."));
        lines.take_while(|l| l.starts_with("# ")).map(|l| format!("{}\n", &l[2..])).collect()
    }

    #[test]
    fn personas_layer_their_settings_on_the_starting_ones() {
        let file = format!("[sampling]\ntop_k = 7\n{}", example_personas());
        let sampling = SamplingArgs { seed: Some(9), ..SamplingArgs::default() };
        let s = resolve(&file, &no_env, &sampling, &LoadArgs::default(), None).unwrap();
        let [coder] = &s.personas[..] else { panic!("{:?}", s.personas) };
        assert_eq!(coder.name.as_deref(), Some("coder"));
        assert!(coder.system_prompt.as_deref().is_some_and(|p| p.starts_with("You are a senior Rust engineer.")));
        let knobs = &coder.knobs;
        assert_eq!((knobs.sampling.temperature, knobs.sampling.top_p), (0.2, 0.9));
        assert_eq!((knobs.sampling.top_k, knobs.sampling.seed, knobs.max_tokens), (7, 9, 2048));
        assert_eq!(s.sampling.temperature, 0.8, "the starting settings stay");
    }

    #[test]
    fn bad_personas_name_the_persona_and_the_key() {
        let err = |text: &str| {
            let e = resolve(text, &no_env, &SamplingArgs::default(), &LoadArgs::default(), None).unwrap_err();
            format!("{e:#}")
        };
        let e = err("[personas.poet]\nsystem_prompt = \"x\"\n[personas.poet.sampling]\ntop_p = 3.0\n");
        assert!(e.contains("[personas.poet]") && e.contains("top_p") && e.contains("config.toml"), "{e}");
        let e = err("[personas.poet]\nsystem_prompt = \"x\"\nmax_tokens = 0\n");
        assert!(e.contains("[personas.poet]") && e.contains("max_tokens"), "{e}");
        let e = err("[personas.poet]\nsytem_prompt = \"x\"\n");
        assert!(e.contains("sytem_prompt"), "{e}");
        assert!(err("[personas.poet]\nmax_tokens = 5\n").contains("system_prompt"));
    }

    #[test]
    fn system_flag_beats_env_beats_file() {
        let file = "system_prompt = \"file\"\n";
        let env = |name: &str| (name == env::SYSTEM_PROMPT).then(|| "env".to_string());
        let (sampling, load) = (SamplingArgs::default(), LoadArgs::default());
        let with = |system_prompt, env: &dyn Fn(&str) -> Option<String>| {
            let cli = CliOverrides { models: &[], sampling: &sampling, load: &load, max_tokens: None, system_prompt };
            Settings::from_parts(file, "config.toml", env, cli).unwrap().system_prompt
        };
        assert_eq!(with(Some("flag"), &env).as_deref(), Some("flag"));
        assert_eq!(with(None, &env).as_deref(), Some("env"));
        assert_eq!(with(None, &no_env).as_deref(), Some("file"));
    }

    #[test]
    fn no_color_needs_a_value() {
        let set = |v: &'static str| move |name: &str| (name == env::NO_COLOR).then(|| v.to_string());
        let on = resolve("", &set("1"), &SamplingArgs::default(), &LoadArgs::default(), None).unwrap();
        let off = resolve("", &set(""), &SamplingArgs::default(), &LoadArgs::default(), None).unwrap();
        assert!(on.no_color);
        assert!(!off.no_color);
    }

    #[test]
    fn themes_and_colours_come_from_the_file() {
        let ok = |text: &str| resolve(text, &no_env, &SamplingArgs::default(), &LoadArgs::default(), None).unwrap();
        let s = ok("[ui]\ntheme = \"high-contrast\"\nmax_width = 90\n[theme]\naccent = \"light-magenta\"\n");
        assert_eq!((s.theme.name, s.max_width), (ThemeName::HighContrast, 90));
        assert_eq!(s.theme.palette().accent, ratatui::style::Color::LightMagenta);
        assert_eq!(ok("").theme, ThemeChoice::default());
        let err = |text: &str| {
            let e = resolve(text, &no_env, &SamplingArgs::default(), &LoadArgs::default(), None).unwrap_err();
            format!("{e:#}")
        };
        let e = err("[ui]\ntheme = \"solarized\"\n");
        assert!(e.contains("config.toml") && e.contains("theme") && e.contains("high-contrast"), "{e}");
        let e = err("[theme]\nerror = \"blood\"\n");
        assert!(e.contains("config.toml") && e.contains("error") && e.contains("unknown colour `blood`"), "{e}");
        assert!(err("[theme]\nbackground = \"black\"\n").contains("background"));
        assert!(err("[ui]\nmax_width = -1\n").contains("max_width"));
    }
}
