//! The embedded store is for local runs only, and private to its owner:
//! - the real `users` binary refuses to start with neither `USERS_TABLE`
//!   nor `USERS_DB_PATH` set, saying what to set (the image sets no store,
//!   so a function deployed without its table must not serve from SQLite);
//! - the SQLite folder and files are created readable by the owner only;
//! - several stores opening one new database at once (cargo-lambda's
//!   `--concurrency` starts its processes together) all open it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use users::model::User;
use users::store::UserStore;
use users::store::sqlite::SqliteStore;

const BIN: &str = env!("CARGO_BIN_EXE_users");

#[test]
fn without_a_store_setting_the_function_refuses_to_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Unset, or set to blanks: the same. The Runtime API address points at
    // a closed port: the function must stop before it ever polls.
    for blank in [None, Some(""), Some("  ")] {
        let mut command = Command::new(BIN);
        command
            .current_dir(dir.path())
            .env_remove("USERS_TABLE")
            .env_remove("USERS_DB_PATH")
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("127.0.0.1:{}", testkit::free_port()),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "users")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256");
        if let Some(value) = blank {
            command
                .env("USERS_TABLE", value)
                .env("USERS_DB_PATH", value);
        }
        let output = command.output().expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{blank:?}: must not start\n{stderr}"
        );
        for says in [
            "no users store configured",
            "set USERS_TABLE",
            "USERS_DB_PATH",
        ] {
            assert!(
                stderr.contains(says),
                "{blank:?}: stderr must say {says:?}:\n{stderr}"
            );
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("read dir").collect();
        assert!(
            left.is_empty(),
            "{blank:?}: no SQLite file anywhere: {left:?}"
        );
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_sqlite_folder_and_files_are_owner_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join(".data");
    let path = data.join("nested").join("users.sqlite3");
    let store = SqliteStore::open(&path).expect("open");
    store
        .create(User {
            id: uuid::Uuid::now_v7().to_string(),
            name: "Ada".into(),
            email: "ada@example.com".into(),
            created_at: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
        })
        .await
        .expect("create");
    // Every folder the store created, and every file SQLite keeps.
    let cases = [
        (data.clone(), 0o700),
        (data.join("nested"), 0o700),
        (path.clone(), 0o600),
        (data.join("nested/users.sqlite3-wal"), 0o600),
        (data.join("nested/users.sqlite3-shm"), 0o600),
    ];
    for (path, want) in &cases {
        assert_eq!(
            mode(path),
            *want,
            "{}: mode {:o}",
            path.display(),
            mode(path)
        );
    }
    // Reopening an existing database keeps working.
    drop(store);
    SqliteStore::open(&path).expect("reopen");
}

#[test]
fn several_stores_open_one_new_database_at_once() {
    const ROUNDS: usize = 25;
    const OPENERS: usize = 6;
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("users.sqlite3");
        let start = std::sync::Barrier::new(OPENERS);
        let opened: Vec<Result<SqliteStore, String>> = std::thread::scope(|scope| {
            let openers: Vec<_> = (0..OPENERS)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        SqliteStore::open(&path).map_err(|e| format!("{e:?}"))
                    })
                })
                .collect();
            openers
                .into_iter()
                .map(|o| o.join().expect("opener"))
                .collect()
        });
        let failed: Vec<_> = opened.iter().filter_map(|o| o.as_ref().err()).collect();
        assert!(failed.is_empty(), "round {round}: {failed:#?}");
    }
}
