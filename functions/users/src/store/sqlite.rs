//! The embedded store: SQLite in a local file, so data survives restarts of
//! the local dev server.
//!
//! SQLite (bundled, no system library) gives atomic commits, so a process
//! killed mid-request never leaves half a user, and file locking, so several
//! function processes (cargo-lambda's `--concurrency`) can share one file.
//! Calls run on tokio's blocking pool: SQLite I/O must not stall the runtime.
//!
//! The folder and the database are created readable by the owner only
//! (0700 and 0600); SQLite gives its `-wal` and `-shm` files the mode of the
//! database file.

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use super::{Page, StoreError, UserStore};
use crate::model::{User, UserInput, email_key};

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS users (
        id         TEXT PRIMARY KEY NOT NULL,
        name       TEXT NOT NULL,
        email      TEXT NOT NULL,
        email_key  TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    ) STRICT;
";

/// How long a statement waits for another process's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A SQLite-backed [`UserStore`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed, owner-only) the database at `path`, and
    /// its parent folders.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let io =
            |e: std::io::Error| StoreError::Internal(format!("{}: {e}", path.display()).into());
        // SQLite's in-memory database: no file to create or protect.
        let in_memory = path.as_os_str() == ":memory:";
        if !in_memory && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(io)?;
        }
        // Created here, not by SQLite, which would use 0644; an existing
        // file is left as it is.
        if !in_memory {
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(io(e)),
                _ => {}
            }
        }
        let connection = Connection::open(path).map_err(internal)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(internal)?;
        // Processes started together (cargo-lambda's `--concurrency`) race
        // to set WAL mode on a new file; SQLite answers that race with
        // SQLITE_BUSY at once, without its busy handler: retry it.
        let started = Instant::now();
        loop {
            let setup = connection
                .pragma_update(None, "journal_mode", "WAL")
                .and_then(|()| connection.pragma_update(None, "synchronous", "FULL"))
                .and_then(|()| connection.execute_batch(SCHEMA));
            match setup.map_err(internal) {
                Err(StoreError::Unavailable(_)) if started.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                other => break other?,
            }
        }
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    async fn with<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave SQLite half-written
            // (the transaction rolls back), so a poisoned lock is still usable.
            let mut guard = connection.lock().unwrap_or_else(|p| p.into_inner());
            work(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Internal(e.into()))?
    }
}

fn internal(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(error.into())
        }
        _ => StoreError::Internal(error.into()),
    }
}

/// Maps a failed insert/update: the email_key constraint means `EmailTaken`.
fn write_error(error: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, Some(message)) = &error
        && failure.code == ErrorCode::ConstraintViolation
        && message.contains("email_key")
    {
        return StoreError::EmailTaken;
    }
    internal(error)
}

fn row_to_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        email: row.get(2)?,
        created_at: row.get(3)?,
    })
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create(&self, user: User) -> Result<User, StoreError> {
        self.with(move |db| {
            db.execute(
                "INSERT INTO users (id, name, email, email_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user.id, user.name, user.email, email_key(&user.email), user.created_at],
            )
            .map_err(write_error)?;
            Ok(user)
        })
        .await
    }

    async fn get(&self, id: &str) -> Result<Option<User>, StoreError> {
        let id = id.to_owned();
        self.with(move |db| {
            db.query_row(
                "SELECT id, name, email, created_at FROM users WHERE id = ?1",
                params![id],
                row_to_user,
            )
            .optional()
            .map_err(internal)
        })
        .await
    }

    async fn list(&self, limit: usize, after: Option<String>) -> Result<Page, StoreError> {
        self.with(move |db| {
            let mut statement = db
                .prepare_cached(
                    "SELECT id, name, email, created_at FROM users
                     WHERE ?1 IS NULL OR id > ?1 ORDER BY id LIMIT ?2",
                )
                .map_err(internal)?;
            // One extra row tells whether another page follows.
            let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
            let mut users = statement
                .query_map(params![after, fetch], row_to_user)
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            let next_after = if users.len() > limit {
                users.truncate(limit);
                users.last().map(|u| u.id.clone())
            } else {
                None
            };
            Ok(Page { users, next_after })
        })
        .await
    }

    async fn update(&self, id: &str, input: UserInput) -> Result<Option<User>, StoreError> {
        let id = id.to_owned();
        self.with(move |db| {
            let tx = db.transaction().map_err(internal)?;
            let changed = tx
                .execute(
                    "UPDATE users SET name = ?2, email = ?3, email_key = ?4 WHERE id = ?1",
                    params![id, input.name, input.email, email_key(&input.email)],
                )
                .map_err(write_error)?;
            let user = if changed == 0 {
                None
            } else {
                Some(
                    tx.query_row(
                        "SELECT id, name, email, created_at FROM users WHERE id = ?1",
                        params![id],
                        row_to_user,
                    )
                    .map_err(internal)?,
                )
            };
            tx.commit().map_err(internal)?;
            Ok(user)
        })
        .await
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.with(move |db| {
            db.execute("DELETE FROM users WHERE id = ?1", params![id])
                .map(|n| n > 0)
                .map_err(internal)
        })
        .await
    }
}
