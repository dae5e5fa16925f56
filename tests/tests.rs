//! The integration tests: one binary, one module per area, each starting the real
//! `refmatch` executable or server (port 0, a temp database) and talking to it as a user or
//! client would. `util` holds what they share. The load test is `#[ignore]`d (minutes of
//! load); `.ci/run` runs it explicitly.

mod util;

mod abuse;
mod api;
mod bad_input;
mod browser;
mod compat;
mod deploy;
mod fuzz_replay;
mod hardening;
mod load;
mod offline;
mod operations;
mod packages;
mod report;
mod review_page;
mod runs;
mod scale_out;
mod schedules;
mod storage;
mod synth;
mod webhooks;
mod wire;
