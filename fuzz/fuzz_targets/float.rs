//! The float parser on arbitrary bytes: never panics; whatever it accepts agrees with core's
//! parser bit for bit and prints back to text that parses to the same bits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::buf::Writer;
use tern::formats::float::{parse, write_shortest};

fuzz_target!(|data: &[u8]| {
    let ours = parse(data);
    let core = core::str::from_utf8(data)
        .ok()
        .and_then(|s| s.parse::<f64>().ok());
    match ours {
        Ok(v) => {
            assert_eq!(Some(v.to_bits()), core.map(f64::to_bits), "{data:?}");
            let mut buf = [0u8; 40];
            let mut w = Writer::new(&mut buf);
            write_shortest(v, &mut w).unwrap();
            assert_eq!(parse(w.written()).map(f64::to_bits), Ok(v.to_bits()));
        }
        Err(_) => {
            // Refused: core either refuses too or gives a non-finite value (we never
            // accept inf/nan spellings or out-of-range numbers).
            assert!(
                core.map_or(true, |c| !c.is_finite()) || data.iter().any(|&c| c == b'_'),
                "{data:?}"
            );
        }
    }
});
