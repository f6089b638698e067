//! Command-line parsing (clap): flags, environment and ft.toml become the options of one
//! command, which `commands` runs. `args` holds the clap definitions (`--help` text),
//! `config_flags` turns ft.toml's `[run]` table into flags, `options` assembles each
//! command's options; here is the entry point.

mod args;
mod config_flags;
mod options;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::commands;
use crate::error::Error;
use crate::superlists;

use args::*;
use options::*;

pub use args::Cli;

pub fn main() -> ExitCode {
    use clap::CommandFactory;
    // ft.toml's [run] settings become flags where no flag or variable set them.
    let args = match config_flags::with_run_table(Cli::command(), std::env::args_os().collect()) {
        Ok(args) => args,
        Err(errors) => {
            let err = Error::Spec(errors);
            eprintln!("{}", err.render());
            return ExitCode::from(err.code());
        }
    };
    let cli = Cli::parse_from(args);
    let result =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(Error::Runtime).and_then(|runtime| {
            let result = runtime.block_on(dispatch(cli));
            // Do not wait for blocking tasks (e.g. a stuck DNS lookup) on the way out.
            runtime.shutdown_timeout(Duration::from_secs(1));
            result
        });
    // The one place an error is printed and turned into an exit code.
    ExitCode::from(result.unwrap_or_else(|err| {
        eprintln!("{}", err.render());
        err.code()
    }))
}

async fn dispatch(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Some(Command::Run(args)) => commands::run(job_options(&args)?).await,
        None => commands::run(job_options(&cli.run)?).await,
        Some(Command::List(args)) => {
            let (specs, selectors, _, fixtures, values) = spec_source_and_config(&args.spec)?;
            let config = commands::ListConfig { selectors, fixtures, values };
            commands::list(specs, config, selection(&args.spec), args.shard, args.format == "json")
        }
        Some(Command::Serve(args)) => match args.command {
            Some(ServeCommand::CreateSession(command)) => commands::serve_create_session(&command.db, &command.email),
            Some(ServeCommand::ResetDatabase(command)) => commands::serve_reset_database(&command.db),
            None => {
                let mail = match (args.smtp, args.outbox) {
                    (Some(server), _) => superlists::Mail::Smtp(server),
                    (None, Some(dir)) => superlists::Mail::Outbox(Some(dir)),
                    (None, None) => superlists::Mail::Console,
                };
                let config = superlists::Config {
                    db: args.db,
                    defects: superlists::Defects::from_list(&args.defects),
                    version: args.app_version,
                    access_log: args.access_log,
                    mail,
                };
                commands::serve(args.addr, config).await
            }
        },
        Some(Command::Deploy(args)) => commands::deploy(deploy_options(args)?).await,
        Some(Command::Gate(args)) => commands::gate(gate_options(args)?).await,
        Some(Command::Watch(args)) => commands::watch(watch_options(args)?).await,
        Some(Command::Keygen(args)) => commands::keygen(&args.out),
        Some(Command::Completions(args)) => {
            use clap::CommandFactory;
            let mut out = std::io::stdout().lock();
            clap_complete::generate(args.shell, &mut Cli::command(), "ft", &mut out);
            Ok(crate::exit::PASSED)
        }
        Some(Command::Man(args)) if args.verbs => commands::verbs(),
        Some(Command::Man(args)) => {
            commands::man(<Cli as clap::CommandFactory>::command(), args.out.as_deref(), args.flags)
        }
        Some(Command::Flakes(args)) => commands::flakes(&args.history, args.since),
        Some(Command::Merge(args)) => {
            let verify = args.verify_key.as_deref().map(crate::sign::VerifyKey::load).transpose()?;
            let sign = args.sign_key.as_deref().map(crate::sign::SignKey::load).transpose()?;
            commands::merge(&args.dirs, &args.reports, verify.as_ref(), sign.as_ref())
        }
    }
}
