//! Service account keys, decided: issued, rotated with a grace period, cleaned up. Pure: the
//! shell reads a service account's access keys and its secret's versions into a [`KeyState`],
//! [`next`] names the one next step, the shell applies it and reads again. One step at a time,
//! each decided from a fresh read, is what makes a rotation interrupted anywhere converge on the
//! next run, and two runs at once safe: nothing is decided from a state another run has since
//! changed by more than one step.
//!
//! The invariant every step keeps: the key the secret holds as current is never deactivated
//! (the shell checks it again right before deactivating anything). A workload that reads the
//! secret always gets a working key.
//!
//! Which keys are Gatehouse's: those whose id a version of the secret carries (the version id
//! is `gatehouse-key-<key id>`), and a key created in the minutes after Gatehouse marked the
//! user as about to create one whose secret never got written (an *orphan*: nobody holds its
//! secret). Any other key was made by hand: never deactivated or deleted here, only reported.

use crate::ids::Timestamp;

/// Version ids of the secret: this prefix and the access key id (Secrets Manager wants 32 to
/// 64 characters; an access key id is 16 to 128, in practice 20).
pub const VERSION_PREFIX: &str = "gatehouse-key-";
/// An orphan is a key created within this long after the intent mark...
const INTENT_WINDOW_NANOS: i128 = 10 * 60 * 1_000_000_000;
/// ...and older than this: younger, it may be another run's key whose secret is being written.
const ORPHAN_AGE_NANOS: i128 = 15 * 60 * 1_000_000_000;
const DAY_NANOS: i128 = 86_400 * 1_000_000_000;
/// IAM's limit of access keys per user.
pub const MAX_KEYS: usize = 2;

/// The secret's version id for the key `key_id`.
pub fn version_id(key_id: &str) -> String {
    format!("{VERSION_PREFIX}{key_id}")
}

/// The key id a version id of Gatehouse's names (`None`: not one of Gatehouse's versions).
pub fn key_of_version(version_id: &str) -> Option<&str> {
    version_id
        .strip_prefix(VERSION_PREFIX)
        .filter(|id| !id.is_empty())
}

/// An access key of the service account's user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub id: String,
    pub active: bool,
    pub created: Timestamp,
}

/// A version of the secret Gatehouse wrote: which key it holds, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub key_id: String,
    pub written: Timestamp,
    /// Staged `AWSCURRENT`: what a workload reads.
    pub current: bool,
}

/// What the shell read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyState {
    pub keys: Vec<Key>,
    /// Gatehouse's versions of the secret (none: no secret yet).
    pub versions: Vec<Version>,
    /// When Gatehouse last marked the user as about to create a key, if the mark is still there.
    pub intent: Option<Timestamp>,
}

/// How often keys are rotated and how long the previous key keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub rotate_days: u32,
    pub grace_days: u32,
}

/// The one next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Mark the intent, create a key, write it to the secret as the current version, clear
    /// the mark.
    Issue {
        rotation: bool,
    },
    Deactivate {
        key_id: String,
        why: &'static str,
    },
    Delete {
        key_id: String,
        why: &'static str,
    },
    /// Clear a stale intent mark (no key came of it).
    ClearIntent,
    /// Nothing to do now.
    Done,
    /// Nothing can be done: a person must act.
    Blocked(String),
}

impl KeyState {
    /// The key the secret holds as current, if it exists and is active.
    fn current(&self) -> Option<(&Key, &Version)> {
        let version = self.versions.iter().find(|v| v.current)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == version.key_id && k.active)?;
        Some((key, version))
    }

    fn written(&self, key: &Key) -> bool {
        self.versions.iter().any(|v| v.key_id == key.id)
    }

    /// A key created just after Gatehouse's intent mark whose secret is not written.
    fn unwritten_since_intent(&self, key: &Key) -> bool {
        let Some(intent) = self.intent else {
            return false;
        };
        let after = key.created.unix_nanos() - intent.unix_nanos();
        // Second precision on both sides: a second early is the same second.
        !self.written(key) && (-1_000_000_000..=INTENT_WINDOW_NANOS).contains(&after)
    }

    /// A key Gatehouse created whose secret was never written.
    fn orphan(&self, key: &Key, now: Timestamp) -> bool {
        self.unwritten_since_intent(key)
            && now.unix_nanos() - key.created.unix_nanos() >= ORPHAN_AGE_NANOS
    }
}

