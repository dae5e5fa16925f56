//! On-prem packaging (issue 17): `--version` names the commit, `healthcheck` is what the
//! container's HEALTHCHECK runs, and the Dockerfile and systemd unit keep the properties
//! the README's "Deploying" section promises (they are not built or started here: CI has
//! neither a Docker daemon nor systemd).

use std::path::Path;
use std::process::Command;

use crate::util::server::TestServer;

fn repository_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn the_version_names_the_commit() {
    let output = crate::util::refmatch(&["--version"]);
    assert!(output.status.success());
    let line = crate::util::stdout(&output);
    assert!(line.starts_with("refmatch 0."), "{line}");
    let commit = line
        .split("(commit ")
        .nth(1)
        .and_then(|rest| rest.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("no commit in {line:?}"));
    assert!(!commit.is_empty());
    // Where git can tell, it is the checked-out commit (built from this tree).
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if let Ok(head) = head {
        if head.status.success() && std::env::var("REFMATCH_COMMIT").is_err() {
            let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
            assert_eq!(commit, head);
        }
    }
}

#[test]
fn healthcheck_answers_for_a_live_server_only() {
    let server = TestServer::start();
    let live = crate::util::refmatch(&["healthcheck", "--addr", &server.addr]);
    assert!(live.status.success(), "{}", crate::util::stderr(&live));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = closed.local_addr().expect("an address").to_string();
    drop(closed);
    let dead = crate::util::refmatch(&["healthcheck", "--addr", &addr, "--timeout-secs", "2"]);
    assert_eq!(dead.status.code(), Some(1));
    assert!(crate::util::stderr(&dead).contains("not healthy"));
}

#[test]
fn the_image_is_multi_stage_non_root_with_a_volume_and_a_health_check() {
    let docker = repository_file("Dockerfile");
    let stages = docker.lines().filter(|l| l.starts_with("FROM ")).count();
    assert_eq!(stages, 2, "a build stage and a small final stage");
    assert!(docker.contains("FROM debian:bookworm-slim"));
    let user = docker
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    assert!(
        !user.starts_with("root") && !user.starts_with('0'),
        "{user}"
    );
    assert!(docker.contains("VOLUME [\"/data\"]"));
    assert!(docker.contains("ENV REFMATCH_DB=/data/refmatch.db"));
    assert!(docker.contains("CMD [\"refmatch\", \"healthcheck\""));
    let ignored = repository_file(".dockerignore");
    assert!(ignored.lines().any(|l| l == "target"));
}

#[test]
fn the_unit_is_sandboxed() {
    let unit = repository_file("deploy/refmatch.service");
    for setting in [
        "User=refmatch",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "StateDirectory=refmatch",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "CapabilityBoundingSet=",
        "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes",
        "KillSignal=SIGTERM",
    ] {
        assert!(
            unit.lines().any(|l| l == setting),
            "deploy/refmatch.service lacks {setting}"
        );
    }
}
