//! The production store: DynamoDB, through the official AWS SDK for Rust.
//!
//! One table, key `pk` (partition) + `sk` (sort), two kinds of item:
//! - a user: `pk = "USER"`, `sk = <id>`, with `name`, `email`, `email_key`,
//!   `created_at`. Ids are UUIDv7, so a `Query` on `pk = "USER"` returns
//!   users in creation order, which keyset pagination needs.
//! - an email claim: `pk = "EMAIL"`, `sk = <lowercased email>`, `user_id`.
//!
//! Every write that touches an email goes through `TransactWriteItems` with
//! conditions on both items, so two concurrent creates with one email give
//! one success and one `EmailTaken`, and an update or delete never leaves a
//! claim behind or a user without one. A transaction that loses a race
//! (`TransactionConflict`, or the user changed between read and write) is
//! retried a few times before giving up with a 503.
//!
//! A transaction DynamoDB cancels for throttling (`ThrottlingError`,
//! `ProvisionedThroughputExceeded` among the cancellation reasons), or one
//! still running under the same client request token
//! (`TransactionInProgressException`), is transient: it is sent again, with
//! the same items and token (so it commits at most once), after a jittered
//! exponential back-off, while [`RETRY_BUDGET`] lasts and the back-off
//! ends before the request's deadline ([`shared::deadline`]); then it is a
//! 503.
//!
//! Every call also runs under that deadline: when it passes, the app drops
//! the handler, which cancels the SDK call in flight together with the
//! SDK's own retries and any back-off here, and answers 503. Nothing keeps
//! running past it. A write whose answer is cut off this way has an unknown
//! outcome, like any timeout: the client request token makes a retried
//! transaction commit at most once, and a retried create meets its own
//! email claim (409) if the first one did commit.
//!
//! All users share one partition: that gives ordered, exact pages at the
//! cost of DynamoDB's per-partition throughput (about 1,000 writes/s); a
//! table that must go beyond that would shard `pk` and merge pages.
//!
//! Retries and timeouts are deliberate (see [`sdk_settings`]): a request
//! must fail within the Lambda timeout with a clear 503, never hang.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use shared::https::{Roots, SdkHttpClient};
use tokio::sync::OnceCell;

use super::sdk_env::SdkEnv;
use super::{Page, StoreError, UserStore};
use crate::model::{User, UserInput, email_key};

const USER: &str = "USER";
const EMAIL: &str = "EMAIL";
/// Attempts for a transaction that loses a race with another writer.
const RACE_ATTEMPTS: u32 = 4;
/// How long one store operation keeps retrying a throttled transaction,
/// counted from its start: well inside the function's 10 s timeout, even
/// when the last attempt takes the SDK's whole 5 s operation timeout.
pub const RETRY_BUDGET: Duration = Duration::from_secs(2);
/// The first back-off after a throttled transaction; it doubles per attempt
/// up to [`MAX_BACK_OFF`], and each wait is drawn at random below it.
const FIRST_BACK_OFF: Duration = Duration::from_millis(50);
const MAX_BACK_OFF: Duration = Duration::from_millis(500);

type Item = HashMap<String, AttributeValue>;

/// The SDK's HTTP client: the functions' one HTTPS stack
/// ([`shared::https`]: HTTP/1.1 on rustls with ring and the system's CA
/// certificates), built with the client on first use. Without CA
/// certificates only plain `http` endpoints (a local server) answer: every
/// HTTPS call fails, and this says why once, at the first.
pub fn http_client() -> SharedHttpClient {
    SdkHttpClient::new(Roots::System)
        .or_else(|reason| {
            tracing::error!(%reason, "dynamodb: HTTPS calls will fail");
            SdkHttpClient::new(Roots::None)
        })
        .expect("a TLS set-up that trusts nothing needs no files")
        .shared()
}

/// A DynamoDB-backed [`UserStore`].
///
/// Its settings are read from the environment at start-up ([`SdkEnv`]),
/// its client is built on first use: the client (its HTTPS set-up, the
/// CA certificates) can wait for the first request that needs the table,
/// so the function asks for its first event sooner (`bench/run` measures
/// the cold start).
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: OnceCell<Client>,
    /// What a client built on first use is built from; `None` when the
    /// store was given its client.
    settings: Option<SdkEnv>,
    table: String,
}

