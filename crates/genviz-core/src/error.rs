//! Errors that say which file, tensor, field or step went wrong.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in genviz's libraries.
///
/// Each variant's message is complete on its own (it names the file, the field and what was
/// expected), so a command line can print it as is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system error while touching `path`.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file whose contents are not what genviz expects.
    #[error("{}: {message}", path.display())]
    BadFile {
        /// The file involved.
        path: PathBuf,
        /// What is wrong and what was expected.
        message: String,
    },
    /// An invalid argument, configuration value or shape.
    #[error("{0}")]
    Invalid(String),
    /// A numerical failure, such as a non-finite loss during training.
    #[error("{0}")]
    Numerical(String),
}

/// genviz's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// A malformed file.
    pub fn bad_file(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::BadFile {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }

    /// An invalid argument or configuration value.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }
}
