//! The IAM policy documents Gatehouse lays in member accounts, rendered from the templates in
//! `shared/policies/`.
//!
//! The templates are written in CloudFormation's `Fn::Sub` syntax, so that the member-account
//! StackSet (`infra/member-account.yaml`) and the functions lay the very same documents (a test
//! deploys the stack in the emulator and compares): `${AWS::Partition}`, `${AWS::AccountId}`,
//! the names the policy file chooses (`${ProvisionerRole}`, `${BootstrapRole}`), and lists
//! (`${GroupPolicyArns}`, `${TrustedRoleArns}`) that stand alone as an array element and are
//! spliced in. `${!name}` is an IAM policy variable left for IAM (`${aws:username}`).

use crate::ids::AccountId;
use crate::names::{DENY_ALL_POLICY, MANAGED_PATH, MFA_POLICY};
use crate::policy::Policy;

const BOUNDARY: &str = include_str!("../../policies/user-boundary.json");
const ENFORCE_MFA: &str = include_str!("../../policies/enforce-mfa.json");
const PROVISIONER_PERMISSIONS: &str = include_str!("../../policies/provisioner-permissions.json");
const PROVISIONER_TRUST: &str = include_str!("../../policies/provisioner-trust.json");

/// The managed deny-all policy (`GatehouseDenyAll`) attached to a disabled user. It has no
/// placeholder.
pub const DENY_ALL: &str = include_str!("../../policies/deny-all.json");

/// Where a document is laid.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: &'a str,
    pub account: &'a AccountId,
}

impl Placement<'_> {
    /// The ARN of the Gatehouse-managed policy `name` here.
    pub fn policy_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:iam::{}:policy{MANAGED_PATH}{name}",
            self.partition, self.account
        )
    }
}

/// `GatehouseUserBoundary`: the ceiling of every managed user.
pub fn boundary(policy: &Policy, at: Placement) -> String {
    render(
        BOUNDARY,
        &[
            ("AWS::Partition", Value::One(at.partition)),
            ("AWS::AccountId", Value::One(at.account.as_str())),
            ("ProvisionerRole", Value::One(&policy.provisioner_role)),
            ("BootstrapRole", Value::One(&policy.bootstrap_role)),
        ],
    )
}

/// `GatehouseEnforceMfa`: no access without MFA but setting it up.
pub fn enforce_mfa(at: Placement) -> String {
    render(
        ENFORCE_MFA,
        &[
            ("AWS::Partition", Value::One(at.partition)),
            ("AWS::AccountId", Value::One(at.account.as_str())),
        ],
    )
}

/// Every managed policy the policy file attaches to a group, anywhere: the only ones (with
/// the MFA policy) the provisioner may attach.
pub fn group_policy_arns(policy: &Policy) -> Vec<String> {
    let arns: std::collections::BTreeSet<&String> = policy
        .groups
        .values()
        .flat_map(|g| &g.managed_policies)
        .collect();
    arns.into_iter().cloned().collect()
}

/// The provisioner role's permissions.
pub fn provisioner_permissions(policy: &Policy, at: Placement) -> String {
    let arns = group_policy_arns(policy);
    render(
        PROVISIONER_PERMISSIONS,
        &[
            ("AWS::Partition", Value::One(at.partition)),
            ("AWS::AccountId", Value::One(at.account.as_str())),
            ("GroupPolicyArns", Value::List(&arns)),
        ],
    )
}

/// The provisioner role's trust: only the functions' execution roles, and only from inside the
/// organization.
pub fn provisioner_trust(trusted: &[String], organization: &str) -> String {
    render(
        PROVISIONER_TRUST,
        &[
            ("TrustedRoleArns", Value::List(trusted)),
            ("OrganizationId", Value::One(organization)),
        ],
    )
}

/// The managed policies the provisioner may create, with their names. Not the boundary: a
/// ceiling the provisioner could write itself would be none, so only the bootstrap role
/// (`account-created`) or the member-account stack lays it.
pub fn provisioner_policies(at: Placement) -> [(&'static str, String); 2] {
    [
        (MFA_POLICY, enforce_mfa(at)),
        (DENY_ALL_POLICY, DENY_ALL.to_owned()),
    ]
}

enum Value<'a> {
    One(&'a str),
    List(&'a [String]),
}

/// Renders a template: scalar placeholders are substituted inside strings, a list placeholder
/// standing alone as an array element is spliced into the array, `${!x}` becomes `${x}`.
fn render(template: &str, vars: &[(&str, Value)]) -> String {
    // The templates are constants of this crate, valid JSON (a unit test checks each).
    let mut doc: serde_json::Value = serde_json::from_str(template).unwrap_or_default();
    walk(&mut doc, vars);
    doc.to_string()
}

fn walk(v: &mut serde_json::Value, vars: &[(&str, Value)]) {
    match v {
        serde_json::Value::String(s) => *s = substitute(s, vars),
        serde_json::Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for mut item in std::mem::take(items) {
                let list = item.as_str().and_then(|s| {
                    let name = s.strip_prefix("${")?.strip_suffix('}')?;
                    vars.iter().find_map(|(n, value)| match value {
                        Value::List(l) if *n == name => Some(*l),
                        _ => None,
                    })
                });
                match list {
                    Some(list) => out.extend(list.iter().cloned().map(serde_json::Value::String)),
                    None => {
                        walk(&mut item, vars);
                        out.push(item);
                    }
                }
            }
            *items = out;
        }
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| walk(v, vars)),
        _ => {}
    }
}