/// The SDK's retry and timeout settings:
/// - standard retry mode, 3 attempts, backoff from 50 ms up to 1 s: rides
///   out throttling bursts and a dropped connection;
/// - 1 s to connect, 2 s per attempt, 5 s per operation: inside the
///   function's 10 s timeout, so a dead endpoint is a logged 503, not a
///   Lambda timeout.
pub fn sdk_settings() -> (RetryConfig, TimeoutConfig) {
    let retry = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_secs(1));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build();
    (retry, timeouts)
}

impl DynamoStore {
    /// A store on `table` using `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client: OnceCell::new_with(Some(client)),
            settings: None,
            table: table.into(),
        }
    }

    /// A store on `table` whose client [`DynamoStore::connect`] builds
    /// from `settings` on first use.
    pub fn from_settings(table: impl Into<String>, settings: SdkEnv) -> Self {
        Self {
            client: OnceCell::new(),
            settings: Some(settings),
            table: table.into(),
        }
    }

    /// The client, built on the first call.
    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                let settings = self
                    .settings
                    .as_ref()
                    .expect("a store without a client has settings");
                Self::connect(settings)
            })
            .await
    }

    /// Builds a client from `settings` (region, credentials, endpoint),
    /// with [`sdk_settings`] and the invocation's X-Ray trace header on
    /// every request.
    pub fn connect(settings: &SdkEnv) -> Client {
        let (retry, timeouts) = sdk_settings();
        let config = settings
            .config()
            .http_client(http_client())
            .retry_config(retry)
            .timeout_config(timeouts)
            // The invocation's trace header on every call (shared::trace).
            .interceptor(shared::trace::TraceHeader);
        Client::from_conf(config.build())
    }

    fn user_key(id: &str) -> Item {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(USER.into())),
            ("sk".to_owned(), AttributeValue::S(id.into())),
        ])
    }

    fn email_claim_key(key: &str) -> Item {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(EMAIL.into())),
            ("sk".to_owned(), AttributeValue::S(key.into())),
        ])
    }

    async fn read(&self, id: &str) -> Result<Option<User>, StoreError> {
        let output = self
            .client()
            .await
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::user_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output.item.as_ref().map(user_from_item).transpose()
    }

    fn put(&self, item: Item, condition: &str) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .build()
            .map_err(|e| StoreError::Internal(e.into()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn delete_claim(&self, key: &str, user_id: &str) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Self::email_claim_key(key)))
            .condition_expression("user_id = :id")
            .expression_attribute_values(":id", AttributeValue::S(user_id.into()))
            .build()
            .map_err(|e| StoreError::Internal(e.into()))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Runs one transaction, sending it again while it is throttled and
    /// `budget` lasts; one client request token for every attempt, so a
    /// first attempt that did commit makes the next one a no-op success.
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        budget: &mut Budget,
    ) -> Result<(), Outcome> {
        let token = uuid::Uuid::now_v7().to_string();
        loop {
            let sent = self
                .client()
                .await
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            match sent.map_err(Attempt::from) {
                Ok(_) => return Ok(()),
                Err(Attempt::Throttled(reason)) => {
                    budget.wait(&reason).await.map_err(Outcome::Failed)?;
                }
                Err(Attempt::Ended(outcome)) => return Err(outcome),
            }
        }
    }
}

/// The time one store operation may spend waiting out throttled transactions.
#[derive(Debug)]
struct Budget {
    started: Instant,
    attempt: u32,
}

impl Budget {
    fn start() -> Self {
        Self {
            started: Instant::now(),
            attempt: 0,
        }
    }

