//! Which users store to open, from the environment, once at start-up.
//!
//! - `USERS_TABLE` set: DynamoDB on that table (production); the optional
//!   `DYNAMODB_ENDPOINT` points the client at a local DynamoDB-compatible
//!   server (tests, local runs).
//! - otherwise: the embedded SQLite store at `USERS_DB_PATH`, default
//!   [`DEFAULT_DB_PATH`].

use std::path::PathBuf;

#[cfg(feature = "dynamodb")]
use crate::store::dynamodb::DynamoStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{StoreError, UserStore};

/// Where the embedded store lives when `USERS_DB_PATH` is not set: under the
/// workspace, where `cargo lambda watch` runs the functions.
pub const DEFAULT_DB_PATH: &str = ".data/users.sqlite3";

fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Opens the store the environment selects, and says which in the log.
pub async fn open_store() -> Result<Box<dyn UserStore>, StoreError> {
    if let Some(table) = setting("USERS_TABLE") {
        return open_dynamodb(table).await;
    }
    let path =
        setting("USERS_DB_PATH").map_or_else(|| PathBuf::from(DEFAULT_DB_PATH), PathBuf::from);
    let store = SqliteStore::open(&path)?;
    tracing::info!(store = "sqlite", path = %path.display(), "users store ready");
    Ok(Box::new(store))
}

#[cfg(feature = "dynamodb")]
async fn open_dynamodb(table: String) -> Result<Box<dyn UserStore>, StoreError> {
    let endpoint = setting("DYNAMODB_ENDPOINT");
    let store = DynamoStore::connect(table.clone(), endpoint.as_deref()).await;
    tracing::info!(
        store = "dynamodb",
        table,
        endpoint = endpoint.as_deref().unwrap_or("aws"),
        "users store ready"
    );
    Ok(Box::new(store))
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
