//! Sealing a user: closing every way in, in an order that holds under faults.
//!
//! The user is read (GetUser: its path and employee tag say whether it is Gatehouse's); then
//! everything else at once: the deny-all attachment, the console login, every kind of
//! credential and every group membership, each listing on its own. Then every closing action
//! at once: the two closers (the deny-all policy attached, the console login deleted; each
//! skipped only when known to be done, [`seal_first`], and taken even when a listing failed)
//! and whatever was listed, deactivated or removed. An account's seal is thus five round trips
//! (AssumeRole, GetUser, the reads, the writes, the disabled tag), whatever it holds. A listing
//! or an action that fails does not stop the rest; the seal then ends in an error, so that the
//! message is delivered again and the rest is done, and the user is tagged disabled only once
//! nothing is left. (A credential made between its listing and the deny-all is useless behind
//! the deny-all, and the next sync or `reconcile` finds it.)

use gatehouse_core::plan::{
    plan, seal_first, Action, Closers, Conflict, Desired, Found, UserState,
};

use super::user::Depth;
use super::AccountIam;
use crate::error::Error;

/// What sealing one user did.
#[derive(Debug)]
pub enum Sealed {
    /// Nothing was left to close.
    AlreadySealed,
    /// Something was closed.
    Closed,
    /// The name belongs to someone else: nothing was touched.
    Conflict(Conflict),
}

impl AccountIam {
    /// Seals the user `name` as `desired` (a disabled state) says.
    pub async fn seal(&self, name: &str, desired: &Desired) -> Result<Sealed, Error> {
        let head = self.read_head(name).await?;
        if !matches!(head, Found::Managed(_)) {
            return match seal_first(desired, &head, Closers::default()) {
                Err(conflict) => Ok(Sealed::Conflict(conflict)),
                Ok(_) => Ok(Sealed::AlreadySealed),
            };
        }
        // Everything else is read at once: the round trips, not the calls, are what a fan-out
        // over hundreds of accounts waits for.
        let (deny_all, login_profile, groups, credentials) = futures::join!(
            self.has_deny_all(name),
            self.has_login_profile(name),
            self.managed_groups(name),
            self.credential_listings(name)
        );
        let closers = Closers {
            deny_all: deny_all.ok(),
            login_profile: login_profile.ok(),
        };
        let first = match seal_first(desired, &head, closers) {
            Ok(actions) => actions,
            Err(conflict) => return Ok(Sealed::Conflict(conflict)),
        };
        let Found::Managed(state) = head else {
            return Ok(Sealed::AlreadySealed);
        };
        let mut failures = Vec::new();
        // The rest, from whatever could be listed, as it stands once the closers are done.
        let mut rest = UserState {
            deny_all: true,
            login_profile: false,
            ..state
        };
        match groups {
            Ok(groups) => rest.managed_groups = groups,
            Err(e) => failures.push(e),
        }
        let (listed, listing_failures) = credentials;
        rest.credentials = listed;
        failures.extend(listing_failures);
        let then = plan(desired, &Found::Managed(rest)).unwrap_or_default();
        // The closers and every other closing action at once; none waits for another, and
        // one that fails does not stop the rest. The closers are taken even when a listing
        // failed, so a listing throttled during a mass layoff leaves no way in open.
        let (labels, closing): (Vec<&Action>, Vec<&Action>) = first
            .iter()
            .chain(&then)
            .partition(|a| matches!(a, Action::Tag(_)));
        let done = futures::future::join_all(closing.iter().map(|a| self.apply(name, a))).await;
        failures.extend(done.into_iter().filter_map(Result::err));
        // The disabled tag says everything is closed: only once nothing failed.
        if failures.is_empty() {
            for action in labels {
                if let Err(e) = self.apply(name, action).await {
                    failures.push(e);
                }
            }
        }
        if let Some(first_failure) = failures.into_iter().next() {
            return Err(first_failure);
        }
        Ok(if first.is_empty() && then.is_empty() {
            Sealed::AlreadySealed
        } else {
            Sealed::Closed
        })
    }

    /// The user under `name`, as far as GetUser tells (path, tags): who it belongs to.
    async fn read_head(&self, name: &str) -> Result<Found, Error> {
        self.read_user(name, Depth::Head).await
    }
}
