//! The `axum-peer` Lambda function binary (benchmark only, not shipped),
//! as `lambda_http`'s axum example writes `main`: the default subscriber
//! (honouring Lambda's log controls), then `lambda_http::run`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    lambda_http::run(axum_peer::article_router()).await
}