/// The next step for a service account that should have a working key.
pub fn next(state: &KeyState, rotation: Rotation, now: Timestamp) -> Step {
    // Orphans first: nobody holds their secret, and they take one of the two places.
    if let Some(orphan) = state.keys.iter().find(|k| state.orphan(k, now)) {
        return if orphan.active {
            Step::Deactivate {
                key_id: orphan.id.clone(),
                why: "its secret was never written",
            }
        } else {
            Step::Delete {
                key_id: orphan.id.clone(),
                why: "its secret was never written",
            }
        };
    }
    // Too young to be called an orphan: another run may be writing its secret right now.
    if state
        .keys
        .iter()
        .any(|k| state.unwritten_since_intent(k) && !state.orphan(k, now))
    {
        return Step::Done;
    }
    let Some((current, version)) = state.current() else {
        // No working key in the secret: issue one, making room if Gatehouse can.
        return room_or(state, Step::Issue { rotation: false });
    };
    let since_written = now.unix_nanos() - version.written.unix_nanos();
    // Keys the secret held before: the previous one keeps working through the grace period.
    if let Some(key) = state
        .keys
        .iter()
        .find(|k| k.id != current.id && state.written(k))
    {
        if !key.active {
            return Step::Delete {
                key_id: key.id.clone(),
                why: "replaced, and deactivated",
            };
        }
        if since_written >= i128::from(rotation.grace_days) * DAY_NANOS {
            return Step::Deactivate {
                key_id: key.id.clone(),
                why: "replaced, and its grace period is over",
            };
        }
        // Still in its grace period: nothing else moves until it is over.
        return Step::Done;
    }
    let age = now.unix_nanos() - current.created.unix_nanos();
    if age >= i128::from(rotation.rotate_days) * DAY_NANOS {
        return room_or(state, Step::Issue { rotation: true });
    }
    if state.intent.is_some() && state.keys.iter().all(|k| state.written(k)) {
        return Step::ClearIntent;
    }
    Step::Done
}

/// `issue` if the user has room for another key; else the step that makes room (only ever
/// a key of Gatehouse's that is not the current one), or why there is none.
fn room_or(state: &KeyState, issue: Step) -> Step {
    if state.keys.len() < MAX_KEYS {
        return issue;
    }
    let current = state.current().map(|(k, _)| k.id.clone());
    let spare = state
        .keys
        .iter()
        .filter(|k| Some(&k.id) != current.as_ref() && state.written(k));
    if let Some(k) = spare.clone().find(|k| !k.active) {
        return Step::Delete {
            key_id: k.id.clone(),
            why: "making room for a new key",
        };
    }
    if current.is_none() {
        // The secret's key is gone or deactivated (by hand): the workload has no working key
        // from the secret anyway, and one of Gatehouse's old keys makes room.
        if let Some(k) = spare.clone().next() {
            return Step::Deactivate {
                key_id: k.id.clone(),
                why: "making room: the secret's key no longer works",
            };
        }
    }
    Step::Blocked(format!(
        "the user has {} access keys, and {} not Gatehouse's: no room for a new one",
        state.keys.len(),
        state.keys.iter().filter(|k| !state.written(k)).count()
    ))
}

/// Whether `bytes` is EventBridge's `Scheduled Event` (`source: aws.events`): the schedule
/// that rotates keys. Anything else is not.
pub fn is_schedule(bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Scheduled {
        source: String,
        #[serde(rename = "detail-type")]
        detail_type: String,
    }
    serde_json::from_slice::<Scheduled>(bytes)
        .is_ok_and(|s| s.source == "aws.events" && s.detail_type == "Scheduled Event")
}

#[cfg(test)]
mod tests;
