//! `refmatch bench`: the benchmark harness, one file per kind. `http` drives a load loop
//! against a server, `data` times the matcher offline and a seeded server end to end on a
//! synthetic set, `quality` measures what generated configs score. Each file depends only on
//! the crate and, for `data`'s load loop, on `http`; nothing here is imported elsewhere.

mod data;
mod http;
mod quality;

use crate::cli::{BenchCommand, Cli};
use crate::error::Result;

pub fn run(cli: &Cli, command: &BenchCommand) -> Result<()> {
    match command {
        BenchCommand::Http(args) => http::run(cli, args),
        BenchCommand::Eval(args) => data::eval(args),
        BenchCommand::Server(args) => data::server(cli, args),
        BenchCommand::Quality(args) => quality::run(args),
    }
}
