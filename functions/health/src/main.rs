//! The `health` Lambda function binary: `GET /ping`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::run(health::router(), async || Ok(())).await
}
