//! The directory's record of one employee, as convergence needs it: a [`Standing`] reduced to
//! what decides access (status, team, current user name) and what offboarding must find (every
//! user name the person has had).

use std::collections::BTreeSet;

use crate::ids::{EmployeeId, Team, Timestamp};
use crate::standing::{timestamp, Standing, Status};

/// What the directory says of one employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeRecord {
    pub employee_id: EmployeeId,
    pub status: Status,
    /// Absent only for an employee known from an offboarding alone.
    pub team: Option<Team>,
    /// The IAM user name of the current e-mail address.
    pub user_name: Option<String>,
    /// Every user name the employee has had: offboarding seals all of them.
    pub user_names: BTreeSet<String>,
    /// When the standing dates from (for a leaver: the offboarding).
    pub effective_at: Timestamp,
}

impl From<&Standing> for EmployeeRecord {
    fn from(s: &Standing) -> Self {
        EmployeeRecord {
            employee_id: s.employee_id.clone(),
            status: s.status(),
            team: s.person.as_ref().map(|p| p.team.clone()),
            user_name: s.person.as_ref().map(|p| p.user_name.clone()),
            user_names: s.user_names.clone(),
            effective_at: timestamp(s.effective_at()),
        }
    }
}
