//! The `hanbao` command: see `hanbao --help`.

fn main() -> std::process::ExitCode {
    hanbao::cli::main()
}
