//! The `authorizer` Lambda function binary: the REST API's TOKEN authorizer.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    authorizer::run().await
}
