//! The `gatehouse` binary as an operator runs it: arguments in, text and an exit code out.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gatehouse(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    command.args(args).env_remove("GATEHOUSE_POLICY_FILE");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// The repository's policy.toml.
fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy.toml")
}

/// A copy of the shipped policy with `from` replaced by `to`, in a file of its own.
fn edited(name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(shipped()).unwrap();
    assert!(text.contains(from), "the shipped policy holds {from:?}");
    let dir = std::env::temp_dir().join(format!("gatehouse-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text.replace(from, to)).unwrap();
    path
}

#[test]
fn policy_check_prints_what_the_shipped_policy_grants() {
    let out = gatehouse(&["policy", "check", shipped().to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(": valid\n"), "{text}");
    let line = |start: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no line starting {start:?} in\n{text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("production"), "production entry restricted to E9001");
    assert_eq!(line("team engineering"), "team engineering developers");
    assert_eq!(
        line("service account deployer"),
        "service account deployer deployers"
    );
}

#[test]
fn policy_check_as_json_and_from_the_functions_setting() {
    let out = gatehouse(
        &["policy", "check", "--output", "json"],
        &[("GATEHOUSE_POLICY_FILE", &shipped())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["valid"], true);
    assert!(doc["source"].as_str().unwrap().ends_with("policy.toml"));
    let envs = doc["environments"].as_array().unwrap();
    let names: Vec<&str> = envs
        .iter()
        .map(|e| e["environment"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["development", "production", "staging", "testing"]);
    assert_eq!(envs[1]["allow"], serde_json::json!(["E9001"]));
    assert_eq!(
        envs[1]["teams"]["site-reliability"],
        serde_json::json!(["operators"])
    );
    assert!(
        envs[0].get("allow").is_none(),
        "unrestricted: no allow list"
    );

    // Without a file or the setting, the policy built into the binary.
    let builtin = gatehouse(&["policy", "check"], &[]);
    assert_eq!(builtin.status.code(), Some(0));
    assert!(stdout(&builtin).starts_with("the built-in policy: valid\n"));
}

#[test]
fn a_bad_policy_exits_3_naming_the_key() {
    let bad = edited(
        "bad.toml",
        "access = { testing = [\"testers\"] }",
        "access = { qa = [\"testers\"] }",
    );
    let out = gatehouse(&["policy", "check", bad.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).is_empty());
    assert!(stderr(&out).contains("teams.qe.access"), "{}", stderr(&out));

    let missing = gatehouse(&["policy", "check", "/nonexistent/policy.toml"], &[]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(stderr(&missing).contains("/nonexistent/policy.toml"));

    // The setting the functions read is checked the same way.
    let out = gatehouse(&["policy", "check"], &[("GATEHOUSE_POLICY_FILE", &bad)]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn policy_diff_shows_who_gains_and_who_loses_and_exits_1() {
    let same = gatehouse(
        &[
            "policy",
            "diff",
            shipped().to_str().unwrap(),
            shipped().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(stdout(&same), "no change in access\n");

    let handed_over = edited(
        "handover.toml",
        "allow = [\"E9001\"]",
        "allow = [\"E9002\"]",
    );
    let old = shipped();
    let args = [
        "policy",
        "diff",
        old.to_str().unwrap(),
        handed_over.to_str().unwrap(),
    ];
    let out = gatehouse(&args, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows: Vec<Vec<String>> = stdout(&out)
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect();
    assert_eq!(
        rows,
        [
            vec!["ENVIRONMENT", "WHO", "GAINS", "LOSES"],
            vec!["production", "employee E9001", "-", "entry"],
            vec!["production", "employee E9002", "entry", "-"],
        ]
    );

    let json = gatehouse(&[&args[..], &["--output", "json"]].concat(), &[]);
    assert_eq!(json.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(
        doc["changes"][0],
        serde_json::json!({
            "environment": "production",
            "subject": {"kind": "employee", "name": "E9001"},
            "gains": [],
            "loses": ["entry"]
        })
    );
}

#[test]
fn a_usage_error_exits_2_and_every_command_has_help() {
    let out = gatehouse(&["policy", "frobnicate"], &[]);
    assert_eq!(out.status.code(), Some(2));
    for args in [
        &["--help"][..],
        &["policy", "--help"],
        &["policy", "check", "--help"],
        &["policy", "diff", "--help"],
    ] {
        let out = gatehouse(args, &[]);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(stdout(&out).contains("Usage: gatehouse"), "{args:?}");
    }
}
