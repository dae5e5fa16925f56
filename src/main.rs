//! The `refmatch` executable: parse arguments, run the command, map the error to an exit
//! code with a one-line message.

use std::process::ExitCode;

use clap::Parser;

/// The log: one line on stderr per record, `refmatch: ` before each but the access log's.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        if record.target() == "access" {
            eprintln!("{}", record.args());
        } else {
            eprintln!("refmatch: {}", record.args());
        }
    }

    fn flush(&self) {}
}

static LOG: StderrLog = StderrLog;

fn main() -> ExitCode {
    // Set once, before anything logs; a second logger is impossible here.
    let _ = log::set_logger(&LOG).map(|()| log::set_max_level(log::LevelFilter::Info));
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
