//! Typed errors for the format layer: every error names the structure and its file offset.

use thiserror::Error;

/// An error raised while decoding one on-disk structure.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormatError {
    /// The byte slice ended before the structure did. `needed` counts bytes from the start of
    /// the slice; a caller that can read more retries with at least that many.
    #[error("{structure} at offset {offset}: incomplete, need {needed} bytes from its start")]
    Incomplete {
        /// Structure being decoded.
        structure: &'static str,
        /// File address of the structure's first byte.
        offset: u64,
        /// Bytes (from the structure's start) needed to continue.
        needed: u64,
    },
    /// A 4-byte (or 8-byte) signature did not match.
    #[error("{structure} at offset {offset}: bad signature {found:?}")]
    BadSignature {
        /// Structure being decoded.
        structure: &'static str,
        /// File address of the structure.
        offset: u64,
        /// The bytes found instead, lossily as text.
        found: String,
    },
    /// A Jenkins lookup3 checksum did not match.
    #[error("{structure} at offset {offset}: checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum {
        /// Structure being decoded.
        structure: &'static str,
        /// File address of the structure.
        offset: u64,
        /// Checksum stored in the file.
        stored: u32,
        /// Checksum computed over the bytes read.
        computed: u32,
    },
    /// A version number this reader does not know.
    #[error("{structure} at offset {offset}: unsupported version {version}")]
    UnsupportedVersion {
        /// Structure being decoded.
        structure: &'static str,
        /// File address of the structure.
        offset: u64,
        /// The version found.
        version: u8,
    },
    /// A feature that is valid HDF5 but not supported by this reader.
    #[error("{structure} at offset {offset}: unsupported: {feature}")]
    Unsupported {
        /// Structure being decoded.
        structure: &'static str,
        /// File address of the structure.
        offset: u64,
        /// What is not supported.
        feature: String,
    },
    /// A value that violates the format (absurd size, impossible combination, …).
    #[error("{structure} at offset {offset}: invalid: {reason}")]
    Invalid {
        /// Structure being decoded.
        structure: &'static str,
        /// File address of the structure.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

impl FormatError {
    /// Shorthand for [`FormatError::Invalid`].
    pub fn invalid(structure: &'static str, offset: u64, reason: impl Into<String>) -> Self {
        Self::Invalid {
            structure,
            offset,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`FormatError::Unsupported`].
    pub fn unsupported(structure: &'static str, offset: u64, feature: impl Into<String>) -> Self {
        Self::Unsupported {
            structure,
            offset,
            feature: feature.into(),
        }
    }

    /// The structure named by this error.
    pub fn structure(&self) -> &'static str {
        match self {
            Self::Incomplete { structure, .. }
            | Self::BadSignature { structure, .. }
            | Self::Checksum { structure, .. }
            | Self::UnsupportedVersion { structure, .. }
            | Self::Unsupported { structure, .. }
            | Self::Invalid { structure, .. } => structure,
        }
    }

    /// The file offset named by this error.
    pub fn offset(&self) -> u64 {
        match self {
            Self::Incomplete { offset, .. }
            | Self::BadSignature { offset, .. }
            | Self::Checksum { offset, .. }
            | Self::UnsupportedVersion { offset, .. }
            | Self::Unsupported { offset, .. }
            | Self::Invalid { offset, .. } => *offset,
        }
    }
}

/// Result alias for the format layer.
pub type Result<T, E = FormatError> = std::result::Result<T, E>;
