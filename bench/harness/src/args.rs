//! `--name value` options and a `-- command...` tail, without a parser crate.

use std::collections::HashMap;

/// Parsed command line: options by name, and what follows `--`.
#[derive(Debug, Default)]
pub struct Args {
    options: HashMap<String, String>,
    /// Everything after a bare `--` (a command to run).
    pub command: Vec<String>,
}

impl Args {
    /// Reads `--name value` pairs up to `--`; exits with `usage` on anything else.
    pub fn parse(args: impl IntoIterator<Item = String>, usage: &str) -> Self {
        let mut parsed = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--" {
                parsed.command = args.collect();
                break;
            }
            if arg == "-h" || arg == "--help" {
                println!("{usage}");
                std::process::exit(0);
            }
            let Some(name) = arg.strip_prefix("--") else {
                fail(usage, &format!("unexpected argument `{arg}`"));
            };
            let Some(value) = args.next() else {
                fail(usage, &format!("`{arg}` needs a value"));
            };
            parsed.options.insert(name.to_owned(), value);
        }
        parsed
    }

    /// The value of `--name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }

    /// The value of `--name`; exits with a message when missing.
    pub fn required(&self, name: &str, usage: &str) -> &str {
        self.get(name)
            .unwrap_or_else(|| fail(usage, &format!("--{name} is required")))
    }

    /// `--name` as a number, or `default`; exits when it is not a number.
    pub fn number<T: std::str::FromStr>(&self, name: &str, default: T, usage: &str) -> T {
        match self.get(name) {
            None => default,
            Some(raw) => raw
                .parse()
                .unwrap_or_else(|_| fail(usage, &format!("--{name}: `{raw}` is not a number"))),
        }
    }
}

/// Prints `message` and the usage to stderr, exits with status 2.
pub fn fail(usage: &str, message: &str) -> ! {
    eprintln!("error: {message}\n\n{usage}");
    std::process::exit(2)
}
