//! How a change is made durable: its HR events first, then the store; and after a lost race,
//! the truth once more.
//!
//! Events go first so that a stored change has always had its events taken by the bus (a
//! failure in between leaves the old state stored, and the provider's retry sends the same
//! events again). The price is the lost race: two requests read the same version, both send
//! their events, one write wins. The loser's events are then the newest the directory has seen
//! and may say the opposite of what the store holds (an onboarding from a group push, sent
//! after a deactivation that won the write). So the loser, before it answers `409`, reads what
//! the store now says of each employee its events named and sends that again, newer than
//! anything before it: the directory ends where the store is.

use std::collections::BTreeSet;

use gatehouse_core::hr_event::Change;
use gatehouse_core::ids::{EmployeeId, Team};
use gatehouse_core::scim::person::entitlement;
use gatehouse_core::scim::Kind;

use super::store::{Claim, Write, WriteError};
use super::{Failure, Scim};

impl Scim {
    /// Sends `events`, then writes `writes` (all or none).
    pub(crate) async fn commit(
        &self,
        events: &[(EmployeeId, Change)],
        writes: Vec<Write>,
    ) -> Result<(), Failure> {
        self.send(events).await?;
        match self.store.write(writes).await {
            Ok(()) => Ok(()),
            Err(WriteError::Conflict) if !events.is_empty() => {
                let named: BTreeSet<EmployeeId> = events.iter().map(|(id, _)| id.clone()).collect();
                if let Err(e) = self.send_the_truth(&named).await {
                    tracing::error!(
                        error = ?e,
                        "a lost race sent HR events the store does not hold, and sending the truth again failed"
                    );
                    return Err(e);
                }
                Err(WriteError::Conflict.into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// For each employee: an onboarding with what the store's user holding that employee id
    /// is entitled to, or an offboarding if none is.
    async fn send_the_truth(&self, employees: &BTreeSet<EmployeeId>) -> Result<(), Failure> {
        let mut truth = Vec::new();
        for id in employees {
            let holder = self
                .store
                .holder(&Claim::Employee(id.as_str().to_owned()))
                .await?;
            let user = match holder {
                Some(user) => self.store.get(Kind::User, &user).await?,
                None => None,
            };
            let entitled = user
                .and_then(|u| {
                    let person = self.person(&u.doc).ok()?;
                    entitlement(&person, u.team.map(Team::from_record))
                        .ok()
                        .flatten()
                })
                .filter(|e| e.employee_id == *id);
            truth.push(match entitled {
                Some(e) => e.onboarding(),
                None => (id.clone(), Change::Offboarded),
            });
        }
        self.send(&truth).await
    }
}
