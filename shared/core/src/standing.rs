//! An employee's standing, merged from their HR events so that the order the events arrive in
//! never matters.
//!
//! A single "latest event wins" record is not enough: a transfer dated after an offboarding
//! would, arriving first, make the offboarding look stale and leave the leaver's access open.
//! So the standing keeps two registers, each keeping its newest value:
//!
//! - the **person** (e-mail, team): the newest onboarding or transfer;
//! - the **status** (active or offboarded): the newest onboarding or offboarding. A transfer never
//!   changes it: it moves a person, it does not bring a leaver back; only a newer onboarding does.
//!
//! plus every user name the person has had (a set, so that offboarding can seal all of them).
//! Each register keeps the greater of two values by a total order (`effectiveAt`, then a
//! deterministic tie-break), so every arrival order of the same events ends in the same status,
//! team and user name: the same access.
//!
//! One more rule keeps the contract's promise that a late event changes nothing: anything dated
//! before the offboarding that is recorded is history, and stale. (So the history a standing
//! keeps may depend on order: an onboarding that arrives after the offboarding that followed it
//! never made a user, so there is no name to remember. Access never does.)
//!
//! Ties at the same `effectiveAt`: an offboarding beats an onboarding (when in doubt, access
//! closes); between two person facts, the greater facts text wins, which is arbitrary but the
//! same whatever the order.

use std::collections::BTreeSet;

use crate::hr_event::{Change, HrEvent};
use crate::ids::{EmployeeId, Team, Timestamp};

/// An employee's standing: active or offboarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Offboarded,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Offboarded => "offboarded",
        }
    }
}

/// Who the person is, as the newest onboarding or transfer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub email: String,
    pub team: Team,
    /// The IAM user name of `email`.
    pub user_name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// When this was true (`effectiveAt`, nanoseconds since the epoch).
    pub at: i128,
    /// The access-relevant facts, for ties at the same instant.
    pub facts: String,
}

impl Person {
    fn key(&self) -> (i128, &str) {
        (self.at, &self.facts)
    }
}

/// The newest onboarding or offboarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusMark {
    pub status: Status,
    pub at: i128,
}

impl StatusMark {
    /// At the same instant an offboarding outranks an onboarding.
    fn key(&self) -> (i128, u8) {
        (self.at, u8::from(self.status == Status::Offboarded))
    }
}

/// Everything the directory knows of one employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub employee_id: EmployeeId,
    /// Absent only for an employee known from an offboarding alone.
    pub person: Option<Person>,
    /// Absent only for an employee known from transfers alone (onboarded before Gatehouse).
    pub mark: Option<StatusMark>,
    /// Every user name the employee has had.
    pub user_names: BTreeSet<String>,
}

/// What merging one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub standing: Standing,
    /// The standing differs from before: it must be written.
    pub changed: bool,
    /// The event changes nothing and is not the event that set what it speaks of: it is
    /// stale. A redelivery of the newest event is not stale: it converges again, in case the
    /// first delivery stopped halfway.
    pub stale: bool,
}

impl Standing {
    pub fn status(&self) -> Status {
        self.mark.map_or(Status::Active, |m| m.status)
    }

    /// The instant the standing dates from: for a leaver, the offboarding's.
    pub fn effective_at(&self) -> i128 {
        match (self.mark, &self.person) {
            (Some(m), _) if m.status == Status::Offboarded => m.at,
            (m, p) => m
                .map_or(i128::MIN, |m| m.at)
                .max(p.as_ref().map_or(i128::MIN, |p| p.at)),
        }
    }
}

/// Merges `event` into what is known (`None`: nothing yet).
pub fn merge(known: Option<&Standing>, event: &HrEvent) -> Merged {
    let mut standing = known.cloned().unwrap_or_else(|| Standing {
        employee_id: event.employee_id.clone(),
        person: None,
        mark: None,
        user_names: BTreeSet::new(),
    });
    let at = event.effective_at.unix_nanos();
    if let Some(m) = standing.mark {
        if m.status == Status::Offboarded && at < m.at {
            return Merged {
                standing,
                changed: false,
                stale: true,
            };
        }
    }
    let mut current = false;

    if let Some(person) = person_of(&event.change, at) {
        match &standing.person {
            Some(p) if p.key() > person.key() => {}
            Some(p) if p.key() == person.key() => current = true,
            _ => standing.person = Some(person.clone()),
        }
        standing.user_names.insert(person.user_name);
    }
    let mark = match event.change {
        Change::Onboarded { .. } => Some(Status::Active),
        Change::Offboarded => Some(Status::Offboarded),
        Change::Transferred { .. } => None,
    };
    if let Some(status) = mark {
        let mark = StatusMark { status, at };
        match standing.mark {
            Some(m) if m.key() > mark.key() => {}
            Some(m) if m == mark => current = true,
            _ => standing.mark = Some(mark),
        }
    }
    // An onboarding is current only as the status it set: a transfer may since have moved the
    // person, and that is fine.
    if let (Change::Onboarded { .. }, Some(m)) = (&event.change, standing.mark) {
        current = m
            == StatusMark {
                status: Status::Active,
                at,
            };
    }
    let changed = known != Some(&standing);
    Merged {
        stale: !changed && !current,
        changed,
        standing,
    }
}

