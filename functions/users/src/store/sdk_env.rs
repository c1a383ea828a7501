//! What the DynamoDB client takes from the environment: read once at
//! start-up, as Lambda sets it, and refused there when it is incomplete.
//!
//! - region: `AWS_REGION` (Lambda sets it), else `AWS_DEFAULT_REGION`;
//! - credentials: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, for
//!   temporary ones such as the execution role's, `AWS_SESSION_TOKEN`;
//! - endpoint: `DYNAMODB_ENDPOINT` (a local DynamoDB-compatible server),
//!   else the SDK's own `AWS_ENDPOINT_URL_DYNAMODB`, then `AWS_ENDPOINT_URL`
//!   (both ignored under `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`); none:
//!   the region's AWS endpoint;
//! - `AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`: `true` or
//!   `false`.
//!
//! This is what `aws-config`'s default chain finds in Lambda, without
//! linking the chain: profiles, SSO, web identity, container and instance
//! credentials are never what a Lambda function's role gives it, and they
//! were a tenth of the `users` binary (`bench/README.md`, Size). To run
//! against AWS from a machine with a profile, put its credentials in the
//! environment: `eval "$(aws configure export-credentials --format env)"`.

use aws_sdk_dynamodb::config::{BehaviorVersion, Builder, Credentials, Region};

/// The client settings read from the environment.
#[derive(Debug, Clone)]
pub struct SdkEnv {
    region: String,
    credentials: Credentials,
    endpoint: Option<String>,
    use_fips: bool,
    use_dual_stack: bool,
}

