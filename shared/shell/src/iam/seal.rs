//! Sealing a user: closing every way in, in an order that holds under faults.
//!
//! Once the user is proven Gatehouse's (its path and employee tag), the two closers go first,
//! before any credential is listed: the deny-all policy is attached and the console login
//! deleted (each skipped only when known to be done, [`seal_first`]). Then every kind of
//! credential and every group membership is listed, each listing on its own, and whatever was
//! listed is deactivated or removed. A listing or an action that fails does not stop the rest;
//! the seal then ends in an error, so that the message is delivered again and the rest is done,
//! and the user is tagged disabled only once nothing is left.

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
        let (deny_all, login_profile) =
            futures::join!(self.has_deny_all(name), self.has_login_profile(name));
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
        for action in &first {
            if let Err(e) = self.apply(name, action).await {
                failures.push(e);
            }
        }
        // The rest, from whatever could be listed.
        let (groups, credentials) =
            futures::join!(self.managed_groups(name), self.credential_listings(name));
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
        for action in &then {
            // The disabled tag says everything is closed: not while anything failed (the
            // planner puts it last, after every closing action).
            if matches!(action, Action::Tag(_)) && !failures.is_empty() {
                continue;
            }
            if let Err(e) = self.apply(name, action).await {
                failures.push(e);
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