/// The person an onboarding or a transfer states.
fn person_of(change: &Change, at: i128) -> Option<Person> {
    let (kind, email, team, given_name, family_name) = match change {
        Change::Onboarded {
            email,
            team,
            given_name,
            family_name,
        } => (
            "onboarded",
            email,
            team,
            given_name.clone(),
            family_name.clone(),
        ),
        Change::Transferred { email, team } => ("transferred", email, team, None, None),
        Change::Offboarded => return None,
    };
    let user_name = email.user_name();
    Some(Person {
        facts: format!("{kind}|{user_name}|{team}"),
        email: email.as_str().to_owned(),
        team: team.clone(),
        user_name,
        given_name,
        family_name,
        at,
    })
}

/// The timestamp of an instant in nanoseconds since the epoch, for records and tags.
pub fn timestamp(nanos: i128) -> Timestamp {
    Timestamp::from_unix_nanos(nanos).unwrap_or_else(Timestamp::now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Email, EventId};

    fn event(id: &str, at: &str, change: Change) -> HrEvent {
        HrEvent {
            event_id: EventId::parse(id).unwrap(),
            employee_id: EmployeeId::parse("E1").unwrap(),
            effective_at: Timestamp::parse_rfc3339("effectiveAt", at).unwrap(),
            change,
        }
    }

    fn onboarded(at: &str, email: &str, team: &str) -> HrEvent {
        event(
            &format!("on-{at}"),
            at,
            Change::Onboarded {
                email: Email::parse(email).unwrap(),
                team: Team::from_record(team.to_owned()),
                given_name: None,
                family_name: None,
            },
        )
    }

    fn transferred(at: &str, email: &str, team: &str) -> HrEvent {
        event(
            &format!("tr-{at}"),
            at,
            Change::Transferred {
                email: Email::parse(email).unwrap(),
                team: Team::from_record(team.to_owned()),
            },
        )
    }

    fn offboarded(at: &str) -> HrEvent {
        event(&format!("off-{at}"), at, Change::Offboarded)
    }

    fn fold<'a>(events: impl IntoIterator<Item = &'a HrEvent>) -> Standing {
        let mut known: Option<Standing> = None;
        for e in events {
            known = Some(merge(known.as_ref(), e).standing);
        }
        known.unwrap()
    }

    /// What decides access: status, team, user name.
    fn access(s: &Standing) -> (Status, Option<(String, String)>) {
        let person = s
            .person
            .as_ref()
            .map(|p| (p.team.as_str().to_owned(), p.user_name.clone()));
        (s.status(), person)
    }

    /// Every order of `events` (and every event delivered twice) ends in the same access.
    fn assert_order_free(events: &[HrEvent]) -> Standing {
        let expected = fold(events);
        let mut order: Vec<usize> = (0..events.len()).collect();
        permute(&mut order, 0, &mut |o| {
            let twice: Vec<&HrEvent> = o.iter().chain(o.iter()).map(|&i| &events[i]).collect();
            let (status, person) = access(&fold(twice));
            if status == Status::Offboarded {
                // A leaver has no access, whatever team the record last knew.
                assert_eq!(status, expected.status(), "order {o:?}");
            } else {
                assert_eq!((status, person), access(&expected), "order {o:?}");
            }
        });
        expected
    }

    fn permute(v: &mut Vec<usize>, k: usize, f: &mut dyn FnMut(&[usize])) {
        if k == v.len() {
            return f(v);
        }
        for i in k..v.len() {
            v.swap(k, i);
            permute(v, k + 1, f);
            v.swap(k, i);
        }
    }

    #[test]
    fn a_transfer_after_an_offboarding_never_reopens_access_whatever_the_order() {
        let s = assert_order_free(&[
            onboarded("2026-01-01T00:00:00Z", "ada@example.com", "engineering"),
            offboarded("2026-02-01T00:00:00Z"),
            transferred("2026-03-01T00:00:00Z", "ada@example.com", "qe"),
        ]);
        assert_eq!(s.status(), Status::Offboarded);
        assert_eq!(s.person.unwrap().team.as_str(), "qe");
    }

    #[test]
    fn anything_dated_before_a_recorded_offboarding_is_stale() {
        let leave = offboarded("2026-02-01T00:00:00Z");
        let known = fold([&leave]);
        for late in [
            onboarded("2026-01-01T00:00:00Z", "ada@example.com", "engineering"),
            transferred("2026-01-15T00:00:00Z", "ada@example.com", "qe"),
        ] {
            let m = merge(Some(&known), &late);
            assert!(m.stale && !m.changed);
        }
        let rehire = onboarded("2026-03-01T00:00:00Z", "ada@example.com", "qe");
        assert_eq!(
            merge(Some(&known), &rehire).standing.status(),
            Status::Active
        );
    }

    #[test]
    fn a_rehire_reopens_and_later_changes_still_apply_in_any_order() {
        let s = assert_order_free(&[
            onboarded("2026-01-01T00:00:00Z", "ada@example.com", "engineering"),
            offboarded("2026-02-01T00:00:00Z"),
            onboarded("2026-03-01T00:00:00Z", "ada.l@example.com", "qe"),
            transferred("2026-04-01T00:00:00Z", "ada.l@example.com", "engineering"),
        ]);
        assert_eq!(s.status(), Status::Active);
        assert_eq!(s.person.as_ref().unwrap().team.as_str(), "engineering");
        assert_eq!(s.person.unwrap().user_name, "ada.l@example.com");
        assert_eq!(
            s.user_names.into_iter().collect::<Vec<_>>(),
            ["ada.l@example.com", "ada@example.com"]
        );
    }

    #[test]
    fn at_the_same_instant_an_offboarding_wins_and_person_facts_tie_break_the_same_way() {
        let at = "2026-05-01T00:00:00Z";
        let s = assert_order_free(&[
            onboarded(at, "ada@example.com", "engineering"),
            transferred(at, "ada@example.com", "qe"),
            offboarded(at),
        ]);
        assert_eq!(s.status(), Status::Offboarded);
        assert_eq!(s.person.unwrap().team.as_str(), "qe");
    }

    #[test]
    fn a_late_event_is_stale_and_a_redelivery_is_not() {
        let first = onboarded("2026-01-01T00:00:00Z", "ada@example.com", "engineering");
        let leave = offboarded("2026-02-01T00:00:00Z");
        let known = fold([&first, &leave]);
        let late = merge(Some(&known), &first);
        assert!(late.stale && !late.changed);
        let again = merge(Some(&known), &leave);
        assert!(!again.stale && !again.changed);
        let old_move = merge(
            Some(&known),
            &transferred("2025-12-01T00:00:00Z", "ada@example.com", "qe"),
        );
        assert!(old_move.stale && !old_move.changed);
    }

    #[test]
    fn a_transfer_of_someone_never_onboarded_here_makes_them_active() {
        let s = fold([&transferred(
            "2026-01-01T00:00:00Z",
            "ada@example.com",
            "qe",
        )]);
        assert_eq!(s.status(), Status::Active);
        assert_eq!(
            s.effective_at(),
            Timestamp::parse_rfc3339("t", "2026-01-01T00:00:00Z")
                .unwrap()
                .unix_nanos()
        );
    }

    #[test]
    fn a_redelivery_under_a_new_envelope_id_changes_nothing() {
        let first = onboarded("2026-01-01T00:00:00Z", "ada@example.com", "engineering");
        let known = fold([&first]);
        let mut again = first.clone();
        again.event_id = EventId::parse("another-id").unwrap();
        let m = merge(Some(&known), &again);
        assert!(!m.changed && !m.stale);
    }

    #[test]
    fn statuses_are_named_as_the_directory_stores_them() {
        assert_eq!(Status::Active.as_str(), "active");
        assert_eq!(Status::Offboarded.as_str(), "offboarded");
    }

    #[test]
    fn a_leaver_dates_from_the_offboarding_anyone_else_from_the_newest_fact() {
        let at = |s: &str| Timestamp::parse_rfc3339("t", s).unwrap().unix_nanos();
        // Moved after leaving: still dated from the offboarding.
        let leaver = fold([
            &onboarded("2026-01-01T00:00:00Z", "ada@example.com", "engineering"),
            &offboarded("2026-02-01T00:00:00Z"),
            &transferred("2026-03-01T00:00:00Z", "ada@example.com", "qe"),
        ]);
        assert_eq!(leaver.effective_at(), at("2026-02-01T00:00:00Z"));
        let moved = fold([
            &onboarded("2026-01-01T00:00:00Z", "ada@example.com", "engineering"),
            &transferred("2026-03-01T00:00:00Z", "ada@example.com", "qe"),
        ]);
        assert_eq!(moved.effective_at(), at("2026-03-01T00:00:00Z"));
        let rehired = fold([
            &transferred("2026-01-01T00:00:00Z", "ada@example.com", "qe"),
            &offboarded("2026-02-01T00:00:00Z"),
            &onboarded("2026-04-01T00:00:00Z", "ada@example.com", "qe"),
        ]);
        assert_eq!(rehired.effective_at(), at("2026-04-01T00:00:00Z"));
    }

    #[test]
    fn a_new_fact_is_never_stale_an_older_one_always_is() {
        let first = onboarded("2026-01-01T00:00:00Z", "ada@example.com", "engineering");
        let known = fold([&first]);
        let moved = transferred("2026-03-01T00:00:00Z", "ada@example.com", "qe");
        let m = merge(Some(&known), &moved);
        assert!(m.changed && !m.stale);
        let known = m.standing;
        // An older move, with no offboarding to date it before: changes nothing, stale.
        let older = merge(
            Some(&known),
            &transferred("2026-02-01T00:00:00Z", "ada@example.com", "platform"),
        );
        assert!(!older.changed && older.stale);
        // The newest move again (a redelivery): not stale, converges again.
        let again = merge(Some(&known), &moved);
        assert!(!again.changed && !again.stale);
    }
}
