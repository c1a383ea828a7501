//! Where users live, behind one small trait.
//!
//! Backends: `sqlite` (embedded, a local file at `USERS_DB_PATH`, for
//! local runs; cargo feature `sqlite`) and `dynamodb` (production, selected
//! by `USERS_TABLE`; cargo feature `dynamodb`). Both are on by default; the
//! image builds DynamoDB alone (feature `image`). [`crate::config`] picks
//! one, and refuses to start with neither set, or with one this build
//! lacks. [`sdk_env`]: what the DynamoDB client reads from the environment.
//!
//! Every backend keeps the same contract: emails unique ignoring case, even
//! under concurrent writes; `list` in id order (creation order) with keyset
//! pagination that never skips or repeats a user.

#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "dynamodb")]
pub mod sdk_env;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use async_trait::async_trait;
use shared::{ApiError, BoxError};

use crate::model::{User, UserInput};

/// One page of users, and the id the next page starts after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Users in id order.
    pub users: Vec<User>,
    /// The last id of this page when more users follow.
    pub next_after: Option<String>,
}

/// Why a store operation failed.
#[derive(Debug)]
pub enum StoreError {
    /// Another user already has this email (ignoring case).
    EmailTaken,
    /// The backend is unreachable or throttling: worth a retry (503).
    Unavailable(BoxError),
    /// Anything else: a fault (500).
    Internal(BoxError),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::EmailTaken => f.write_str("email is already used by another user"),
            Self::Unavailable(cause) => write!(f, "store unavailable: {cause}"),
            Self::Internal(cause) => write!(f, "store error: {cause}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::EmailTaken => {
                ApiError::Conflict("email is already used by another user".into())
            }
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// The operations the users routes need.
#[async_trait]
pub trait UserStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a new user; `EmailTaken` if the email is in use.
    async fn create(&self, user: User) -> Result<User, StoreError>;
    /// The user with `id`, if any.
    async fn get(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// Up to `limit` users with ids after `after`, in id order.
    async fn list(&self, limit: usize, after: Option<String>) -> Result<Page, StoreError>;
    /// Replaces name and email; `None` if there is no such user.
    async fn update(&self, id: &str, input: UserInput) -> Result<Option<User>, StoreError>;
    /// Deletes; `false` if there was no such user.
    async fn delete(&self, id: &str) -> Result<bool, StoreError>;
}