    /// Waits before the next attempt, or says why not: the budget is spent.
    async fn wait(&mut self, reason: &str) -> Result<(), StoreError> {
        let ceiling = FIRST_BACK_OFF
            .saturating_mul(1 << self.attempt.min(10))
            .min(MAX_BACK_OFF);
        // Full jitter: clients throttled together do not retry together.
        let jitter = RandomState::new().hash_one(self.attempt);
        let delay = ceiling.mul_f64((jitter % 1000) as f64 / 1000.0);
        self.attempt += 1;
        // A back-off that would end past the request's deadline is not
        // started: the handler would be stopped in the middle of it.
        let past_deadline = shared::deadline::current().is_some_and(|d| delay >= d.remaining());
        if self.started.elapsed() + delay > RETRY_BUDGET || past_deadline {
            let limit = if past_deadline {
                "the request deadline is nearer than the next back-off"
            } else {
                "retry budget spent"
            };
            return Err(StoreError::Unavailable(
                format!(
                    "dynamodb: transaction still throttled after {} attempts in {} ms \
                     ({limit}): {reason}",
                    self.attempt,
                    self.started.elapsed().as_millis()
                )
                .into(),
            ));
        }
        tracing::warn!(
            attempt = self.attempt,
            delay_ms = delay.as_millis(),
            reason,
            "dynamodb transaction throttled; retrying"
        );
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

/// Why a transaction did not commit.
enum Outcome {
    /// The condition of the item at this index failed.
    ConditionFailed(usize),
    /// Another transaction held one of the items: try again.
    Conflict,
    /// Anything else.
    Failed(StoreError),
}

/// What a failed attempt at a transaction calls for.
enum Attempt {
    /// Throttled, or the same transaction is still running: send it again.
    Throttled(String),
    /// The transaction did not commit, for this reason.
    Ended(Outcome),
}

impl From<SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>>
    for Attempt
{
    fn from(
        error: SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
    ) -> Self {
        if let SdkError::ServiceError(service) = &error
            && let TransactWriteItemsError::TransactionCanceledException(cancelled) = service.err()
        {
            let codes: Vec<&str> = cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect();
            if let Some(index) = codes.iter().position(|c| *c == "ConditionalCheckFailed") {
                return Self::Ended(Outcome::ConditionFailed(index));
            }
            if codes.contains(&"TransactionConflict") {
                return Self::Ended(Outcome::Conflict);
            }
            if let Some(code) = codes
                .iter()
                .find(|c| matches!(**c, "ThrottlingError" | "ProvisionedThroughputExceeded"))
            {
                return Self::Throttled(format!("transaction cancelled: {code}"));
            }
        }
        if let SdkError::ServiceError(service) = &error
            && let TransactWriteItemsError::TransactionInProgressException(_) = service.err()
        {
            return Self::Throttled("TransactionInProgressException".into());
        }
        Self::Ended(Outcome::Failed(classify(error)))
    }
}

/// Throttling and an unreachable endpoint are worth a retry (503); the rest is a fault.
fn classify<E>(error: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let transient = match &error {
        // No answer, or one that could not be read: the endpoint is unwell.
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        // Any 5xx is a server-side failure (InternalFailure and the like).
        SdkError::ServiceError(service) if service.raw().status().is_server_error() => true,
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ThrottlingException"
                    | "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
            )
        ),
        _ => false,
    };
    let cause = format!("dynamodb: {}", DisplayErrorContext(&error)).into();
    if transient {
        StoreError::Unavailable(cause)
    } else {
        StoreError::Internal(cause)
    }
}

async fn back_off(attempt: u32) {
    tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
}

fn lost_race() -> StoreError {
    StoreError::Unavailable("dynamodb: the item kept changing under concurrent writes".into())
}

fn user_item(user: &User) -> Item {
    let mut item = DynamoStore::user_key(&user.id);
    item.insert("name".into(), AttributeValue::S(user.name.clone()));
    item.insert("email".into(), AttributeValue::S(user.email.clone()));
    item.insert(
        "email_key".into(),
        AttributeValue::S(email_key(&user.email)),
    );
    item.insert(
        "created_at".into(),
        AttributeValue::S(user.created_at.clone()),
    );
    item
}

