//! The `docs` Lambda function binary: `/openapi.json` and `/docs`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::run(docs::router(), async || docs::Docs::load()).await
}
