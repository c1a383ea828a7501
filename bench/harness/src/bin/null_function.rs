//! `null-function`: the Runtime API floor. A `lambda_runtime` function that
//! answers every event with the same small HTTP response without reading
//! it, so `bench-driver warm` with it measures what the Runtime API round
//! trip itself costs (the driver's HTTP, the runtime client's loop).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let answer = json!({
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {},
        "body": r#"{"Success":"Pong!"}"#,
        "isBase64Encoded": false
    });
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Box<RawValue>>| {
        let answer: Value = answer.clone();
        async move { Ok::<Value, Error>(answer) }
    }))
    .await
}
