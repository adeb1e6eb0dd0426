//! Filter hashes spilled to a temporary file: the writers' bound on the full filter's memory.
//!
//! A full Bloom filter is sized by the number of keys, so without
//! [`WriterOptions::expected_keys`](crate::writer::WriterOptions::expected_keys) core's builder keeps an 8-byte
//! hash per key until the table ends (80 MB for 10 M keys). The filter must be byte-identical to RocksDB's, so
//! the hashes must all come back exactly. Once the builder holds
//! [`WriterOptions::hash_spill_threshold`](crate::writer::WriterOptions::hash_spill_threshold) bytes of them they
//! are appended to an anonymous temporary file (unlinked from the start: nothing is left behind after a
//! crash), and at close they are read back in bounded chunks and handed to the builder, which sets their bits.
//! The file is only created if a table has that many keys.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use sstkit_core::{Sink, TableWriter};

use crate::error::{Context, Error, Result};

/// Bytes read back per call to the builder at close.
const RESTORE_CHUNK: usize = 1 << 20;
/// Bytes of one spilled hash.
const HASH_LEN: u64 = 8;

/// The spill file of one table.
#[derive(Debug)]
pub(crate) struct HashSpill {
    threshold: usize,
    dir: Option<PathBuf>,
    file: Option<File>,
    bytes: u64,
}

impl HashSpill {
    /// A spill for hashes past `threshold` bytes, into a temporary file in `dir` (`None`: the system's temporary
    /// directory).
    pub(crate) fn new(threshold: usize, dir: Option<PathBuf>) -> Self {
        HashSpill { threshold, dir, file: None, bytes: 0 }
    }

    /// What failed, for error messages: the table's location, the step and the spill directory.
    fn context(&self, location: &str, step: &str) -> String {
        let dir = self.dir.clone().unwrap_or_else(std::env::temp_dir);
        format!("{location}: {step} filter hashes (temporary file in {})", dir.display())
    }

    /// Moves the builder's kept hashes to the file once they reach the threshold.
    pub(crate) fn spill_if_due<S: Sink>(&mut self, w: &mut TableWriter<Vec<u8>, S>, location: &str) -> Result<()> {
        let kept = w.builder().kept_hash_bytes();
        if kept == 0 || kept < self.threshold {
            return Ok(());
        }
        let r = self.append(w);
        r.context(|| self.context(location, "spilling"))
    }

    fn append<S: Sink>(&mut self, w: &mut TableWriter<Vec<u8>, S>) -> std::io::Result<()> {
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(match &self.dir {
                Some(d) => tempfile::tempfile_in(d)?,
                None => tempfile::tempfile()?,
            }),
        };
        let n = w.spill_hashes(|hashes| file.write_all(hashes))?;
        self.bytes += n as u64 * HASH_LEN;
        Ok(())
    }

    /// Reads every spilled hash back, [`RESTORE_CHUNK`] bytes at a time, into `restore`, then closes (and so
    /// deletes) the file. Nothing happens if nothing was spilled.
    pub(crate) fn read_back(&mut self, location: &str, mut restore: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let Some(mut file) = self.file.take() else { return Ok(()) };
        let read_err = |e: std::io::Error| Error::Io { context: self.context(location, "reading back"), source: e };
        file.seek(SeekFrom::Start(0)).map_err(read_err)?;
        let mut buf = vec![0u8; RESTORE_CHUNK.min(usize::try_from(self.bytes).unwrap_or(usize::MAX))];
        let mut left = self.bytes;
        while left > 0 {
            let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            file.read_exact(&mut buf[..n]).map_err(read_err)?;
            restore(&buf[..n])?;
            left -= n as u64;
        }
        Ok(())
    }
}
