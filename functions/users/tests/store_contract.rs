//! One contract, every backend: the embedded SQLite store and DynamoDB
//! (through moto's server, a real DynamoDB-compatible process, with the
//! table created from the key schema in serverless.yml).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::SystemTime;

use testkit::dynamo::Moto;
use users::model::{User, UserInput, email_key};
use users::store::dynamodb::DynamoStore;
use users::store::sqlite::SqliteStore;
use users::store::{StoreError, UserStore};

fn user(name: &str, email: &str) -> User {
    User {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.into(),
        email: email.into(),
        created_at: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
    }
}

fn input(name: &str, email: &str) -> UserInput {
    UserInput {
        name: name.into(),
        email: email.into(),
    }
}

async fn all_users(store: &dyn UserStore) -> Vec<User> {
    let mut users = Vec::new();
    let mut after = None;
    loop {
        let page = store.list(100, after).await.expect("list");
        users.extend(page.users);
        match page.next_after {
            Some(next) => after = Some(next),
            None => return users,
        }
    }
}

async fn crud_and_uniqueness(store: &dyn UserStore) {
    let ada = store
        .create(user("Ada", "ada@example.com"))
        .await
        .expect("create");
    assert_eq!(store.get(&ada.id).await.expect("get"), Some(ada.clone()));
    assert!(matches!(
        store.create(user("Copy", "ADA@Example.com")).await,
        Err(StoreError::EmailTaken)
    ));

    let renamed = store
        .update(&ada.id, input("Ada King", "ada.king@example.com"))
        .await
        .expect("update")
        .expect("exists");
    assert_eq!(
        (renamed.id.as_str(), renamed.name.as_str()),
        (ada.id.as_str(), "Ada King")
    );
    assert_eq!(renamed.created_at, ada.created_at);
    assert_eq!(
        store.get(&ada.id).await.expect("get"),
        Some(renamed.clone())
    );
    // The old email is free, the new one is taken.
    let reuse = store
        .create(user("New Ada", "ada@example.com"))
        .await
        .expect("old email is free");
    assert!(matches!(
        store.create(user("Clash", "Ada.King@example.com")).await,
        Err(StoreError::EmailTaken)
    ));
    // Same user, same email in another case: allowed.
    store
        .update(&ada.id, input("Ada King", "ADA.KING@example.com"))
        .await
        .expect("own email")
        .expect("exists");
    // Someone else's email: refused, and nothing changes.
    assert!(matches!(
        store
            .update(&reuse.id, input("New Ada", "ada.king@EXAMPLE.com"))
            .await,
        Err(StoreError::EmailTaken)
    ));
    assert_eq!(
        store
            .get(&reuse.id)
            .await
            .expect("get")
            .expect("exists")
            .email,
        "ada@example.com"
    );

    let missing = uuid::Uuid::now_v7().to_string();
    assert_eq!(store.get(&missing).await.expect("get"), None);
    assert_eq!(
        store
            .update(&missing, input("X", "x@y.zz"))
            .await
            .expect("update"),
        None
    );
    assert!(!store.delete(&missing).await.expect("delete"));

    assert!(store.delete(&ada.id).await.expect("delete"));
    assert!(!store.delete(&ada.id).await.expect("delete twice"));
    assert_eq!(store.get(&ada.id).await.expect("get"), None);
    store
        .create(user("Ada again", "ada.king@example.com"))
        .await
        .expect("a deleted user's email is free");
}

async fn pagination(store: &dyn UserStore) {
    let before: HashSet<String> = all_users(store).await.into_iter().map(|u| u.id).collect();
    let mut created = Vec::new();
    for n in 0..23 {
        created.push(
            store
                .create(user(&format!("P{n}"), &format!("p{n}@page.example")))
                .await
                .expect("create")
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store.list(5, after).await.expect("list");
        assert!(page.users.len() <= 5);
        // Writers keep going between pages: users created after the walk
        // started come later in id order; a deleted user simply disappears.
        if pages == 1 {
            store
                .create(user("Late", "late@page.example"))
                .await
                .expect("create");
            assert!(store.delete(&created[22]).await.expect("delete"));
        }
        seen.extend(page.users.iter().map(|u| u.id.clone()));
        pages += 1;
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(pages < 50, "pagination must end");
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no user repeated");
    for id in created.iter().take(22).chain(before.iter()) {
        assert!(
            seen.contains(id),
            "user {id} present for the whole walk was skipped"
        );
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, seen, "id (creation) order");

    let exact = store.list(1000, None).await.expect("list");
    assert_eq!(exact.next_after, None, "no cursor when nothing follows");
}

async fn concurrency(store: Arc<dyn UserStore>) {
    let creates = (0..8).map(|n| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            store
                .create(user(&format!("Racer {n}"), "race@example.com"))
                .await
        })
    });
    let mut created = 0;
    let mut taken = 0;
    for task in creates {
        match task.await.expect("task") {
            Ok(_) => created += 1,
            Err(StoreError::EmailTaken) => taken += 1,
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!((created, taken), (1, 7), "one email, one user");

    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(
            store
                .create(user(&format!("U{n}"), &format!("u{n}@race.example")))
                .await
                .expect("create")
                .id,
        );
    }
    let updates = ids.iter().map(|id| {
        let store = Arc::clone(&store);
        let id = id.clone();
        tokio::spawn(async move { store.update(&id, input("Same", "same@race.example")).await })
    });
    let mut won = 0;
    for task in updates {
        match task.await.expect("task") {
            Ok(Some(_)) => won += 1,
            Ok(None) => panic!("the user exists"),
            Err(StoreError::EmailTaken) => {}
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(won, 1, "one user ends up with the email");

    let users = all_users(store.as_ref()).await;
    let mut keys = HashSet::new();
    for user in &users {
        assert!(
            keys.insert(email_key(&user.email)),
            "email {} held twice",
            user.email
        );
    }
}

async fn contract(store: Arc<dyn UserStore>) {
    crud_and_uniqueness(store.as_ref()).await;
    pagination(store.as_ref()).await;
    concurrency(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_store_keeps_the_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("users.sqlite3")).expect("open");
    contract(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_store_keeps_the_contract() {
    let Some(moto) = Moto::start() else { return };
    moto.create_users_table("users-contract").await;
    contract(Arc::new(DynamoStore::new(moto.client(), "users-contract"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_outage_is_unavailable_then_recovers() {
    let Some(mut moto) = Moto::start() else {
        return;
    };
    moto.create_users_table("users-outage").await;
    let store = DynamoStore::new(moto.client(), "users-outage");
    store
        .create(user("Before", "before@example.com"))
        .await
        .expect("create");
    moto.stop();
    match store.list(10, None).await {
        Err(StoreError::Unavailable(cause)) => assert!(cause.to_string().contains("dynamodb")),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    moto.restart();
    moto.create_users_table("users-outage").await;
    let page = store.list(10, None).await.expect("serves again");
    assert!(page.users.is_empty(), "a restarted moto is empty");
}
