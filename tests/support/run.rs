//! Running the built `onramp` binary from integration tests.

use std::io::Write;
use std::process::{Child, Command, Stdio};

/// Starts `onramp ARGS` in the crate root with all three streams piped.
pub fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_onramp"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run onramp")
}

/// Runs `onramp ARGS` to the end with `stdin` as its input (none: closed
/// at once): standard output, standard error and the exit code.
pub fn run(args: &[&str], stdin: Option<&str>) -> (String, String, i32) {
    let mut child = spawn(args);
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}
