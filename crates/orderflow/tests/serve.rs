//! `orderflow serve` as a user starts it: a port already taken and a non-loopback address
//! are refused with a clear message and their exit codes (scripts/serve-smoke drives a
//! running server with the AWS CLI and boto3).

use std::process::Command;

fn serve(addr: &str) -> std::process::Output {
    let store = tempfile::tempdir().expect("a store directory");
    Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .args(["--store"])
        .arg(store.path())
        .args(["serve", "--virtual-time", "--addr", addr])
        .output()
        .expect("orderflow runs")
}

#[test]
fn a_port_in_use_is_an_environment_failure() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = taken.local_addr().expect("its address").to_string();
    let out = serve(&addr);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(stderr.contains(&addr), "{stderr}");
}

#[test]
fn only_loopback_addresses_are_served() {
    let out = serve("0.0.0.0:0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a loopback address"), "{stderr}");
}
