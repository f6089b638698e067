//! The `ft` binary: parse the command line, run it, turn the result into an exit code.

fn main() -> std::process::ExitCode {
    ft::cli::main()
}
