//! Raw bytes → `Properties::parse` and `Metaindex::parse` and every query on them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sstkit_core::metaindex::{Metaindex, PROPERTIES, RANGE_DEL};
use sstkit_core::properties::{names, Properties};
use sstkit_core::table::IndexInfo;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Properties::parse(data) {
        let mut n = 0usize;
        let _ = p.for_each(|name, v| n += name.len() + v.len());
        for name in [names::COMPARATOR, names::GLOBAL_SEQNO, names::NUM_ENTRIES, "zzz", ""] {
            let _ = p.get(name);
        }
        let _ = p.global_seqno();
        let _ = (p.index_has_user_keys(), p.index_is_delta_encoded());
        let _ = IndexInfo::from_properties(&p).map(|i| i.seek_order());
        if let Some(at) = p.global_seqno_value_offset {
            assert!(at + 8 <= data.len(), "global seqno offset outside the block");
        }
    }
    if let Ok(m) = Metaindex::parse(data) {
        let _ = m.for_each(|_, _| Ok(()));
        let _ = m.find(PROPERTIES);
        let _ = m.find(RANGE_DEL);
        let _ = m.properties();
        let _ = m.filter();
    }
});
