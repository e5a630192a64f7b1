//! `/Users`: each operation reads what it changes, asks the core which HR events the change
//! is, sends them, then stores the change.

use gatehouse_core::hr_event::Change;
use gatehouse_core::ids::{EmployeeId, Team, Timestamp};
use gatehouse_core::scim::path::Filter;
use gatehouse_core::scim::person::{changes, entitlement, person, team, Person};
use gatehouse_core::scim::{patch, resource, Kind, ScimError};
use serde_json::{Map, Value};

use super::store::{Claim, Stored, Write};
use super::{new_id, Failure, Scim};

/// What a write to a user decided: the events to send, the team to remember, the claims the
/// new state holds.
pub(crate) struct Decided {
    pub events: Vec<(EmployeeId, Change)>,
    pub team: Option<String>,
    pub claims: Vec<Claim>,
}

impl Scim {
    /// What Gatehouse reads of a user in stored form (with the policy's employee id source).
    pub(crate) fn person(&self, doc: &Map<String, Value>) -> Result<Person, ScimError> {
        person(doc, self.policy.scim.employee_id_from)
    }

    /// The claims a user's stored form holds: its userName, and its employee id if it has one.
    fn user_claims(&self, doc: &Map<String, Value>) -> Result<Vec<Claim>, ScimError> {
        let mut claims = Vec::new();
        if let Some(Value::String(name)) = doc.get("userName") {
            claims.push(Claim::UserName(name.clone()));
        }
        if let Some(id) = self.person(doc)?.employee_id {
            claims.push(Claim::Employee(id.as_str().to_owned()));
        }
        Ok(claims)
    }

    /// What taking a user from `old` to `doc` (None: deleted) with `groups` means.
    /// `deactivated`: the request itself closed the user (`active` not true, or a delete): the
    /// employee id the user was stored with is then offboarded whatever Gatehouse thought of it;
    /// never an id the request itself names (which could be somebody else's).
    pub(crate) fn decide_user(
        &self,
        old: Option<&Stored>,
        doc: Option<&Map<String, Value>>,
        groups: &[Value],
        deactivated: bool,
    ) -> Result<Decided, ScimError> {
        let old_person = old.and_then(|o| self.person(&o.doc).ok());
        let old_team = old.and_then(|o| o.team.clone()).map(Team::from_record);
        // What was stored passed these rules when it was written.
        let before = old_person
            .as_ref()
            .and_then(|p| entitlement(p, old_team.clone()).ok().flatten());
        let (after, new_team, claims) = match doc {
            None => (None, None, Vec::new()),
            Some(doc) => {
                let p = self.person(doc)?;
                let names: Vec<&str> = groups
                    .iter()
                    .filter_map(|g| g["display"].as_str())
                    .collect();
                let t = team(&p, &names, old_team.as_ref(), &self.policy);
                let after = entitlement(&p, t.clone())?;
                (after, t, self.user_claims(doc)?)
            }
        };
        let deactivated_id = deactivated
            .then(|| old_person.and_then(|p| p.employee_id))
            .flatten();
        Ok(Decided {
            events: changes(before.as_ref(), after.as_ref(), deactivated_id.as_ref()),
            team: new_team.map(|t| t.as_str().to_owned()),
            claims,
        })
    }

    /// Refuses the request if a name it claims is held by another resource.
    pub(crate) async fn check_claims(&self, claims: &[Claim], id: &str) -> Result<(), Failure> {
        let holders =
            futures::future::try_join_all(claims.iter().map(|c| self.store.holder(c))).await?;
        for (claim, holder) in claims.iter().zip(holders) {
            if holder.is_some_and(|h| h != id) {
                let what = match claim {
                    Claim::UserName(_) => "userName is held by another user",
                    Claim::GroupName(_) => "displayName is held by another group",
                    Claim::Employee(_) => {
                        "employee id (employeeNumber or externalId) is held by another user"
                    }
                };
                return Err(ScimError::uniqueness(format!("the {what}")).into());
            }
        }
        Ok(())
    }

    pub async fn create_user(&self, body: &Value) -> Result<Stored, Failure> {
        let doc = resource::validate(Kind::User, body)?;
        let id = new_id();
        let decided = self.decide_user(None, Some(&doc), &[], false)?;
        self.check_claims(&decided.claims, &id).await?;
        let user = Stored {
            team: decided.team,
            ..Stored::new(id.clone(), doc, &Timestamp::now().rfc3339())
        };
        let mut writes = vec![Write::Put(Kind::User, user.clone())];
        writes.extend(
            decided
                .claims
                .into_iter()
                .map(|c| Write::Claim(c, id.clone())),
        );
        self.commit(&decided.events, writes).await?;
        Ok(user)
    }

