//! Filters: RocksDB full filters (FastLocalBloom, legacy Bloom) and LevelDB filter blocks.
