//! `bitnet-tui bench`: llama-bench's pp/tg measurements with a roofline column.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::engine::bandwidth::read_bandwidth;
use crate::engine::bench::{bytes_per_step, filled_template, generation_speed, prompt_speed, Spread};
use crate::engine::model::{Model, RunState};
use crate::engine::protocol::{KvType, LmHead};
use crate::engine::runtime::max_threads;
use crate::kernels::dispatch;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The GGUF model.
    #[arg(short, long)]
    pub model: PathBuf,
    /// Prompt tokens of the pp test (0 skips it).
    #[arg(short = 'p', long, default_value_t = 128)]
    pub prompt: usize,
    /// Generated tokens of the tg test (0 skips it).
    #[arg(short = 'n', long, default_value_t = 64)]
    pub gen: usize,
    /// Thread counts to test, comma separated (default: the number of physical cores).
    #[arg(short = 't', long, value_delimiter = ',')]
    pub threads: Vec<usize>,
    /// Repetitions of each test.
    #[arg(short = 'r', long, default_value_t = 5)]
    pub reps: usize,
    /// Tokens already in the cache before the tg test, comma separated (measures generation at a
    /// filled context). The cache is filled once, to the largest depth, and the repetitions
    /// alternate between the depths, so a change in machine speed affects each the same.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub depth: Vec<usize>,
    /// Sequences decoding together in the tg test, comma separated: the aggregate tok/s and each
    /// sequence's time per token (repetitions alternate between the counts, as between depths).
    #[arg(long, value_delimiter = ',', default_value = "1", value_parser = clap::value_parser!(u64).range(1..))]
    pub sequences: Vec<u64>,
    /// The LM head's format.
    #[arg(long, value_enum, default_value = "q8")]
    pub lm_head: LmHead,
    /// The KV cache's format.
    #[arg(long, value_enum, default_value = "f16")]
    pub kv: KvType,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Row {
    threads: usize,
    test: String,
    /// tg only: sequences decoding together.
    sequences: Option<usize>,
    /// Tokens per second, over all sequences.
    tok_s: Spread,
    /// tg only: milliseconds between two tokens of one sequence (mean).
    ms_per_token: Option<f64>,
    /// tg only: forward passes per second × bytes read per pass ÷ measured read bandwidth.
    roofline: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Report {
    model: String,
    kernel: &'static str,
    lm_head: LmHead,
    kv: KvType,
    bytes_per_token: u64,
    /// Measured read bandwidth, GB/s, per thread count.
    bandwidth_gbs: Vec<(usize, f64)>,
    rows: Vec<Row>,
}

/// What is being measured, on standard error when it is a terminal (the table goes to stdout).
fn progress_bar(steps: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps);
    let style = ProgressStyle::with_template("{bar:20} {pos}/{len} {elapsed}  {msg}");
    bar.set_style(style.unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let mut model = Model::load(&args.model)?;
    let ctx = model.config.context_length;
    anyhow::ensure!(args.prompt <= ctx, "-p {} is more than the model's context of {ctx} tokens", args.prompt);
    let deepest = args.depth.iter().copied().max().unwrap_or(0);
    anyhow::ensure!(
        deepest.saturating_add(args.gen) <= ctx,
        "--depth {deepest} plus -n {} is more than the model's context of {ctx} tokens",
        args.gen
    );
    if let Some(&t) = args.threads.iter().find(|&&t| t > max_threads()) {
        anyhow::bail!("-t {t} is more than this machine can use (at most {})", max_threads());
    }
    model.set_lm_head(args.lm_head);
    model.set_kv_type(args.kv)?;
    let threads = if args.threads.is_empty() { vec![num_cpus::get_physical().max(1)] } else { args.threads.clone() };
    let mut report = Report {
        model: args.model.display().to_string(),
        kernel: dispatch::active().name(),
        lm_head: args.lm_head,
        kv: args.kv,
        bytes_per_token: bytes_per_step(&model, args.depth[0], 1),
        bandwidth_gbs: Vec::new(),
        rows: Vec::new(),
    };
    let tests_per_thread = 1
        + usize::from(args.prompt > 0) * args.reps
        + usize::from(args.gen > 0) * args.reps * args.depth.len() * args.sequences.len();
    let bar = progress_bar((threads.len() * tests_per_thread) as u64);
    for &t in &threads {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build()?;
        pool.install(|| -> anyhow::Result<()> {
            let step = |what: String| {
                bar.set_message(format!("{t} thread(s): {what}"));
                bar.inc(1);
            };
            step("memory read bandwidth".into());
            let bandwidth = read_bandwidth(1 << 30, 3);
            report.bandwidth_gbs.push((t, bandwidth / 1e9));
            let mut st = RunState::new(t);
            if args.prompt > 0 {
                prompt_speed(&model, &mut st, args.prompt.min(64))?; // warm-up
                let runs = (0..args.reps)
                    .map(|rep| {
                        step(format!("pp{} run {}/{}", args.prompt, rep + 1, args.reps));
                        prompt_speed(&model, &mut st, args.prompt)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                report.rows.push(Row {
                    threads: t,
                    test: format!("pp{}", args.prompt),
                    sequences: None,
                    tok_s: Spread::of(&runs),
                    ms_per_token: None,
                    roofline: None,
                });
            }
            if args.gen > 0 {
                let deepest = args.depth.iter().copied().max().unwrap_or(0);
                bar.set_message(format!("{t} thread(s): filling the cache to depth {deepest}"));
                let (mut kv, template) = filled_template(&model, &mut st, deepest)?;
                generation_speed(&model, &mut st, &mut kv, template, 0, 1, 4)?; // warm-up
                let tests: Vec<(usize, usize)> =
                    args.depth.iter().flat_map(|&d| args.sequences.iter().map(move |&s| (d, s as usize))).collect();
                let mut runs = vec![Vec::new(); tests.len()];
                for rep in 0..args.reps {
                    for (runs, &(d, seqs)) in runs.iter_mut().zip(&tests) {
                        step(format!("tg{} at depth {d}, {seqs} sequence(s), run {}/{}", args.gen, rep + 1, args.reps));
                        runs.push(generation_speed(&model, &mut st, &mut kv, template, d, seqs, args.gen)?);
                    }
                }
                for (runs, &(d, seqs)) in runs.iter().zip(&tests) {
                    let tok_s = Spread::of(runs);
                    let at = if d > 0 { format!("@{d}") } else { String::new() };
                    let times = if seqs > 1 { format!("x{seqs}") } else { String::new() };
                    let steps_per_s = tok_s.mean / seqs as f64;
                    report.rows.push(Row {
                        threads: t,
                        test: format!("tg{}{at}{times}", args.gen),
                        sequences: Some(seqs),
                        tok_s,
                        ms_per_token: Some(1e3 / steps_per_s),
                        roofline: Some(steps_per_s * bytes_per_step(&model, d, seqs) as f64 / bandwidth),
                    });
                }
            }
            Ok(())
        })?;
    }
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "model {} · kernel {} · LM head {:?} · KV {:?} · {:.1} MB read per generated token",
        report.model,
        report.kernel,
        report.lm_head,
        report.kv,
        report.bytes_per_token as f64 / 1e6
    );
    for (t, bw) in &report.bandwidth_gbs {
        println!("memory read bandwidth, {t} thread(s): {bw:.1} GB/s");
    }
    println!("| threads | test         |            tok/s | ms/token/seq | roofline |");
    for r in &report.rows {
        let roof = r.roofline.map_or(String::new(), |f| format!("{:.0}%", f * 100.0));
        let latency = r.ms_per_token.map_or(String::new(), |ms| format!("{ms:.1}"));
        println!(
            "| {:>7} | {:<12} | {:>8.2} ± {:>5.2} | {:>12} | {:>8} |",
            r.threads, r.test, r.tok_s.mean, r.tok_s.sd, latency, roof
        );
    }
    Ok(())
}