    pub async fn get_resource(&self, kind: Kind, id: &str) -> Result<Stored, Failure> {
        self.store
            .get(kind, id)
            .await?
            .ok_or_else(|| ScimError::not_found(format!("no {} has that id", kind.name())).into())
    }

    /// The resources of `kind` a filter selects (every one without a filter), oldest first.
    pub async fn find(&self, kind: Kind, filter: Option<&Filter>) -> Result<Vec<Stored>, Failure> {
        let by_id = |id: Option<String>| async move {
            match id {
                Some(id) => self
                    .store
                    .get(kind, &id)
                    .await
                    .map(|r| r.into_iter().collect()),
                None => Ok(Vec::new()),
            }
        };
        let found = match filter {
            None => self.store.all(kind).await?,
            Some(Filter::Id(id)) => by_id(Some(id.clone())).await?,
            Some(Filter::Name(name)) => {
                let claim = match kind {
                    Kind::User => Claim::UserName(name.clone()),
                    Kind::Group => Claim::GroupName(name.clone()),
                };
                by_id(self.store.holder(&claim).await?).await?
            }
            Some(Filter::ExternalId(x)) => {
                let mut all = self.store.all(kind).await?;
                all.retain(|r| r.doc.get("externalId").and_then(Value::as_str) == Some(x));
                all
            }
        };
        Ok(found)
    }

    pub async fn replace_user(&self, id: &str, body: &Value) -> Result<Stored, Failure> {
        let old = self.get_resource(Kind::User, id).await?;
        let doc = resource::validate(Kind::User, body)?;
        // A replacement without `active: true` closes the user, as an absent `active` does.
        let deactivated = doc.get("active") != Some(&Value::Bool(true));
        self.update_user(old, doc, deactivated).await
    }

    pub async fn patch_user(&self, id: &str, body: &Value) -> Result<Stored, Failure> {
        let old = self.get_resource(Kind::User, id).await?;
        let (doc, touched_active) = patch::apply(Kind::User, &old.doc, body)?;
        let deactivated = touched_active && doc.get("active") != Some(&Value::Bool(true));
        self.update_user(old, doc, deactivated).await
    }

    async fn update_user(
        &self,
        old: Stored,
        doc: Map<String, Value>,
        deactivated: bool,
    ) -> Result<Stored, Failure> {
        let decided = self.decide_user(Some(&old), Some(&doc), &old.groups, deactivated)?;
        let old_claims = self.user_claims(&old.doc).unwrap_or_default();
        let new_claims: Vec<Claim> = decided
            .claims
            .iter()
            .filter(|c| !old_claims.contains(c))
            .cloned()
            .collect();
        self.check_claims(&new_claims, &old.id).await?;
        let user = Stored {
            team: decided.team,
            ..old.next(doc, &Timestamp::now().rfc3339())
        };
        let mut writes = vec![Write::Put(Kind::User, user.clone())];
        writes.extend(
            new_claims
                .into_iter()
                .map(|c| Write::Claim(c, old.id.clone())),
        );
        writes.extend(
            old_claims
                .into_iter()
                .filter(|c| !decided.claims.contains(c))
                .map(|c| Write::Release(c, old.id.clone())),
        );
        self.commit(&decided.events, writes).await?;
        Ok(user)
    }

    /// Deletes the user from SCIM (and from its groups) and offboards the employee: DELETE
    /// never deletes an IAM user, it closes every way in.
    pub async fn delete_user(&self, id: &str) -> Result<(), Failure> {
        let old = self.get_resource(Kind::User, id).await?;
        let decided = self.decide_user(Some(&old), None, &[], true)?;
        let mut writes = Vec::new();
        for membership in &old.groups {
            let Some(group_id) = membership["value"].as_str() else {
                continue;
            };
            if let Some(group) = self.store.get(Kind::Group, group_id).await? {
                let mut doc = group.doc.clone();
                if let Some(Value::Array(members)) = doc.get_mut("members") {
                    members.retain(|m| m["value"].as_str() != Some(id));
                    if members.is_empty() {
                        doc.remove("members");
                    }
                }
                let next = group.next(doc, &Timestamp::now().rfc3339());
                writes.push(Write::Put(Kind::Group, next));
            }
        }
        writes.push(Write::Delete(Kind::User, old.id.clone(), old.version));
        writes.extend(
            self.user_claims(&old.doc)
                .unwrap_or_default()
                .into_iter()
                .map(|c| Write::Release(c, old.id.clone())),
        );
        self.commit(&decided.events, writes).await?;
        Ok(())
    }
}
