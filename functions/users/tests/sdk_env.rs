//! `users` told to use DynamoDB (`USERS_TABLE`) takes its region and
//! credentials from the environment, as Lambda gives them, and refuses to
//! start, naming what to set, when they are missing or malformed: before
//! it polls for an event, never at the first request.

const BIN: &str = env!("CARGO_BIN_EXE_users");

/// Everything the SDK could read, removed before each case adds its own.
const AWS_VARIABLES: &[&str] = &[
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "DYNAMODB_ENDPOINT",
    "USERS_DB_PATH",
];

#[test]
fn incomplete_aws_settings_refuse_to_start_naming_what_to_set() {
    let region = ("AWS_REGION", "eu-west-1");
    let key = ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    let secret = ("AWS_SECRET_ACCESS_KEY", "secret");
    // (case, environment, what the refusal says)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: &[Case] = &[
        (
            "no region",
            vec![key, secret],
            "no AWS region: set AWS_REGION",
        ),
        (
            "no credentials (a profile is not read)",
            vec![region, ("AWS_PROFILE", "default")],
            "no AWS credentials: set AWS_ACCESS_KEY_ID",
        ),
        (
            "no secret",
            vec![region, key],
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ),
        (
            "a FIPS flag that is no boolean",
            vec![region, key, secret, ("AWS_USE_FIPS_ENDPOINT", "on")],
            "invalid AWS_USE_FIPS_ENDPOINT: \"on\" (true or false)",
        ),
    ];
    for (case, env, says) in cases {
        let mut env = env.clone();
        env.push(("USERS_TABLE", "users"));
        let (started, output) = testkit::run_to_exit(BIN, "users", AWS_VARIABLES, &env);
        assert!(!started, "{case}: must not start\n{output}");
        assert!(output.contains("start-up failed"), "{case}: {output}");
        assert!(output.contains(says), "{case}: must say {says:?}\n{output}");
    }
    // The control: complete settings start, and it is the Runtime API
    // nobody serves that ends the process.
    let env = [region, key, secret, ("USERS_TABLE", "users")];
    let (_, output) = testkit::run_to_exit(BIN, "users", AWS_VARIABLES, &env);
    assert!(!output.contains("start-up failed"), "{output}");
    assert!(output.contains("users store ready"), "{output}");
}
