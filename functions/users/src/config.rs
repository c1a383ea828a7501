//! Which users store to open, from the environment, once at start-up (a
//! DynamoDB client itself is built on first use).
//!
//! - `USERS_TABLE` set: DynamoDB on that table (production), with the
//!   region and credentials of the environment, as Lambda sets them
//!   ([`crate::store::sdk_env`], which refuses to start without them); the
//!   optional `DYNAMODB_ENDPOINT` points the client at a local
//!   DynamoDB-compatible server (tests, local runs).
//! - `USERS_DB_PATH` set: the embedded SQLite store in that file (local
//!   runs: `scripts/dev`, `cargo lambda watch` through the users package
//!   metadata, the tests).
//! - neither: the function refuses to start ([`MISSING_STORE`]). There is
//!   no default: a deployed function without `USERS_TABLE` must not quietly
//!   serve from a per-instance SQLite file that is lost at every cold start.

use std::path::PathBuf;

#[cfg(feature = "dynamodb")]
use crate::store::dynamodb::DynamoStore;
#[cfg(feature = "dynamodb")]
use crate::store::sdk_env::SdkEnv;
#[cfg(feature = "sqlite")]
use crate::store::sqlite::SqliteStore;
use crate::store::{StoreError, UserStore};

/// Why the function refuses to start without a store setting, and what to set.
pub const MISSING_STORE: &str = "no users store configured: set USERS_TABLE to the \
     DynamoDB table (in AWS), or USERS_DB_PATH to a SQLite file (local runs only)";

fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Opens the store the environment selects, and says which in the log.
pub async fn open_store() -> Result<Box<dyn UserStore>, StoreError> {
    if let Some(table) = setting("USERS_TABLE") {
        return open_dynamodb(table).await;
    }
    let path = setting("USERS_DB_PATH")
        .map(PathBuf::from)
        .ok_or_else(|| StoreError::Internal(MISSING_STORE.into()))?;
    open_sqlite(path)
}

#[cfg(feature = "sqlite")]
fn open_sqlite(path: PathBuf) -> Result<Box<dyn UserStore>, StoreError> {
    let store = SqliteStore::open(&path)?;
    tracing::info!(store = "sqlite", path = %path.display(), "users store ready");
    Ok(Box::new(store))
}

/// A build without the `sqlite` feature (the image) refuses to start
/// rather than run without the store it was told to use.
#[cfg(not(feature = "sqlite"))]
fn open_sqlite(path: PathBuf) -> Result<Box<dyn UserStore>, StoreError> {
    Err(StoreError::Internal(
        format!(
            "USERS_DB_PATH={} is set, but this build has no SQLite store (the image \
             builds DynamoDB only: set USERS_TABLE; the `sqlite` cargo feature of \
             users is for local runs)",
            path.display()
        )
        .into(),
    ))
}

#[cfg(feature = "dynamodb")]
async fn open_dynamodb(table: String) -> Result<Box<dyn UserStore>, StoreError> {
    let settings = SdkEnv::from_process().map_err(|reason| StoreError::Internal(reason.into()))?;
    tracing::info!(
        store = "dynamodb",
        table,
        endpoint = settings.endpoint().unwrap_or("aws"),
        "users store ready"
    );
    Ok(Box::new(DynamoStore::from_settings(table, settings)))
}

/// A build without the `dynamodb` feature (the fuzz targets) refuses to
/// start rather than quietly using SQLite in place of the configured table.
#[cfg(not(feature = "dynamodb"))]
async fn open_dynamodb(table: String) -> Result<Box<dyn UserStore>, StoreError> {
    Err(StoreError::Internal(
        format!(
            "USERS_TABLE={table} is set, but this build has no DynamoDB store \
             (the `dynamodb` cargo feature of users is off)"
        )
        .into(),
    ))
}
