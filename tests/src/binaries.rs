//! Where cargo put the workspace's binaries: the function binaries the tests and the demo run,
//! and the directory their logs go to.
//!
//! Found from the running executable, never from a literal `target/`: every test, the demo and
//! the benchmarks are built by cargo into the same profile directory as the functions
//! (`<target>/debug` or `<target>/release`; test executables one level down, in `deps/`), so
//! this honours `CARGO_TARGET_DIR` and cargo's `build.target-dir` without re-reading them.

use std::path::{Path, PathBuf};

/// The profile directory this executable was built into.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the running executable");
    let dir = exe.parent().expect("an executable lives in a directory");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().unwrap_or(dir).to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// The binary `name` of the workspace, built with the same profile as this executable.
pub fn path(name: &str) -> PathBuf {
    profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// The local world's log directory (`<target>/localworld`), created if need be.
pub fn log_dir() -> PathBuf {
    let profile = profile_dir();
    let dir = profile
        .parent()
        .unwrap_or(Path::new("."))
        .join("localworld");
    std::fs::create_dir_all(&dir).expect("create the local world's log directory");
    dir
}
