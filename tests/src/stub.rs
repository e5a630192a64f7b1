//! The latency stub of `bench-fanout`: an organization of any size, answered from canned
//! responses after a fixed delay, for the calls of an offboarding.
//!
//! The emulator answers a few hundred calls a second on one core, so an offboarding across
//! hundreds of accounts measures the emulator, not Gatehouse. The stub takes it out of the
//! critical path: IAM and STS answer with what the emulator answered for one real account
//! (recorded by the [`Proxy`] during a real offboarding there), Organizations with a listing
//! of as many accounts as asked, each tagged with one environment. Every account then looks
//! like that one real account, with the leaver's user active in it. EventBridge answers from
//! the recording too (the emulator takes about 60 ms to route each PutEvents of ten outcomes,
//! one at a time: over a second for an offboarding across 200 accounts, which would be the
//! emulator's figure, not Gatehouse's); DynamoDB (two calls an event) still goes to the
//! emulator. The proxy adds the same latency to every answer, canned or forwarded.

use std::collections::BTreeMap;

use crate::proxy::{Answer, Call, Injected, Proxy};

/// The first of the stub's account ids; the rest follow it.
const FIRST_ACCOUNT: u64 = 500_000_000_000;

/// The account ids the stub lists, `count` of them.
pub fn account_ids(count: usize) -> Vec<String> {
    (0..count as u64)
        .map(|i| format!("{:012}", FIRST_ACCOUNT + i))
        .collect()
}

/// Answers the IAM, STS, Organizations and EventBridge calls through `proxy` from `recorded` (answers by
/// `service:Operation`), as an organization of `accounts` accounts tagged `tag=environment`.
/// The organization's own description comes from `recorded` too.
pub fn install(
    proxy: &Proxy,
    recorded: BTreeMap<String, Answer>,
    accounts: usize,
    tag: &str,
    environment: &str,
) {
    let listing = list_accounts(accounts);
    let tags = serde_json::json!({ "Tags": [{ "Key": tag, "Value": environment }] }).to_string();
    proxy.inject(move |call: &Call| {
        let ok = |body: &str| {
            Some(Injected {
                status: 200,
                body: body.to_owned(),
            })
        };
        match (call.service.as_str(), call.operation.as_str()) {
            ("organizations", "ListAccounts") => ok(&listing),
            ("organizations", "ListTagsForResource") => ok(&tags),
            ("organizations" | "iam" | "sts" | "events", _) => {
                let key = format!("{}:{}", call.service, call.operation);
                let answer = recorded.get(&key).unwrap_or_else(|| {
                    panic!("the stub has no answer for {key}: record a run that makes it")
                });
                Some(Injected {
                    status: answer.status,
                    body: answer.body.clone(),
                })
            }
            _ => None,
        }
    });
}

/// A ListAccounts answer (JSON protocol) with `count` ACTIVE accounts, in one page.
fn list_accounts(count: usize) -> String {
    let accounts: Vec<serde_json::Value> = account_ids(count)
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            serde_json::json!({
                "Id": id,
                "Arn": format!("arn:aws:organizations::000000000000:account/o-stub/{id}"),
                "Email": format!("stub-{i}@aws.example.com"),
                "Name": format!("stub-{i:04}"),
                "Status": "ACTIVE",
                "State": "ACTIVE",
                "JoinedMethod": "CREATED",
                "JoinedTimestamp": 1_790_000_000.0
            })
        })
        .collect();
    serde_json::json!({ "Accounts": accounts }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_holds_as_many_distinct_twelve_digit_accounts_as_asked() {
        let listing: serde_json::Value = serde_json::from_str(&list_accounts(3)).unwrap();
        let ids: Vec<&str> = listing["Accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["Id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["500000000000", "500000000001", "500000000002"]);
    }
}