fn substitute(s: &str, vars: &[(&str, Value)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        match name.strip_prefix('!') {
            Some(literal) => {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            }
            None => match vars.iter().find(|(n, _)| *n == name) {
                Some((_, Value::One(value))) => out.push_str(value),
                _ => out.push_str(&rest[start..start + 2 + end + 1]),
            },
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether two policy documents say the same (as JSON, whatever the spacing).
pub fn same_document(found: &str, shipped: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(found),
        serde_json::from_str::<serde_json::Value>(shipped),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(account: &AccountId) -> Placement<'_> {
        Placement {
            partition: "aws",
            account,
        }
    }

    fn json(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap()
    }

    /// No placeholder is left but IAM's own policy variables.
    fn assert_rendered(doc: &str) {
        let stripped = doc.replace("${aws:username}", "");
        assert!(!stripped.contains("${"), "{doc}");
        assert!(!doc.contains("${!"), "{doc}");
        json(doc);
    }

    #[test]
    fn a_list_placeholder_splices_its_own_list_and_no_other() {
        let (a, b) = (
            vec!["a1".to_owned()],
            vec!["b1".to_owned(), "b2".to_owned()],
        );
        let vars = [
            ("A", Value::List(&a)),
            ("B", Value::List(&b)),
            ("S", Value::One("s")),
        ];
        assert_eq!(
            json(&render(
                r#"{"x": ["${B}", "keep", "${A}"], "y": "${S}-${!z}"}"#,
                &vars
            )),
            serde_json::json!({"x": ["b1", "b2", "keep", "a1"], "y": "s-${z}"})
        );
    }

    #[test]
    fn every_template_is_json_and_renders_completely() {
        let p = Policy::builtin().unwrap();
        let a = AccountId::parse("123456789012").unwrap();
        for doc in [
            boundary(&p, at(&a)),
            enforce_mfa(at(&a)),
            provisioner_permissions(&p, at(&a)),
            provisioner_trust(&["arn:aws:iam::111122223333:role/f".into()], "o-abc"),
            DENY_ALL.to_owned(),
        ] {
            assert_rendered(&doc);
        }
        for t in [
            BOUNDARY,
            ENFORCE_MFA,
            PROVISIONER_PERMISSIONS,
            PROVISIONER_TRUST,
        ] {
            json(t);
        }
    }

    #[test]
    fn the_boundary_names_the_roles_the_policy_file_chooses() {
        let p = Policy::parse(&crate::policy::BUILTIN_POLICY.replace(
            "provisioner_role = \"GatehouseProvisioner\"",
            "provisioner_role = \"AccessRobot\"",
        ))
        .unwrap();
        let a = AccountId::parse("123456789012").unwrap();
        let doc = json(&boundary(&p, at(&a)));
        let roles = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "DenyGatehouseRoles")
            .unwrap()["Resource"]
            .clone();
        assert_eq!(
            roles,
            serde_json::json!([
                "arn:aws:iam::123456789012:role/gatehouse/AccessRobot",
                "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"
            ])
        );
        assert!(!boundary(&p, at(&a)).contains("GatehouseProvisioner"));
    }

    #[test]
    fn the_provisioner_may_attach_only_the_mfa_policy_and_those_the_policy_file_names() {
        let p = Policy::builtin().unwrap();
        let a = AccountId::parse("123456789012").unwrap();
        let doc = json(&provisioner_permissions(&p, at(&a)));
        let attach = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Action"] == "iam:AttachGroupPolicy")
            .unwrap()
            .clone();
        assert_eq!(
            attach["Condition"]["ArnEquals"]["iam:PolicyARN"],
            serde_json::json!([
                "arn:aws:iam::123456789012:policy/gatehouse/GatehouseEnforceMfa",
                "arn:aws:iam::aws:policy/AWSCloudFormationFullAccess",
                "arn:aws:iam::aws:policy/PowerUserAccess",
                "arn:aws:iam::aws:policy/ReadOnlyAccess"
            ])
        );
    }

    #[test]
    fn the_trust_names_exactly_the_functions_and_the_organization() {
        let roles = vec![
            "arn:aws:iam::111122223333:role/a".to_owned(),
            "arn:aws:iam::111122223333:role/b".to_owned(),
        ];
        let trust = json(&provisioner_trust(&roles, "o-exampleorg"));
        let statements = trust["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Effect"], "Allow");
        assert_eq!(statements[0]["Action"], "sts:AssumeRole");
        assert_eq!(statements[0]["Principal"]["AWS"], serde_json::json!(roles));
        assert_eq!(
            statements[0]["Condition"]["StringEquals"]["aws:PrincipalOrgID"],
            "o-exampleorg"
        );
    }

    #[test]
    fn iam_policy_variables_are_left_for_iam_and_unknown_names_untouched() {
        let a = AccountId::parse("123456789012").unwrap();
        assert!(enforce_mfa(at(&a))
            .contains("arn:aws:iam::123456789012:user/gatehouse/people/${aws:username}"));
        assert_eq!(
            substitute("${A}-${!b}-${C}-${", &[("A", Value::One("x"))]),
            "x-${b}-${C}-${"
        );
        let empty: Vec<String> = Vec::new();
        assert_eq!(
            render(r#"["a","${L}","b"]"#, &[("L", Value::List(&empty))]),
            r#"["a","b"]"#
        );
    }

    #[test]
    fn policy_arns_are_placed() {
        let a = AccountId::parse("123456789012").unwrap();
        let at = Placement {
            partition: "aws-cn",
            account: &a,
        };
        assert_eq!(
            at.policy_arn("GatehouseDenyAll"),
            "arn:aws-cn:iam::123456789012:policy/gatehouse/GatehouseDenyAll"
        );
    }
}
