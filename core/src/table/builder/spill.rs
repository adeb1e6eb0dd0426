//! Spilling kept filter hashes: a full filter is sized by the number of distinct keys, so without
//! [`Options::expected_keys`] the builder keeps 8 bytes per key until finish. A caller with somewhere else to put
//! them (a temporary file) takes them out with [`TableBuilder::spill_hashes`] while building and hands them
//! back with [`TableBuilder::restore_hashes`] after [`TableBuilder::finish`]; the filter comes out byte for byte
//! as if they had stayed.
//!
//! At finish, when hashes were spilled, the full filter's bit array is sized from the distinct-hash count kept
//! as keys arrived and placed at the workspace's end (where a filter built as keys arrive lives); the hashes
//! still kept set their bits there and are dropped, and each restored hash sets its bits as it comes. Setting
//! bits is order-free, so the hashes may be spilled and restored in any order and in any chunks.
//!
//! [`Options::expected_keys`]: crate::table::Options::expected_keys

use super::filter::kept_hashes;
use super::{Stage, TableBuilder, HASH_LEN};
use crate::error::{Error, Part, Result};
use crate::filter::fast_bloom::add_hash;
use crate::filter::FULL_FILTER_METADATA_LEN;
use crate::table::workspace::Workspace;
use crate::trailer::BLOCK_TRAILER_LEN;

/// Spilled and restored hashes so far: counts and a wrapping sum, to catch hashes lost or damaged on the way.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct SpillCount {
    /// Hashes taken out by [`TableBuilder::spill_hashes`].
    pub(super) spilled: u64,
    /// Hashes handed back by [`TableBuilder::restore_hashes`].
    pub(super) restored: u64,
    /// Wrapping sum of the hashes spilled minus those restored.
    sum: u64,
}

impl<W: Workspace> TableBuilder<W> {
    /// Bytes of filter hashes the workspace holds that [`spill_hashes`](Self::spill_hashes) would take out: 8 per
    /// distinct user key added since the last spill, while building a full filter sized at finish. Always 0 with
    /// no filter, with a partitioned filter (it keeps one partition's hashes only) and with
    /// [`Options::expected_keys`](crate::table::Options::expected_keys) (bits are set as keys arrive).
    pub fn kept_hash_bytes(&self) -> usize {
        let full_sized_at_finish = self.bloom.is_some() && self.filter_region == 0 && !self.opts.partitioned_filter();
        if self.stage == Stage::Building && full_sized_at_finish {
            self.hashes * HASH_LEN
        } else {
            0
        }
    }

    /// Takes the kept filter hashes ([`kept_hash_bytes`](Self::kept_hash_bytes) of them) out of the workspace:
    /// `spill` gets their bytes (8-byte little-endian hashes, in no meaningful order) and, if it returns `Ok`,
    /// they are dropped and the count is returned. If `spill` fails nothing changes and its error comes back.
    ///
    /// Every spilled hash must come back through [`restore_hashes`](Self::restore_hashes) after
    /// [`finish`](Self::finish), before the filter is written; the table is then byte-identical to one built
    /// without spilling.
    ///
    /// ```
    /// use sstkit_core::table::{Options, Table, TableBuilder};
    /// let mut b = TableBuilder::new(Vec::new(), Options::default())?;
    /// let (mut file, mut spilled) = (Vec::new(), Vec::new());
    /// for i in 0..1000u32 {
    ///     b.put(format!("key{i:05}").as_bytes(), b"v")?;
    ///     while let Some(chunk) = b.next_output()? {
    ///         file.extend_from_slice(chunk);
    ///     }
    ///     if b.kept_hash_bytes() >= 800 {
    ///         b.spill_hashes(|bytes| {
    ///             spilled.extend_from_slice(bytes);
    ///             Ok::<_, core::convert::Infallible>(())
    ///         })
    ///         .unwrap();
    ///     }
    /// }
    /// b.finish()?;
    /// for chunk in spilled.chunks(256) {
    ///     b.restore_hashes(chunk)?;
    /// }
    /// while let Some(chunk) = b.next_output()? {
    ///     file.extend_from_slice(chunk);
    /// }
    /// assert!(Table::open(&file)?.may_contain(b"key00123"));
    /// # Ok::<(), sstkit_core::Error>(())
    /// ```
    pub fn spill_hashes<E>(
        &mut self,
        spill: impl FnOnce(&[u8]) -> core::result::Result<(), E>,
    ) -> core::result::Result<usize, E> {
        let n = self.kept_hash_bytes();
        if n == 0 {
            return Ok(0);
        }
        let cap = self.cap();
        let hashes = &self.ws.bytes()[cap - n..];
        spill(hashes)?;
        let sum = kept_hashes(hashes).fold(self.spill.sum, u64::wrapping_add);
        self.spill.sum = sum;
        self.spill.spilled += (n / HASH_LEN) as u64;
        self.hashes = 0;
        // The last-key copy sat just below the hashes: it moves up to the end.
        let k = self.last_key_len;
        self.ws.bytes_mut().copy_within(cap - n - k..cap - n, cap - k);
        Ok(n / HASH_LEN)
    }

