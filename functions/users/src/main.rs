//! The `users` Lambda function binary: `/api/v1/users`.

use users::{AppState, config};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::run_with(users::router(), users::routes::DEFAULTS, async || {
        let store = config::open_store().await?;
        Ok(AppState { store })
    })
    .await
}
