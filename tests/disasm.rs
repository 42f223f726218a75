//! Snapshots of the bytecode of a few programs, so that changes to code
//! generation are reviewed like code.

use std::process::Command;

#[test]
fn disassembly() {
    insta::glob!("cases/disasm/*.ramp", |path| {
        let out = Command::new(env!("CARGO_BIN_EXE_onramp"))
            .args(["disasm", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Paths in `; file:line:col` comments differ between machines.
        let text = String::from_utf8_lossy(&out.stdout).replace(path.to_str().unwrap(), "<file>");
        insta::assert_snapshot!(text);
    });
}
