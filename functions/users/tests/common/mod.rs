//! Helpers shared by the long-running black-box tests (`kill.rs`,
//! `soak.rs`): settings from the environment, a seeded generator, and a
//! full listing of the users the function stores.

// Each test binary compiles this module and uses part of it.
#![allow(dead_code, reason = "each test binary uses only some helpers")]

use serde_json::Value;
use testkit::{Emulator, Shape};

pub(crate) const USERS: &str = "/api/v1/users";

/// A number from the environment (`_` separators allowed), or `default`.
pub(crate) fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.trim()
                .replace('_', "")
                .parse()
                .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        })
        .unwrap_or(default)
}

/// xorshift64*: a seeded, dependency-free generator; a run is repeatable
/// per thread (the interleaving between threads is not).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(crate) fn shape(&mut self) -> Shape {
        Shape::ALL[usize::from(self.below(2) == 1)]
    }
}

/// Every stored user, following `next_cursor` to the end.
pub(crate) fn list_all(emulator: &Emulator) -> Vec<Value> {
    let mut users = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100_000 {
        let path = match &cursor {
            Some(c) => format!("{USERS}?limit=100&cursor={c}"),
            None => format!("{USERS}?limit=100"),
        };
        let reply = emulator.request("users", &Shape::HttpV2.event("GET", &path, None));
        assert_eq!(reply.status, 200, "list: {}", reply.text());
        let page = reply.json();
        users.extend(page["users"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return users,
        }
    }
    panic!("listing never ended");
}
