//! Shared helpers for sstkit integration and interop tests.
