//! The `/api/v1/users` routes: create, list, read, replace, delete.

use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;
use shared::config::Defaults;
use shared::http::{StatusCode, header};
use shared::{ApiError, ErrorBody, FieldError, HandlerResult, Request, Response, Router, get};
use utoipa::{IntoResponses, OpenApi, ToSchema};

use crate::cursor;
use crate::model::{User, UserInput};
use crate::store::UserStore;

/// Where the group is mounted, like FastAPI's `include_router(prefix=...)`.
pub const PREFIX: &str = "/api/v1/users";
/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest accepted `limit`.
pub const MAX_LIMIT: usize = 100;
/// Largest body the group accepts: a name and an email fit many times over,
/// and a refused body is never parsed (`MAX_BODY_BYTES` overrides it).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// What the group declares to `shared::run_with`.
pub const DEFAULTS: Defaults = Defaults::new().max_body_bytes(MAX_BODY_BYTES);

/// What every request of this function shares: the store, opened once.
#[derive(Debug)]
pub struct AppState {
    /// The users store chosen at start-up.
    pub store: Box<dyn UserStore>,
}

/// Reading users (both GETs).
pub const READ_SCOPE: &str = "users:read";
/// Creating, replacing and deleting users.
pub const WRITE_SCOPE: &str = "users:write";

/// The routes of this function, mounted at [`PREFIX`], with the scope each
/// method requires and their OpenAPI description.
pub fn router() -> Router<AppState> {
    let users = Router::new()
        .route(
            "/",
            get(list_users)
                .require(READ_SCOPE)
                .post(create_user)
                .require(WRITE_SCOPE),
        )
        .route(
            "/{id}",
            get(get_user)
                .require(READ_SCOPE)
                .put(replace_user)
                .delete(delete_user)
                .require(WRITE_SCOPE),
        );
    Router::new().nest(PREFIX, users).openapi(UsersApi::openapi)
}

/// The OpenAPI description of the users routes.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(list_users, create_user, get_user, replace_user, delete_user),
    components(schemas(User, UserInput, UserPage, ErrorBody, FieldError)),
    tags((name = "Users", description = "Create, list, read, replace and delete users"))
)]
pub struct UsersApi;

/// How any route can fail in the store (OpenAPI responses).
#[derive(IntoResponses)]
#[allow(dead_code, reason = "describes responses only; ApiError builds them")]
enum StoreFailure {
    #[response(status = 500, description = "Internal error")]
    Internal(ErrorBody),
    #[response(status = 503, description = "The store is unavailable; retry later")]
    Unavailable(ErrorBody),
}

/// How a route taking a JSON user rejects the body (OpenAPI responses).
#[derive(IntoResponses)]
#[allow(dead_code, reason = "describes responses only; ApiError builds them")]
enum BodyRejected {
    #[response(status = 400, description = "The body is not JSON")]
    NotJson(ErrorBody),
    #[response(
        status = 413,
        description = "The body is larger than 16 KiB (or `MAX_BODY_BYTES`)"
    )]
    TooLarge(ErrorBody),
    #[response(
        status = 415,
        description = "The body is not declared as application/json"
    )]
    NotDeclaredJson(ErrorBody),
    #[response(status = 422, description = "The body fails validation")]
    Invalid(ErrorBody),
}

/// One page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    /// Users in creation order.
    users: Vec<User>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    next_cursor: Option<String>,
}

/// Create a user.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    operation_id = "create_user",
    tag = "Users",
    request_body(content = UserInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = User,
            headers(("location" = String, description = "Where the new user lives"))),
        (status = 409, description = "The email is used by another user", body = ErrorBody),
        BodyRejected,
        StoreFailure,
    )
)]
async fn create_user(request: Request, state: Arc<AppState>) -> HandlerResult {
    let input = UserInput::from_body(request.json()?)?;
    let user = User {
        id: uuid::Uuid::now_v7().to_string(),
        name: input.name,
        email: input.email,
        created_at: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
    };
    let user = state.store.create(user).await?;
    let location = request.public_path(&format!("{PREFIX}/{}", user.id));
    Ok(Response::json(StatusCode::CREATED, &user).with_header(header::LOCATION, &location))
}

/// List users, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    operation_id = "list_users",
    tag = "Users",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size, 1..=100 (default 20)"),
        ("cursor" = Option<String>, Query, pattern = r"^(v1\.[0-9a-f]{32})?$(?!\n)", description = "The `next_cursor` of the previous page, unchanged; empty is the first page"),
    ),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 400, description = "The cursor is not one this API issued", body = ErrorBody),
        (status = 422, description = "The limit is out of range", body = ErrorBody),
        StoreFailure,
    )
)]
async fn list_users(request: Request, state: Arc<AppState>) -> HandlerResult {
    let limit = match request.query("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::Validation(vec![FieldError::new(
                    "limit",
                    format!("must be an integer from 1 to {MAX_LIMIT}"),
                )])
            })?,
    };
    // An empty cursor (`?cursor=`) is the first page, like no cursor.
    let after = request
        .query("cursor")
        .filter(|c| !c.is_empty())
        .map(cursor::decode)
        .transpose()?;
    let page = state.store.list(limit, after).await?;
    Ok(Response::ok(&UserPage {
        users: page.users,
        next_cursor: page.next_after.as_deref().map(cursor::encode),
    }))
}

/// Read a user.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    operation_id = "get_user",
    tag = "Users",
    params(("id" = String, Path, format = Uuid, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 404, description = "No such user", body = ErrorBody),
        StoreFailure,
    )
)]
async fn get_user(request: Request, state: Arc<AppState>) -> HandlerResult {
    let id = user_id(&request)?;
    match state.store.get(&id).await? {
        Some(user) => Ok(Response::ok(&user)),
        None => Err(not_found()),
    }
}

/// Replace a user's name and email.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}",
    operation_id = "replace_user",
    tag = "Users",
    params(("id" = String, Path, format = Uuid, description = "The user's id")),
    request_body(content = UserInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated user", body = User),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The email is used by another user", body = ErrorBody),
        BodyRejected,
        StoreFailure,
    )
)]
async fn replace_user(request: Request, state: Arc<AppState>) -> HandlerResult {
    let id = user_id(&request)?;
    let input = UserInput::from_body(request.json()?)?;
    match state.store.update(&id, input).await? {
        Some(user) => Ok(Response::ok(&user)),
        None => Err(not_found()),
    }
}

/// Delete a user.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    operation_id = "delete_user",
    tag = "Users",
    params(("id" = String, Path, format = Uuid, description = "The user's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such user", body = ErrorBody),
        StoreFailure,
    )
)]
async fn delete_user(request: Request, state: Arc<AppState>) -> HandlerResult {
    let id = user_id(&request)?;
    if state.store.delete(&id).await? {
        Ok(Response::no_content())
    } else {
        Err(not_found())
    }
}

/// The `{id}` of the path, in the form the stores hold: a UUID in its
/// hyphenated form (either case); anything else is no user's id, a 404
/// before the store is asked (DynamoDB would refuse a key over 1,024 bytes).
fn user_id(request: &Request) -> Result<String, ApiError> {
    request
        .param("id")
        .filter(|id| id.len() == uuid::fmt::Hyphenated::LENGTH)
        .and_then(|id| uuid::Uuid::try_parse(id).ok())
        .map(|id| id.hyphenated().to_string())
        .ok_or_else(not_found)
}

fn not_found() -> ApiError {
    ApiError::NotFound("user not found".into())
}
