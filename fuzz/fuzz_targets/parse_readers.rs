//! The hand-written reader against pest on arbitrary text: whenever the
//! hand-written reader reads a text, pest must read it too, to the same
//! tree (spans included). And whatever the reader reads without the
//! pre-check scan (as parsing tries first), it reads alike after the scan. Seed it with `parse_check_compile`'s corpus or
//! the `.ramp` files of `rules/` and `tests/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onramp::limits::Limits;
use onramp::syntax::readers;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let limits = Limits::default();
    if let Some(shallow) = readers::shallow(&text, &limits) {
        match readers::descent(&text, &limits) {
            Some(Ok(scanned)) => assert_eq!(shallow, scanned, "the shallow tree differs"),
            other => panic!("the shallow reader read a text the scanned path does not: {other:?}"),
        }
    }
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
