//! What one employee should hold, and where to look: the decisions between the directory record
//! and the per-account [`plan`](crate::plan). Which environments the policy grants the person
//! (and which it refuses), which accounts an event must visit, and which of the person's user
//! names must be sealed in an account, with what disable time.

use std::collections::{BTreeMap, BTreeSet};

use crate::hr_event::Change;
use crate::ids::{AccountId, EventId};
use crate::plan::{Desired, DesiredState};
use crate::policy::{Grant, Policy};
use crate::record::EmployeeRecord;
use crate::standing::Status;

/// The policy's answer for one person: the environments they get (with their groups) and the
/// ones their team reaches but they may not enter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// environment -> groups.
    pub granted: BTreeMap<String, BTreeSet<String>>,
    pub refused: Vec<Refusal>,
}

/// A grant the policy refuses (production for someone not on its allow list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub environment: String,
    pub reason: String,
}

impl Access {
    /// What `record` is granted under `policy`. A leaver, or someone with no known team, is
    /// granted nothing and refused nothing.
    pub fn of(record: &EmployeeRecord, policy: &Policy) -> Access {
        let mut access = Access::default();
        let (Status::Active, Some(team)) = (record.status, &record.team) else {
            return access;
        };
        for grant in policy.grants(team, &record.employee_id) {
            match grant {
                Grant::Allowed {
                    environment,
                    groups,
                } => {
                    access.granted.insert(environment, groups);
                }
                Grant::Refused {
                    environment,
                    reason,
                } => access.refused.push(Refusal {
                    environment,
                    reason,
                }),
            }
        }
        access
    }

    /// The groups the person should hold in an account of `environment` (`None`: no access
    /// there, or an account with no environment).
    pub fn groups_in(&self, environment: Option<&str>) -> Option<(&String, &BTreeSet<String>)> {
        environment.and_then(|env| self.granted.get_key_value(env))
    }
}

/// Which accounts one event must visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The accounts of the environments the person is granted: enough for a first onboarding.
    Granted,
    /// Every ACTIVE account: a leaver or a mover may hold users anywhere.
    Everywhere,
    /// One account (a work item for a new account).
    One(AccountId),
}

impl Scope {
    /// The scope of an HR event, given the record before and after it. A first onboarding (or
    /// a redelivery of it) needs only the accounts it grants. Anything that may have left
    /// access behind elsewhere (a rehire, a newer onboarding into another team or under another
    /// address, a transfer, an offboarding) converges every account.
    pub fn of_hr_event(
        change: &Change,
        before: Option<&EmployeeRecord>,
        after: &EmployeeRecord,
    ) -> Scope {
        let same_access = |b: &EmployeeRecord| {
            b.status == Status::Active && b.team == after.team && b.user_name == after.user_name
        };
        match change {
            Change::Onboarded { .. } if before.is_none_or(same_access) => Scope::Granted,
            _ => Scope::Everywhere,
        }
    }

    /// The scope of an `Employee Sync` work item.
    pub fn of_sync(account: Option<&AccountId>) -> Scope {
        match account {
            Some(a) => Scope::One(a.clone()),
            None => Scope::Everywhere,
        }
    }
}

/// What the person's current user should be in an account where they have access.
pub fn active_user(record: &EmployeeRecord, groups: &BTreeSet<String>) -> Option<Desired> {
    let (Some(name), Some(team)) = (&record.user_name, &record.team) else {
        return None;
    };
    Some(Desired {
        user_name: name.clone(),
        employee_id: record.employee_id.clone(),
        state: DesiredState::Active {
            team: team.clone(),
            groups: groups.clone(),
        },
    })
}

/// The user names of the person that must be sealed in an account: every name they have had,
/// except the current one when they keep access there (`access_here`).
pub fn names_to_seal(record: &EmployeeRecord, access_here: bool) -> Vec<&str> {
    let keep = record.user_name.as_deref().filter(|_| access_here);
    record
        .user_names
        .iter()
        .map(String::as_str)
        .filter(|n| Some(*n) != keep)
        .collect()
}

