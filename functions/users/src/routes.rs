//! The `/api/v1/users` routes: create, list, read, replace, delete.

use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;
use shared::http::{StatusCode, header};
use shared::{ApiError, FieldError, HandlerResult, Request, Response, Router, get};

use crate::AppState;
use crate::cursor;
use crate::model::{User, UserInput};

/// Where the group is mounted, like FastAPI's `include_router(prefix=...)`.
pub const PREFIX: &str = "/api/v1/users";
/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest accepted `limit`.
pub const MAX_LIMIT: usize = 100;

/// The routes of this function, mounted at [`PREFIX`].
pub fn router() -> Router<AppState> {
    let users = Router::new()
        .route("/", get(list_users).post(create_user))
        .route("/{id}", get(get_user).put(replace_user).delete(delete_user));
    Router::new().nest(PREFIX, users)
}

#[derive(Debug, Serialize)]
struct UserPage {
    users: Vec<User>,
    next_cursor: Option<String>,
}

async fn create_user(request: Request, state: Arc<AppState>) -> HandlerResult {
    let input = UserInput::from_json(&request.json()?)?;
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
    let after = request.query("cursor").map(cursor::decode).transpose()?;
    let page = state.store.list(limit, after).await?;
    Ok(Response::ok(&UserPage {
        users: page.users,
        next_cursor: page.next_after.as_deref().map(cursor::encode),
    }))
}

async fn get_user(request: Request, state: Arc<AppState>) -> HandlerResult {
    let id = user_id(&request)?;
    match state.store.get(id).await? {
        Some(user) => Ok(Response::ok(&user)),
        None => Err(not_found()),
    }
}

async fn replace_user(request: Request, state: Arc<AppState>) -> HandlerResult {
    let id = user_id(&request)?;
    let input = UserInput::from_json(&request.json()?)?;
    match state.store.update(id, input).await? {
        Some(user) => Ok(Response::ok(&user)),
        None => Err(not_found()),
    }
}

async fn delete_user(request: Request, state: Arc<AppState>) -> HandlerResult {
    let id = user_id(&request)?;
    if state.store.delete(id).await? {
        Ok(Response::no_content())
    } else {
        Err(not_found())
    }
}

fn user_id(request: &Request) -> Result<&str, ApiError> {
    request.param("id").ok_or_else(not_found)
}

fn not_found() -> ApiError {
    ApiError::NotFound("user not found".into())
}
