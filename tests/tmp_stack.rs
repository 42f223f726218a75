#[test]
fn stack() {
    let kb: usize = std::env::var("KB").unwrap().parse().unwrap();
    let case: usize = std::env::var("CASE").unwrap().parse().unwrap();
    let r = std::thread::Builder::new().stack_size(kb * 1024).spawn(move || {
        let d = 127;
        let texts = [
            format!("let x = {}1{}", "(".repeat(d), ")".repeat(d)),
            format!("let x = {}1{}", "\"{".repeat(d), "}\"".repeat(d)),
            format!("let x = {}1{}", "f(a between 1 and ".repeat(d), ")".repeat(d)),
            format!("let x = {}1", "not ".repeat(d)),
        ];
        match onramp::syntax::parse(onramp::FileId(0), &texts[case], &onramp::Limits::default()) { Ok(_) => "ok".to_string(), Err(d) => d[0].message.clone() }
    }).unwrap().join();
    println!("RESULT {kb} KiB case {case}: {:?}", r.ok());
}
