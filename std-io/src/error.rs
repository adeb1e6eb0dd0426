//! The error type of the std adapter.

/// What can go wrong reading or writing tables on files and object stores.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The codec rejected the bytes or the call (corruption, checksum mismatch, keys out of order, ...).
    #[error("{context}: {source}")]
    Codec {
        /// Which file (or writer) and what step.
        context: String,
        /// The codec's error.
        source: sstkit_core::Error,
    },
    /// The object store failed.
    #[error("{context}: {source}")]
    Store {
        /// Which object and what step.
        context: String,
        /// The store's error.
        source: object_store::Error,
    },
    /// Local I/O failed.
    #[error("{context}: {source}")]
    Io {
        /// Which file and what step.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A call made in the wrong state or with bad arguments.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// The codec error inside, if this is one.
    pub fn codec(&self) -> Option<&sstkit_core::Error> {
        match self {
            Error::Codec { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds context to codec, store and I/O errors.
pub(crate) trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, sstkit_core::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Codec { context: what(), source })
    }
}

impl<T> Context<T> for std::result::Result<T, object_store::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Store { context: what(), source })
    }
}

impl<T> Context<T> for std::result::Result<T, std::io::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io { context: what(), source })
    }
}
