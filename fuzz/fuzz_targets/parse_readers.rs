//! The hand-written reader against pest on arbitrary text: whenever the
//! hand-written reader reads a text, pest must read it too, to the same
//! tree (spans included). Seed it with `parse_check_compile`'s corpus or
//! the `.ramp` files of `rules/` and `tests/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onramp::limits::Limits;
use onramp::syntax::readers;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let limits = Limits::default();
    if let Some(Ok(mine)) = readers::descent(&text, &limits) {
        match readers::pest(&text, &limits) {
            Ok(theirs) => assert_eq!(mine, theirs, "the trees differ"),
            Err(e) => panic!("the hand-written reader read a text pest rejects: {e:?}"),
        }
    }
    if let Some(Ok(mine)) = readers::descent_expression(&text, &limits) {
        match readers::pest_expression(&text, &limits) {
            Ok(theirs) => assert_eq!(mine, theirs, "the expression trees differ"),
            Err(e) => panic!("the hand-written reader read an expression pest rejects: {e:?}"),
        }
    }
});