impl SdkEnv {
    /// Reads the settings from the process's environment.
    pub fn from_process() -> Result<Self, String> {
        Self::read(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `var` (a variable's value, if set); an
    /// empty value counts as unset. Every error names what to set.
    pub fn read(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let setting = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let flag = |name: &str| match setting(name) {
            None => Ok(false),
            Some(value) if value.eq_ignore_ascii_case("true") => Ok(true),
            Some(value) if value.eq_ignore_ascii_case("false") => Ok(false),
            Some(value) => Err(format!("invalid {name}: {value:?} (true or false)")),
        };
        let region = setting("AWS_REGION")
            .or_else(|| setting("AWS_DEFAULT_REGION"))
            .ok_or("no AWS region: set AWS_REGION (Lambda sets it)")?;
        let (Some(key), Some(secret)) = (
            setting("AWS_ACCESS_KEY_ID"),
            setting("AWS_SECRET_ACCESS_KEY"),
        ) else {
            return Err("no AWS credentials: set AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY, and AWS_SESSION_TOKEN for temporary ones \
                 (Lambda sets all three from the function's role; from a profile: \
                 eval \"$(aws configure export-credentials --format env)\")"
                .into());
        };
        let token = setting("AWS_SESSION_TOKEN");
        let configured = if flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")? {
            None
        } else {
            setting("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| setting("AWS_ENDPOINT_URL"))
        };
        Ok(Self {
            region,
            credentials: Credentials::new(key, secret, token, None, "environment"),
            endpoint: setting("DYNAMODB_ENDPOINT").or(configured),
            use_fips: flag("AWS_USE_FIPS_ENDPOINT")?,
            use_dual_stack: flag("AWS_USE_DUALSTACK_ENDPOINT")?,
        })
    }

    /// Where the client sends its calls; `None`: the region's AWS endpoint.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// A client configuration with these settings (the caller adds the
    /// HTTP client, retries, timeouts and interceptors).
    pub fn config(&self) -> Builder {
        let mut config = Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(self.credentials.clone())
            .use_fips(self.use_fips)
            .use_dual_stack(self.use_dual_stack);
        if let Some(endpoint) = &self.endpoint {
            config = config.endpoint_url(endpoint);
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::config::ProvideCredentials;

    use super::*;

    const BASE: [(&str, &str); 3] = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];

    fn read(pairs: &[(&str, &str)], unset: &[&str]) -> Result<SdkEnv, String> {
        let mut env: HashMap<String, String> = BASE
            .iter()
            .chain(pairs)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        for name in unset {
            env.remove(*name);
        }
        SdkEnv::read(|name| env.get(name).cloned())
    }

    #[test]
    fn settings_as_lambda_gives_them_and_their_overrides() {
        // (case, added, removed, region, endpoint, fips, dual stack)
        type Case<'a> = (
            &'a str,
            &'a [(&'a str, &'a str)],
            &'a [&'a str],
            &'a str,
            Option<&'a str>,
            bool,
            bool,
        );
        let cases: &[Case] = &[
            ("Lambda's", &[], &[], "eu-west-1", None, false, false),
            (
                "the default region alone",
                &[("AWS_DEFAULT_REGION", "us-east-2")],
                &["AWS_REGION"],
                "us-east-2",
                None,
                false,
                false,
            ),
            (
                "AWS_REGION wins",
                &[("AWS_DEFAULT_REGION", "us-east-2")],
                &[],
                "eu-west-1",
                None,
                false,
                false,
            ),
            (
                "an empty AWS_REGION is unset",
                &[("AWS_REGION", " "), ("AWS_DEFAULT_REGION", "us-east-2")],
                &[],
                "us-east-2",
                None,
                false,
                false,
            ),
            (
                "the SDK's service endpoint",
                &[
                    ("AWS_ENDPOINT_URL", "http://any:1"),
                    ("AWS_ENDPOINT_URL_DYNAMODB", "http://ddb:2"),
                ],
                &[],
                "eu-west-1",
                Some("http://ddb:2"),
                false,
                false,
            ),
            (
                "the SDK's global endpoint",
                &[("AWS_ENDPOINT_URL", "http://any:1")],
                &[],
                "eu-west-1",
                Some("http://any:1"),
                false,
                false,
            ),
            (
                "DYNAMODB_ENDPOINT wins",
                &[
                    ("AWS_ENDPOINT_URL_DYNAMODB", "http://ddb:2"),
                    ("DYNAMODB_ENDPOINT", "http://local:3"),
                ],
                &[],
                "eu-west-1",
                Some("http://local:3"),
                false,
                false,
            ),
            (
                "configured endpoints ignored",
                &[
                    ("AWS_ENDPOINT_URL_DYNAMODB", "http://ddb:2"),
                    ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"),
                ],
                &[],
                "eu-west-1",
                None,
                false,
                false,
            ),
            (
                "FIPS and dual stack",
                &[
                    ("AWS_USE_FIPS_ENDPOINT", "true"),
                    ("AWS_USE_DUALSTACK_ENDPOINT", "True"),
                ],
                &[],
                "eu-west-1",
                None,
                true,
                true,
            ),
            (
                "both off",
                &[
                    ("AWS_USE_FIPS_ENDPOINT", "false"),
                    ("AWS_USE_DUALSTACK_ENDPOINT", ""),
                ],
                &[],
                "eu-west-1",
                None,
                false,
                false,
            ),
        ];
        for (case, added, removed, region, endpoint, fips, dual_stack) in cases {
            let env = read(added, removed).unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(env.region, *region, "{case}");
            assert_eq!(env.endpoint(), *endpoint, "{case}");
            assert_eq!(
                (env.use_fips, env.use_dual_stack),
                (*fips, *dual_stack),
                "{case}"
            );
        }
    }

    #[test]
    fn incomplete_settings_are_refused_naming_what_to_set() {
        // (case, added, removed, what the error says)
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str], &'a str);
        let cases: &[Case] = &[
            ("no region", &[], &["AWS_REGION"], "set AWS_REGION"),
            (
                "no key id",
                &[],
                &["AWS_ACCESS_KEY_ID"],
                "set AWS_ACCESS_KEY_ID",
            ),
            (
                "an empty secret",
                &[("AWS_SECRET_ACCESS_KEY", "")],
                &[],
                "AWS_SECRET_ACCESS_KEY",
            ),
            (
                "a FIPS flag that is no boolean",
                &[("AWS_USE_FIPS_ENDPOINT", "yes")],
                &[],
                "invalid AWS_USE_FIPS_ENDPOINT: \"yes\"",
            ),
            (
                "an ignore flag that is no boolean",
                &[("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "1")],
                &[],
                "invalid AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
            ),
        ];
        for (case, added, removed, says) in cases {
            let error = read(added, removed).expect_err(case);
            assert!(error.contains(says), "{case}: {error}");
        }
    }

    #[test]
    fn the_credentials_are_the_environments_with_the_session_token() {
        let env = read(&[("AWS_SESSION_TOKEN", "token")], &[]).expect("complete");
        let credentials = testkit::block_on(env.credentials.provide_credentials()).expect("static");
        assert_eq!(credentials.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(credentials.secret_access_key(), "secret");
        assert_eq!(credentials.session_token(), Some("token"));
        let without = read(&[], &[]).expect("complete");
        let credentials =
            testkit::block_on(without.credentials.provide_credentials()).expect("static");
        assert_eq!(credentials.session_token(), None);
    }
}
