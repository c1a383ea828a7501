//! Which users store to open, from the environment, once at start-up.

use std::path::PathBuf;

use crate::store::sqlite::SqliteStore;
use crate::store::{StoreError, UserStore};

/// Where the embedded store lives when `USERS_DB_PATH` is not set: under the
/// workspace, where `cargo lambda watch` runs the functions.
pub const DEFAULT_DB_PATH: &str = ".data/users.sqlite3";

/// Opens the store the environment selects, and says which in the log.
pub fn open_store() -> Result<Box<dyn UserStore>, StoreError> {
    let path = std::env::var_os("USERS_DB_PATH")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_DB_PATH), PathBuf::from);
    let store = SqliteStore::open(&path)?;
    tracing::info!(store = "sqlite", path = %path.display(), "users store ready");
    Ok(Box::new(store))
}
