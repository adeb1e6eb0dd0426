//! Shared helpers for the sstkit benchmarks.
