//! Block compression and decompression.
