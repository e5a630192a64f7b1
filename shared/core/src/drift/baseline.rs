//! Baseline drift: what Gatehouse laid in an account and someone changed since. Every
//! managed user carries the boundary; Gatehouse's own policies hold the shipped documents; the
//! provisioner role holds its own policy and nothing else. Repaired by `account-created`,
//! which holds the bootstrap role: a repair run asks it with a `Baseline Requested` event.

use std::collections::BTreeSet;

use super::{AccountRef, Finding, Inventory, Kind};
use crate::documents::{self, same_document, Placement};
use crate::names::{BOUNDARY_POLICY, DENY_ALL_POLICY, MFA_POLICY, PROVISIONER_POLICY};
use crate::policy::Policy;

/// The baseline findings of one account read whole.
pub(super) fn drift(account: &AccountRef, inventory: &Inventory, policy: &Policy) -> Vec<Finding> {
    let finding = |kind: Kind, subject: &str, detail: String| Finding {
        account_id: account.id.to_string(),
        kind,
        subject: subject.to_owned(),
        employee_id: None,
        detail,
        repairable: true,
    };
    let at = Placement {
        partition: &inventory.partition,
        account: &account.id,
    };
    let mut out = Vec::new();
    let boundary = at.policy_arn(BOUNDARY_POLICY);
    for (user, found) in &inventory.boundaries {
        match found {
            Some(b) if *b == boundary => {}
            Some(other) => out.push(finding(
                Kind::MissingBoundary,
                user,
                format!("its permissions boundary is {other}, not {BOUNDARY_POLICY}"),
            )),
            None => out.push(finding(
                Kind::MissingBoundary,
                user,
                "a managed user without a permissions boundary".into(),
            )),
        }
    }
    for (name, found) in &inventory.documents {
        let shipped = match name.as_str() {
            BOUNDARY_POLICY => documents::boundary(policy, at),
            MFA_POLICY => documents::enforce_mfa(at),
            DENY_ALL_POLICY => documents::DENY_ALL.to_owned(),
            _ => continue,
        };
        match found {
            Some(doc) if same_document(doc, &shipped) => {}
            Some(_) => out.push(finding(
                Kind::PolicyDocument,
                name,
                "its default version is not the shipped document".into(),
            )),
            // The MFA and deny-all policies are laid on the first grant; the boundary never
            // misses where Gatehouse works.
            None if name == BOUNDARY_POLICY => out.push(finding(
                Kind::PolicyDocument,
                name,
                "missing: no user can be created with the boundary".into(),
            )),
            None => {}
        }
    }
    if let Some(role) = &inventory.provisioner {
        let extra_inline: BTreeSet<&String> = role
            .inline
            .iter()
            .filter(|n| *n != PROVISIONER_POLICY)
            .collect();
        if !role.attached.is_empty() || !extra_inline.is_empty() {
            let list = |v: Vec<&String>| {
                v.into_iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut extra = Vec::new();
            if !role.attached.is_empty() {
                extra.push(format!("attached {}", list(role.attached.iter().collect())));
            }
            if !extra_inline.is_empty() {
                extra.push(format!(
                    "inline {}",
                    list(extra_inline.into_iter().collect())
                ));
            }
            out.push(finding(
                Kind::ProvisionerPolicy,
                &policy.provisioner_role,
                format!("policies besides its own: {}", extra.join("; ")),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::drift::RolePolicies;
    use crate::ids::AccountId;

    const DEV: &str = "111111111111";

    fn dev() -> AccountRef {
        AccountRef {
            id: AccountId::parse(DEV).unwrap(),
            environment: Some("development".into()),
        }
    }

    fn kinds(findings: &[Finding]) -> Vec<(Kind, &str)> {
        findings
            .iter()
            .map(|f| (f.kind, f.subject.as_str()))
            .collect()
    }

    #[test]
    fn a_missing_boundary_a_changed_document_and_an_extra_role_policy_are_reported() {
        let p = Policy::builtin().unwrap();
        let at = crate::documents::Placement {
            partition: "aws",
            account: &AccountId::parse(DEV).unwrap(),
        };
        let boundary = at.policy_arn("GatehouseUserBoundary");
        let inventory = Inventory {
            partition: "aws".into(),
            boundaries: BTreeMap::from([
                ("ada@x.io".to_owned(), Some(boundary)),
                ("bob@x.io".to_owned(), None),
                (
                    "svc-deployer".to_owned(),
                    Some("arn:aws:iam::aws:policy/AdministratorAccess".to_owned()),
                ),
            ]),
            documents: BTreeMap::from([
                (
                    "GatehouseUserBoundary".to_owned(),
                    // The shipped document, spaced differently: the same document.
                    Some(
                        serde_json::to_string_pretty(
                            &serde_json::from_str::<serde_json::Value>(
                                &crate::documents::boundary(&p, at),
                            )
                            .unwrap(),
                        )
                        .unwrap(),
                    ),
                ),
                (
                    "GatehouseDenyAll".to_owned(),
                    Some(r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned()),
                ),
                ("GatehouseEnforceMfa".to_owned(), None),
            ]),
            provisioner: Some(RolePolicies {
                attached: BTreeSet::from(["arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()]),
                inline: BTreeSet::from(["GatehouseProvisioner".to_owned(), "extra".to_owned()]),
            }),
            ..Inventory::default()
        };
        let a = drift(&dev(), &inventory, &p);
        assert_eq!(
            kinds(&a),
            [
                (Kind::MissingBoundary, "bob@x.io"),
                (Kind::MissingBoundary, "svc-deployer"),
                (Kind::PolicyDocument, "GatehouseDenyAll"),
                (Kind::ProvisionerPolicy, "GatehouseProvisioner"),
            ]
        );
        assert_eq!(
            a[3].detail,
            "policies besides its own: attached arn:aws:iam::aws:policy/ReadOnlyAccess; inline extra"
        );
        assert!(
            a.iter().all(|f| f.repairable),
            "account-created repairs each"
        );

        // A boundary policy that is gone is drift; the MFA and deny-all policies come with the
        // first grant.
        let gone = Inventory {
            documents: BTreeMap::from([
                ("GatehouseUserBoundary".to_owned(), None),
                ("GatehouseDenyAll".to_owned(), None),
            ]),
            ..Inventory::default()
        };
        let a = drift(&dev(), &gone, &p);
        assert_eq!(kinds(&a), [(Kind::PolicyDocument, "GatehouseUserBoundary")]);
    }

    #[test]
    fn each_gatehouse_document_and_each_kind_of_extra_role_policy_counts_alone() {
        let p = Policy::builtin().unwrap();
        let id = AccountId::parse(DEV).unwrap();
        let at = crate::documents::Placement {
            partition: "aws",
            account: &id,
        };
        let role = |attached: &[&str], inline: &[&str]| RolePolicies {
            attached: attached.iter().map(|s| s.to_string()).collect(),
            inline: inline.iter().map(|s| s.to_string()).collect(),
        };
        let read = |mfa: &str, provisioner: RolePolicies| Inventory {
            partition: "aws".into(),
            documents: BTreeMap::from([
                (
                    "GatehouseUserBoundary".to_owned(),
                    Some(crate::documents::boundary(&p, at)),
                ),
                ("GatehouseEnforceMfa".to_owned(), Some(mfa.to_owned())),
                (
                    "GatehouseDenyAll".to_owned(),
                    Some(crate::documents::DENY_ALL.to_owned()),
                ),
            ]),
            provisioner: Some(provisioner),
            ..Inventory::default()
        };
        let shipped_mfa = crate::documents::enforce_mfa(at);
        let own = role(&[], &["GatehouseProvisioner"]);
        assert_eq!(
            kinds(&drift(&dev(), &read(&shipped_mfa, own.clone()), &p)),
            []
        );
        assert_eq!(
            kinds(&drift(
                &dev(),
                &read(r#"{"Version":"2012-10-17","Statement":[]}"#, own),
                &p
            )),
            [(Kind::PolicyDocument, "GatehouseEnforceMfa")]
        );
        for provisioner in [
            role(
                &["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                &["GatehouseProvisioner"],
            ),
            role(&[], &["GatehouseProvisioner", "extra"]),
        ] {
            assert_eq!(
                kinds(&drift(&dev(), &read(&shipped_mfa, provisioner.clone()), &p)),
                [(Kind::ProvisionerPolicy, "GatehouseProvisioner")],
                "{provisioner:?}"
            );
        }
    }
}
