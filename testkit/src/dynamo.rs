//! A real DynamoDB-compatible server for tests: moto's server process
//! (`pip install 'moto[server]'`), on a free loopback port, and the users
//! table created with the key schema declared in `serverless.yml`.

use std::process::{Child, Command, Stdio};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use serde_yaml_ng::Value;

use crate::process::{SETUP_FIX, free_port, require_tool, wait_for_port, workspace_root};

/// Credentials and region for a local server; no AWS account is involved.
pub const TEST_ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
];

/// A moto server process, killed when dropped.
#[derive(Debug)]
pub struct Moto {
    child: Option<Child>,
    port: u16,
}

impl Moto {
    /// Starts moto on a free port, or `None` (after a SKIP message) without it.
    pub fn start() -> Option<Self> {
        if !require_tool("moto_server", &["--help"], SETUP_FIX) {
            return None;
        }
        let mut moto = Self {
            child: None,
            port: free_port(),
        };
        moto.restart();
        Some(moto)
    }

    /// The endpoint URL for `DYNAMODB_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server (an outage); its data is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        let mut child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        wait_for_port(self.port, &mut child, "moto_server");
        self.child = Some(child);
    }

    /// A client for this server.
    pub fn client(&self) -> Client {
        let config = aws_sdk_dynamodb::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "testing", "testing", None, None, "testkit",
            ))
            .endpoint_url(self.endpoint())
            .http_client(
                shared::https::SdkHttpClient::new(shared::https::Roots::None)
                    .expect("a TLS set-up that trusts nothing")
                    .shared(),
            )
            .build();
        Client::from_conf(config)
    }

    /// Creates the users table as `serverless.yml` declares it.
    pub async fn create_users_table(&self, table: &str) {
        let (attributes, keys) = users_table_schema();
        self.client()
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(attributes))
            .set_key_schema(Some(keys))
            .send()
            .await
            .expect("create the users table");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `AttributeDefinitions` and `KeySchema` of `UsersTable` in `serverless.yml`.
pub fn users_table_schema() -> (Vec<AttributeDefinition>, Vec<KeySchemaElement>) {
    let path = workspace_root().join("serverless.yml");
    let text = std::fs::read_to_string(&path).expect("serverless.yml");
    let document: Value = serde_yaml_ng::from_str(&text).expect("serverless.yml is YAML");
    let properties = &document["resources"]["Resources"]["UsersTable"]["Properties"];
    let text_of = |value: &Value, key: &str| {
        value[key]
            .as_str()
            .unwrap_or_else(|| panic!("serverless.yml UsersTable: `{key}` in {value:?}"))
            .to_owned()
    };
    let attributes = properties["AttributeDefinitions"]
        .as_sequence()
        .expect("UsersTable AttributeDefinitions")
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(text_of(a, "AttributeName"))
                .attribute_type(ScalarAttributeType::from(
                    text_of(a, "AttributeType").as_str(),
                ))
                .build()
                .expect("attribute definition")
        })
        .collect();
    let keys = properties["KeySchema"]
        .as_sequence()
        .expect("UsersTable KeySchema")
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(text_of(k, "AttributeName"))
                .key_type(KeyType::from(text_of(k, "KeyType").as_str()))
                .build()
                .expect("key schema element")
        })
        .collect();
    (attributes, keys)
}
