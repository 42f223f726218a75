//! Snapshots of exactly what a product manager sees for common mistakes:
//! every `tests/cases/check/*.ramp` is checked and its diagnostics rendered
//! without colour.

use onramp::{Engine, SourceMap};

#[test]
fn diagnostics_of_common_mistakes() {
    insta::glob!("cases/check/*.ramp", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = format!("{}.ramp", path.file_stem().unwrap().to_string_lossy());
        let mut sources = SourceMap::new();
        sources.add(name, text);
        let diags = match Engine::new().compile_sources(sources.clone()) {
            Ok(program) => program.warnings().to_vec(),
            Err(e) => e.diagnostics,
        };
        assert!(
            !diags.is_empty(),
            "{} should produce a diagnostic",
            path.display()
        );
        let rendered = onramp::diagnostic::render(&diags, &sources, false);
        insta::assert_snapshot!(rendered);
    });
}
