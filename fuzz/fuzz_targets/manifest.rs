//! Bytes → the rolling-build manifest parser (`Manifest::decode`): never a panic. The same bytes with a correct
//! `end` checksum line appended reach the record parser; a manifest that decodes re-encodes to text that decodes
//! to the same manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sstkit::manifest::Manifest;
use sstkit_core::checksum::crc32c;

fuzz_target!(|data: &[u8]| {
    let _ = Manifest::decode(data);
    let mut text = data.to_vec();
    if !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    let sum = crc32c(&text);
    text.extend_from_slice(format!("end {sum:08x}\n").as_bytes());
    if let Ok(m) = Manifest::decode(&text) {
        let again = m.encode();
        assert_eq!(Manifest::decode(again.as_bytes()).ok().as_ref(), Some(&m), "re-encoded manifest decodes to itself");
    }
});
