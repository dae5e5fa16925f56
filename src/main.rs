//! The `refmatch` executable: parse arguments, run the command, map the error to an exit
//! code with a one-line message.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = refmatch::cli::Cli::parse();
    match refmatch::cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(refmatch::Error::Io { error, .. })
            if error.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("refmatch: {}", refmatch::error::loggable(&e.to_string()));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