fn user_from_item(item: &Item) -> Result<User, StoreError> {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| {
                StoreError::Internal(format!("dynamodb: user item without `{name}`").into())
            })
    };
    Ok(User {
        id: text("sk")?,
        name: text("name")?,
        email: text("email")?,
        created_at: text("created_at")?,
    })
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn create(&self, user: User) -> Result<User, StoreError> {
        let key = email_key(&user.email);
        let mut claim = Self::email_claim_key(&key);
        claim.insert("user_id".into(), AttributeValue::S(user.id.clone()));
        let mut budget = Budget::start();
        for attempt in 0..RACE_ATTEMPTS {
            let items = vec![
                self.put(user_item(&user), "attribute_not_exists(pk)")?,
                self.put(claim.clone(), "attribute_not_exists(pk)")?,
            ];
            match self.transact(items, &mut budget).await {
                Ok(()) => return Ok(user),
                Err(Outcome::ConditionFailed(index)) => {
                    // The SDK retries a transaction whose answer timed out;
                    // if that first try committed, this one meets its own
                    // items (ids are fresh UUIDv7s): that is a success.
                    if let Some(existing) = self.read(&user.id).await?
                        && existing.email == user.email
                    {
                        return Ok(existing);
                    }
                    return Err(if index == 1 {
                        StoreError::EmailTaken
                    } else {
                        StoreError::Internal("dynamodb: user id collision".into())
                    });
                }
                Err(Outcome::Conflict) => back_off(attempt).await,
                Err(Outcome::Failed(error)) => return Err(error),
            }
        }
        Err(lost_race())
    }

    async fn get(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.read(id).await
    }

    async fn list(&self, limit: usize, after: Option<String>) -> Result<Page, StoreError> {
        let mut users = Vec::with_capacity(limit.min(100) + 1);
        let mut start = after.map(|id| Self::user_key(&id));
        // One extra user tells whether another page follows; a query page
        // may stop early at 1 MB, so keep going until it is there or none is.
        while users.len() <= limit {
            let wanted = i32::try_from(limit + 1 - users.len()).unwrap_or(i32::MAX);
            let output = self
                .client()
                .await
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(USER.into()))
                .set_exclusive_start_key(start.take())
                .limit(wanted)
                .consistent_read(true)
                .send()
                .await
                .map_err(classify)?;
            for item in output.items() {
                users.push(user_from_item(item)?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        let next_after = if users.len() > limit {
            users.truncate(limit);
            users.last().map(|u| u.id.clone())
        } else {
            None
        };
        Ok(Page { users, next_after })
    }

    async fn update(&self, id: &str, input: UserInput) -> Result<Option<User>, StoreError> {
        let mut budget = Budget::start();
        for attempt in 0..RACE_ATTEMPTS {
            let Some(current) = self.read(id).await? else {
                return Ok(None);
            };
            let old_key = email_key(&current.email);
            let new_key = email_key(&input.email);
            let updated = User {
                name: input.name.clone(),
                email: input.email.clone(),
                ..current
            };
            // The user item is written only if its email claim is still the one read.
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(Self::user_key(id)))
                .update_expression("SET #name = :name, email = :email, email_key = :new_key")
                .condition_expression("email_key = :old_key")
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":name", AttributeValue::S(updated.name.clone()))
                .expression_attribute_values(":email", AttributeValue::S(updated.email.clone()))
                .expression_attribute_values(":new_key", AttributeValue::S(new_key.clone()))
                .expression_attribute_values(":old_key", AttributeValue::S(old_key.clone()))
                .build()
                .map_err(|e| StoreError::Internal(e.into()))?;
            let mut items = vec![TransactWriteItem::builder().update(update).build()];
            if new_key != old_key {
                let mut claim = Self::email_claim_key(&new_key);
                claim.insert("user_id".into(), AttributeValue::S(id.into()));
                items.push(self.put(claim, "attribute_not_exists(pk)")?);
                items.push(self.delete_claim(&old_key, id)?);
            }
            match self.transact(items, &mut budget).await {
                Ok(()) => return Ok(Some(updated)),
                Err(Outcome::ConditionFailed(1)) => return Err(StoreError::EmailTaken),
                // The user changed or vanished between the read and the write.
                Err(Outcome::ConditionFailed(_) | Outcome::Conflict) => back_off(attempt).await,
                Err(Outcome::Failed(error)) => return Err(error),
            }
        }
        Err(lost_race())
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let mut budget = Budget::start();
        for attempt in 0..RACE_ATTEMPTS {
            let Some(current) = self.read(id).await? else {
                return Ok(false);
            };
            let key = email_key(&current.email);
            let delete_user = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(Self::user_key(id)))
                .condition_expression("email_key = :key")
                .expression_attribute_values(":key", AttributeValue::S(key.clone()))
                .build()
                .map_err(|e| StoreError::Internal(e.into()))?;
            let items = vec![
                TransactWriteItem::builder().delete(delete_user).build(),
                self.delete_claim(&key, id)?,
            ];
            match self.transact(items, &mut budget).await {
                Ok(()) => return Ok(true),
                Err(Outcome::ConditionFailed(_) | Outcome::Conflict) => back_off(attempt).await,
                Err(Outcome::Failed(error)) => return Err(error),
            }
        }
        Err(lost_race())
    }
}
