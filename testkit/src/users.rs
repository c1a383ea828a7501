//! The `users` function under test, on either of its stores.

use std::path::Path;

use crate::dynamo::{Moto, TEST_ENV};
use crate::process::{Emulator, Function};

/// Where a `users` process keeps its users.
#[derive(Debug, Clone, Copy)]
pub enum Store<'a> {
    /// A SQLite file (`USERS_DB_PATH`).
    Sqlite(&'a Path),
    /// A table on a moto server (`USERS_TABLE`, `DYNAMODB_ENDPOINT` and
    /// the test credentials of [`TEST_ENV`]).
    Dynamo {
        /// The server.
        moto: &'a Moto,
        /// The table, created with [`Moto::create_users_table`].
        table: &'a str,
    },
}

impl Store<'_> {
    /// The environment that selects this store.
    pub fn env(&self) -> Vec<(String, String)> {
        let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());
        match self {
            Self::Sqlite(db) => vec![pair(
                "USERS_DB_PATH",
                db.to_str().expect("a UTF-8 database path"),
            )],
            Self::Dynamo { moto, table } => {
                let mut env = vec![
                    pair("USERS_TABLE", table),
                    pair("DYNAMODB_ENDPOINT", &moto.endpoint()),
                ];
                env.extend(TEST_ENV.iter().map(|(name, value)| pair(name, value)));
                env
            }
        }
    }
}

/// Starts `binary` (the `users` binary: `env!("CARGO_BIN_EXE_users")`) as
/// function `users` on `store`, with `extra` environment on top.
pub fn start_users(
    emulator: &Emulator,
    binary: &str,
    store: Store<'_>,
    extra: &[(&str, &str)],
) -> Function {
    let owned = store.env();
    let mut env: Vec<(&str, &str)> = owned
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    env.extend_from_slice(extra);
    Function::start(emulator, "users", binary, &env)
}