    /// Spilled hashes not restored yet.
    pub fn hashes_to_restore(&self) -> u64 {
        self.spill.spilled - self.spill.restored
    }

    /// Hands back hashes taken out by [`spill_hashes`](Self::spill_hashes): `bytes` is any number of whole 8-byte
    /// hashes as spilled, in any order and chunking. Call it after [`finish`](Self::finish) and before the
    /// filter is written (before the first [`next_output`](Self::next_output) is safest), until
    /// [`hashes_to_restore`](Self::hashes_to_restore) is 0; the filter stage fails with
    /// [`Error::InvalidArgument`] while hashes are missing, and with [`Error::Corruption`] if they differ from
    /// the ones spilled.
    pub fn restore_hashes(&mut self, bytes: &[u8]) -> Result<()> {
        if !matches!(self.stage, Stage::LastBlock | Stage::Filter) {
            return Err(Error::InvalidArgument {
                reason: "filter hashes are restored after finish, before the filter",
            });
        }
        if bytes.len() % HASH_LEN != 0 || (bytes.len() / HASH_LEN) as u64 > self.hashes_to_restore() {
            return Err(Error::InvalidArgument { reason: "restored filter hashes do not match the spilled ones" });
        }
        let mut sum = self.spill.sum;
        let (bits, probes) = self.spilled_filter_bits();
        for h in kept_hashes(bytes) {
            add_hash(bits, probes, h);
            sum = sum.wrapping_sub(h);
        }
        self.spill.sum = sum;
        self.spill.restored += (bytes.len() / HASH_LEN) as u64;
        Ok(())
    }

    /// At finish, with hashes spilled: makes room for the full filter at the workspace's end (`filter_region`)
    /// and sets the bits of the hashes still kept, which are dropped. Changes nothing on failure.
    pub(super) fn start_restoring(&mut self) -> Result<()> {
        let Some(bloom) = self.bloom else { return Ok(()) };
        if self.spill.spilled == 0 {
            return Ok(());
        }
        let bits_len = bloom.bits_len(usize::try_from(self.distinct_hashes).unwrap_or(usize::MAX));
        let region = bits_len + FULL_FILTER_METADATA_LEN + BLOCK_TRAILER_LEN;
        self.reserve(self.block_cap, region)?;
        // Back area [last key][hashes] at the end; the bits go just below it first, then
        // [bits..][last key][hashes] becomes [last key][bits..] at the end.
        let (cap, hashes_len, k) = (self.cap(), self.hashes * HASH_LEN, self.last_key_len);
        let at = cap - hashes_len - k - region;
        let (head, kept) = self.ws.bytes_mut().split_at_mut(cap - hashes_len);
        let bits = &mut head[at..at + bits_len];
        bits.fill(0);
        for h in kept_hashes(kept) {
            add_hash(bits, bloom.num_probes(), h);
        }
        let ws = self.ws.bytes_mut();
        ws[at..at + region + k].rotate_left(region);
        ws.copy_within(at..at + region + k, at + hashes_len);
        self.hashes = 0;
        self.filter_region = region;
        Ok(())
    }

    /// Before the filter is written: every spilled hash must be back, unchanged.
    pub(super) fn check_restored(&self) -> Result<()> {
        if self.hashes_to_restore() > 0 {
            return Err(Error::InvalidArgument { reason: "spilled filter hashes were not all restored" });
        }
        if self.spill.sum != 0 {
            return Err(Error::Corruption {
                part: Part::Filter,
                offset: 0,
                reason: "restored filter hashes differ from the spilled ones",
            });
        }
        Ok(())
    }

    /// The bit array of a full filter whose hashes were spilled (see [`start_restoring`](Self::start_restoring)),
    /// and the probe count.
    fn spilled_filter_bits(&mut self) -> (&mut [u8], u8) {
        let probes = self.bloom.map_or(0, |b| b.num_probes());
        let cap = self.cap();
        let bits_len = self.filter_region.saturating_sub(FULL_FILTER_METADATA_LEN + BLOCK_TRAILER_LEN);
        let start = cap - self.filter_region;
        (&mut self.ws.bytes_mut()[start..start + bits_len], probes)
    }
}
