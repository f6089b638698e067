//! The `ft` binary: parse the command line, run it, turn the result into an exit code.

fn main() -> std::process::ExitCode {
    // ft re-executes itself as the guard of each driver it starts (see `browser::driver_guard`).
    if let Some(code) = ft::main_if_guard() {
        return code;
    }
    ft::main()
}
