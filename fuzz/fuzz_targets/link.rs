//! Reads arbitrary bytes as a CoRE link-format list and walks every link and parameter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::formats::link::LinkIter;

fuzz_target!(|data: &[u8]| {
    let mut errors = 0;
    for link in LinkIter::new(data) {
        match link {
            Ok(link) => {
                assert!(!link.target.is_empty());
                assert!(!link.target.contains(&b'>'));
                for (name, value) in link.params() {
                    assert!(!name.is_empty());
                    if let Some(v) = value {
                        assert!(v.len() < data.len());
                    }
                }
            }
            Err(_) => errors += 1,
        }
    }
    assert!(errors <= 1);
});
