//! Raw bytes as the tail of a file → `Footer::decode`; a decoded footer must re-encode to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sstkit_core::footer::{Footer, FOOTER_LEN};

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    let whole = Footer::decode(data, len);
    // The same tail handed over alone, as a ranged reader would.
    let tail = &data[data.len().saturating_sub(FOOTER_LEN)..];
    let alone = Footer::decode(tail, len);
    assert_eq!(whole, alone, "decoding must not depend on how much of the file is given");
    // A tail that claims a larger file than it holds.
    let _ = Footer::decode(tail, len.saturating_add(u64::from(data.first().copied().unwrap_or(0)) << 32));
    let _ = Footer::decode(data, 0);
    let _ = Footer::decode(data, u64::MAX);
    if let Ok(f) = whole {
        let mut file = data.to_vec();
        let at = file.len() - f.encoded_len();
        let n = f.encode_into(&mut file[at..]).expect("a decoded footer encodes");
        assert_eq!(n, f.encoded_len());
        assert_eq!(Footer::decode(&file, len), Ok(f), "re-encoded footer decodes to itself");
    }
});