/// What a sealed user of the person should be: disabled by `event`, at the time the person's
/// access there ended: the offboarding's effective time for a leaver; for an active person who
/// no longer has access there (moved, renamed), the effective time of their standing (the move).
/// Effective times, not the clock, so that the same events end in the same tags in any order.
pub fn sealed_user(record: &EmployeeRecord, name: &str, event: &EventId) -> Desired {
    Desired {
        user_name: name.to_owned(),
        employee_id: record.employee_id.clone(),
        state: DesiredState::Disabled {
            at: record.effective_at,
            by: event.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Email, EmployeeId, Team, Timestamp};

    fn policy() -> Policy {
        Policy::builtin().unwrap()
    }

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339("t", s).unwrap()
    }

    fn record(id: &str, team: &str, status: Status, names: &[&str]) -> EmployeeRecord {
        EmployeeRecord {
            employee_id: EmployeeId::parse(id).unwrap(),
            status,
            team: Some(Team::from_record(team.into())),
            user_name: names.first().map(|n| n.to_string()),
            user_names: names.iter().map(|n| n.to_string()).collect(),
            effective_at: at("2026-11-20T17:00:00Z"),
        }
    }

    fn onboarded() -> Change {
        Change::Onboarded {
            email: Email::parse("ada@example.com").unwrap(),
            team: Team::from_record("engineering".into()),
            given_name: None,
            family_name: None,
        }
    }

    #[test]
    fn an_active_engineer_is_granted_development_only() {
        let access = Access::of(
            &record("E1", "engineering", Status::Active, &["a@x.io"]),
            &policy(),
        );
        assert_eq!(
            access.granted,
            BTreeMap::from([(
                "development".to_owned(),
                BTreeSet::from(["developers".to_owned()])
            )])
        );
        assert!(access.refused.is_empty());
        assert!(access.groups_in(Some("development")).is_some());
        assert!(access.groups_in(Some("testing")).is_none());
        assert!(access.groups_in(None).is_none());
    }

    #[test]
    fn production_is_refused_to_the_unlisted_and_granted_to_the_listed() {
        let refused = Access::of(
            &record("E9002", "site-reliability", Status::Active, &["m@x.io"]),
            &policy(),
        );
        assert!(refused.granted.is_empty());
        assert_eq!(refused.refused.len(), 1);
        assert_eq!(refused.refused[0].environment, "production");
        let allowed = Access::of(
            &record("E9001", "site-reliability", Status::Active, &["l@x.io"]),
            &policy(),
        );
        assert!(allowed.granted.contains_key("production"));
        assert!(allowed.refused.is_empty());
    }

    #[test]
    fn a_leaver_is_granted_and_refused_nothing() {
        let access = Access::of(
            &record("E9002", "site-reliability", Status::Offboarded, &["m@x.io"]),
            &policy(),
        );
        assert_eq!(access, Access::default());
    }

    #[test]
    fn a_first_onboarding_visits_only_granted_accounts_anything_else_visits_all() {
        let after = record("E1", "engineering", Status::Active, &["ada@example.com"]);
        assert_eq!(
            Scope::of_hr_event(&onboarded(), None, &after),
            Scope::Granted
        );
        assert_eq!(
            Scope::of_hr_event(&onboarded(), Some(&after), &after),
            Scope::Granted,
            "a redelivery"
        );
        let other_team = record("E1", "qe", Status::Active, &["ada@example.com"]);
        assert_eq!(
            Scope::of_hr_event(&onboarded(), Some(&other_team), &after),
            Scope::Everywhere
        );
        let renamed = record("E1", "engineering", Status::Active, &["old@example.com"]);
        assert_eq!(
            Scope::of_hr_event(&onboarded(), Some(&renamed), &after),
            Scope::Everywhere
        );
        let left = record(
            "E1",
            "engineering",
            Status::Offboarded,
            &["ada@example.com"],
        );
        assert_eq!(
            Scope::of_hr_event(&onboarded(), Some(&left), &after),
            Scope::Everywhere,
            "a rehire"
        );
        assert_eq!(
            Scope::of_hr_event(&Change::Offboarded, None, &after),
            Scope::Everywhere
        );
        let account = AccountId::parse("123456789012").unwrap();
        assert_eq!(Scope::of_sync(Some(&account)), Scope::One(account.clone()));
        assert_eq!(Scope::of_sync(None), Scope::Everywhere);
    }

    #[test]
    fn every_old_name_is_sealed_and_the_current_one_only_without_access() {
        let mut r = record("E1", "engineering", Status::Active, &[]);
        r.user_name = Some("new@x.io".into());
        r.user_names = ["old@x.io".to_owned(), "new@x.io".to_owned()].into();
        assert_eq!(names_to_seal(&r, true), ["old@x.io"]);
        assert_eq!(names_to_seal(&r, false), ["new@x.io", "old@x.io"]);
    }

    #[test]
    fn a_user_is_sealed_at_the_effective_time_of_the_standing_never_the_clock() {
        let event = EventId::parse("ev-1").unwrap();
        let leaver = record("E1", "engineering", Status::Offboarded, &["a@x.io"]);
        let d = sealed_user(&leaver, "a@x.io", &event);
        assert_eq!(d.user_name, "a@x.io");
        assert_eq!(d.employee_id, leaver.employee_id);
        assert_eq!(
            d.state,
            DesiredState::Disabled {
                at: leaver.effective_at,
                by: event.clone()
            }
        );
        let mut mover = record("E1", "qe", Status::Active, &["a@x.io"]);
        mover.effective_at = at("2026-11-21T09:00:00Z");
        let DesiredState::Disabled { at: when, .. } = sealed_user(&mover, "a@x.io", &event).state
        else {
            panic!("not disabled")
        };
        assert_eq!(when, at("2026-11-21T09:00:00Z"));
    }

    #[test]
    fn the_active_user_carries_team_and_groups() {
        let r = record("E1", "engineering", Status::Active, &["a@x.io"]);
        let groups = BTreeSet::from(["developers".to_owned()]);
        let d = active_user(&r, &groups).unwrap();
        assert_eq!(d.user_name, "a@x.io");
        assert_eq!(
            d.state,
            DesiredState::Active {
                team: Team::from_record("engineering".into()),
                groups
            }
        );
        let mut nameless = r.clone();
        nameless.user_name = None;
        assert!(active_user(&nameless, &BTreeSet::new()).is_none());
    }
}
