//! `ft man`: the manual pages, rendered from the clap definitions (so a page cannot say
//! other than `--help`), and the list of every long flag, which the docs test holds the
//! docs to.

use std::path::{Path, PathBuf};

/// Every page, `(file name, roff)`: `ft.1`, then `ft-SUBCOMMAND.1` for each visible
/// subcommand, in the order `--help` lists them. clap's own `help` subcommand gets none.
pub fn pages(cmd: clap::Command) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = cmd.disable_help_subcommand(true);
    // Built once so every subcommand carries its display name (`ft-run`) and clap's
    // --help/--version, as the binary shows them.
    cmd.build();
    // Every page's footer names ft and its version, subcommands' too.
    let source = format!("ft {}", cmd.get_version().unwrap_or_default()).trim().to_string();
    let mut pages = Vec::new();
    for page in std::iter::once(&cmd).chain(cmd.get_subcommands().filter(|s| !s.is_hide_set())) {
        let man = clap_mangen::Man::new(page.clone()).source(source.clone());
        let mut roff = Vec::new();
        man.render(&mut roff)?;
        pages.push((man.get_filename(), roff));
    }
    Ok(pages)
}

/// Writes every page into `dir` (created if missing); returns the files written.
pub fn write_pages(cmd: clap::Command, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    pages(cmd)?
        .into_iter()
        .map(|(name, roff)| {
            let path = dir.join(name);
            std::fs::write(&path, roff).map(|()| path)
        })
        .collect()
}

/// Every long flag, one per line as `COMMAND<TAB>--flag<TAB>shown|hidden` (`ft run\t--workers\tshown`):
/// what the docs must name (the shown ones) and may name (all of them).
pub fn long_flags(cmd: clap::Command) -> Vec<String> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut flags = Vec::new();
    for command in std::iter::once(&cmd).chain(cmd.get_subcommands().filter(|s| !s.is_hide_set())) {
        let name = command.get_display_name().unwrap_or(command.get_name()).replace('-', " ");
        for arg in command.get_arguments() {
            if let Some(long) = arg.get_long() {
                let shown = if arg.is_hide_set() { "hidden" } else { "shown" };
                flags.push(format!("{name}\t--{long}\t{shown}"));
            }
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd() -> clap::Command {
        clap::Command::new("ft")
            .version("1.0")
            .arg(clap::Arg::new("workers").long("workers"))
            .subcommand(
                clap::Command::new("serve")
                    .arg(clap::Arg::new("addr").long("addr"))
                    .arg(clap::Arg::new("defect").long("defect").hide(true)),
            )
            .subcommand(clap::Command::new("secret").hide(true))
    }

    #[test]
    fn a_page_for_ft_and_each_visible_subcommand() {
        let names: Vec<String> = pages(cmd()).unwrap().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["ft.1", "ft-serve.1"]);
    }

    #[test]
    fn long_flags_name_their_command_and_say_which_are_hidden() {
        let flags = long_flags(cmd());
        for line in
            ["ft\t--workers\tshown", "ft serve\t--addr\tshown", "ft\t--help\tshown", "ft serve\t--defect\thidden"]
        {
            assert!(flags.contains(&line.to_string()), "{line:?} in {flags:?}");
        }
    }
}
