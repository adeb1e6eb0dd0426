//! What verify-all counts on its pass over the data blocks: what `sstkit stats` shows.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Sizes seen, summarised as count, min, percentiles, max, mean and total.
#[derive(Debug, Default)]
pub struct Dist {
    sizes: Vec<u64>,
}

impl Dist {
    /// Counts one size.
    pub fn add(&mut self, n: u64) {
        self.sizes.push(n);
    }

    /// The summary (`{"count": 0}` when nothing was counted).
    pub fn to_json(&self) -> Value {
        let mut s = self.sizes.clone();
        s.sort_unstable();
        let (Some(&min), Some(&max)) = (s.first(), s.last()) else { return json!({"count": 0}) };
        let at = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
        let total: u64 = s.iter().sum();
        let mean = total as f64 / s.len() as f64;
        json!({"count": s.len(), "min": min, "p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": max,
               "mean": (mean * 10.0).round() / 10.0, "total": total})
    }
}

/// The counts of one verify pass.
#[derive(Debug, Default)]
pub struct Stats {
    entries: BTreeMap<&'static str, u64>,
    keys: Dist,
    values: Dist,
    stored: Dist,
    raw: Dist,
    compressed_blocks: u64,
    blocks_checked: u64,
}

impl Stats {
    /// One entry of kind `kind` with a user key and a stored value of these lengths.
    pub fn entry(&mut self, kind: &'static str, key_len: usize, value_len: usize) {
        *self.entries.entry(kind).or_default() += 1;
        self.keys.add(key_len as u64);
        self.values.add(value_len as u64);
    }

    /// One data block read: its stored size (without trailer) and size uncompressed.
    pub fn data_block(&mut self, stored: u64, raw: u64, compressed: bool) {
        self.stored.add(stored);
        self.raw.add(raw);
        self.compressed_blocks += u64::from(compressed);
        self.blocks_checked += 1;
    }

    /// Any other block checked (or a data block that failed).
    pub fn other_block(&mut self) {
        self.blocks_checked += 1;
    }

    /// As JSON, named as `sstkit stats --json` names them, with `blocks_checked` and `entries_checked`.
    pub fn to_json(&self) -> Value {
        let stored: u64 = self.stored.sizes.iter().sum();
        let raw: u64 = self.raw.sizes.iter().sum();
        let ratio = if stored == 0 { 1.0 } else { raw as f64 / stored as f64 };
        json!({
            "entries": self.entries,
            "data_blocks": self.stored.sizes.len(),
            "compressed_blocks": self.compressed_blocks,
            "stored_block_size": self.stored.to_json(),
            "uncompressed_block_size": self.raw.to_json(),
            "compression_ratio": (ratio * 1000.0).round() / 1000.0,
            "key_size": self.keys.to_json(),
            "value_size": self.values.to_json(),
            "blocks_checked": self.blocks_checked,
            "entries_checked": self.keys.sizes.len(),
        })
    }
}
