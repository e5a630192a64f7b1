//! What `reconcile` knows of one account: read whole ([`Inventory`]), or why not.

use std::collections::{BTreeMap, BTreeSet};

use crate::ids::{AccountId, Timestamp};
use crate::plan::UserState;

/// One account as `reconcile` found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountState {
    /// Read whole.
    Read(Box<Inventory>),
    /// Not read whole (a listing throttled past its retries, denied): nothing is known, and
    /// nothing is repaired there.
    Unknown { reason: String },
    /// The provisioner role is refused and Gatehouse never laid its baseline there (an
    /// account that joined by invitation): reported, it needs `account-created`.
    NoBaseline,
}

/// What an account holds, as far as drift is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Users under `/gatehouse/people/`, read as the planner reads them (credentials: the
    /// active ones).
    pub people: BTreeMap<String, UserState>,
    /// Names of the users under `/gatehouse/service/`.
    pub service_users: BTreeSet<String>,
    /// Users outside `/gatehouse/`, with their ways in (reported, never changed).
    pub others: Vec<OtherUser>,
    /// Every active access key of every user, with its age.
    pub access_keys: Vec<KeySeen>,
    /// Groups under `/gatehouse/`.
    pub groups: BTreeSet<String>,
    /// The managed policies attached to each group under `/gatehouse/` (every group the
    /// shell lists is read; a group missing here was not, and is not judged).
    pub group_policies: BTreeMap<String, BTreeSet<String>>,
    /// The account's partition, for the ARNs of Gatehouse's own policies.
    pub partition: String,
    /// The permissions boundary of each managed user (people's and service accounts'), by
    /// name (`None`: none).
    pub boundaries: BTreeMap<String, Option<String>>,
    /// Gatehouse's own policies as the account holds them: name → the default version's
    /// document (`None`: the policy is not there). A policy not read is not in the map.
    pub documents: BTreeMap<String, Option<String>>,
    /// The provisioner role's policies (`None`: not read).
    pub provisioner: Option<RolePolicies>,
}

/// A role's policies: managed (ARNs) and inline (names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolePolicies {
    pub attached: BTreeSet<String>,
    pub inline: BTreeSet<String>,
}

/// A user outside `/gatehouse/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherUser {
    pub name: String,
    pub path: String,
    pub console: bool,
    pub active_keys: usize,
}

/// An active access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySeen {
    pub user: String,
    pub key_id: String,
    pub created: Timestamp,
}

/// An account of the organization, as `reconcile` visits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRef {
    pub id: AccountId,
    pub environment: Option<String>,
}
