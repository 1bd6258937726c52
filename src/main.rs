//! The `bitnet-tui` binary: the chat TUI, and the headless subcommands that share its engine.

fn main() -> std::process::ExitCode {
    bitnet_tui::cli::main()
}
