//! `aos`: the AutonomOS Control Center server and operator CLI.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = server::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("aos: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aos: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
