//! `/Groups`: a group's members are users; when the policy takes teams from groups, a change
//! of membership (or of a group's name) can change a member's team, so every operation
//! recomputes each member it touches, sends what that is, and stores the group together with
//! those members (the group last, so that a retry of a half-stored change redoes it).

use std::collections::BTreeSet;

use gatehouse_core::ids::Timestamp;
use gatehouse_core::scim::{patch, resource, Kind, ScimError};
use serde_json::{json, Map, Value};

use super::store::{Claim, Stored, Write};
use super::{new_id, Failure, Scim};

fn member_ids(doc: Option<&Map<String, Value>>) -> BTreeSet<String> {
    match doc.and_then(|d| d.get("members")) {
        Some(Value::Array(members)) => members
            .iter()
            .filter_map(|m| m["value"].as_str().map(str::to_owned))
            .collect(),
        _ => BTreeSet::new(),
    }
}

fn display_name(doc: Option<&Map<String, Value>>) -> Option<String> {
    doc.and_then(|d| d.get("displayName"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

impl Scim {
    pub async fn create_group(&self, body: &Value) -> Result<Stored, Failure> {
        let doc = resource::validate(Kind::Group, body)?;
        let group = Stored::new(new_id(), doc, &Timestamp::now().rfc3339());
        self.change_group(&group.id, None, Some(&group)).await?;
        Ok(group)
    }

    pub async fn replace_group(&self, id: &str, body: &Value) -> Result<Stored, Failure> {
        let old = self.get_resource(Kind::Group, id).await?;
        let doc = resource::validate(Kind::Group, body)?;
        let group = old.next(doc, &Timestamp::now().rfc3339());
        self.change_group(id, Some(&old), Some(&group)).await?;
        Ok(group)
    }

    pub async fn patch_group(&self, id: &str, body: &Value) -> Result<Stored, Failure> {
        let old = self.get_resource(Kind::Group, id).await?;
        let (doc, _) = patch::apply(Kind::Group, &old.doc, body)?;
        let group = old.next(doc, &Timestamp::now().rfc3339());
        self.change_group(id, Some(&old), Some(&group)).await?;
        Ok(group)
    }

    pub async fn delete_group(&self, id: &str) -> Result<(), Failure> {
        let old = self.get_resource(Kind::Group, id).await?;
        self.change_group(id, Some(&old), None).await
    }

    /// Takes group `id` from `old` (None: new) to `new` (None: deleted).
    async fn change_group(
        &self,
        id: &str,
        old: Option<&Stored>,
        new: Option<&Stored>,
    ) -> Result<(), Failure> {
        let before = member_ids(old.map(|o| &o.doc));
        let after = member_ids(new.map(|g| &g.doc));
        let old_name = display_name(old.map(|o| &o.doc));
        let new_name = display_name(new.map(|g| &g.doc));
        let affected: BTreeSet<&String> = if old_name == new_name {
            before.symmetric_difference(&after).collect()
        } else {
            before.union(&after).collect()
        };
        let users =
            futures::future::try_join_all(affected.iter().map(|u| self.store.get(Kind::User, u)))
                .await?;
        let mut events = Vec::new();
        let mut writes = Vec::new();
        let now = Timestamp::now().rfc3339();
        for (user_id, user) in affected.iter().zip(users) {
            let Some(user) = user else {
                if after.contains(*user_id) {
                    return Err(ScimError::invalid_value(
                        "a member's `value` must be the id of a user of this service provider",
                    )
                    .into());
                }
                continue; // a member removed that is no user (any more): nothing to update.
            };
            let mut groups: Vec<Value> = user
                .groups
                .iter()
                .filter(|g| g["value"].as_str() != Some(id))
                .cloned()
                .collect();
            if let (true, Some(name)) = (after.contains(*user_id), &new_name) {
                groups.push(json!({"value": id, "display": name, "type": "direct"}));
            }
            let decided = self.decide_user(Some(&user), Some(&user.doc), &groups, false)?;
            events.extend(decided.events);
            writes.push(Write::Put(
                Kind::User,
                Stored {
                    groups,
                    team: decided.team,
                    ..user.next(user.doc.clone(), &now)
                },
            ));
        }
        let old_claim = old_name.clone().map(Claim::GroupName);
        let new_claim = new_name.clone().map(Claim::GroupName);
        let renamed = old_claim != new_claim;
        if let (Some(claim), true) = (&new_claim, renamed) {
            self.check_claims(std::slice::from_ref(claim), id).await?;
        }
        if renamed {
            writes.extend(old_claim.map(|c| Write::Release(c, id.to_owned())));
            writes.extend(new_claim.map(|c| Write::Claim(c, id.to_owned())));
        }
        match (new, old) {
            (Some(g), _) => writes.push(Write::Put(Kind::Group, g.clone())),
            (None, Some(o)) => writes.push(Write::Delete(Kind::Group, id.to_owned(), o.version)),
            (None, None) => {}
        }
        self.commit(&events, writes).await
    }
}
