//! The privileges Gatehouse plants in every member account hold: the provisioner role cannot
//! make itself (or anyone) administrator, and the user boundary is a real ceiling.
//!
//! These are the documents the functions and the member-account stack lay (rendered from
//! `shared/policies/`), evaluated by `support::iam_eval` because the emulator evaluates neither
//! conditions nor most resources. The integration suite, run with the emulator enforcing IAM,
//! proves the other half: that these permissions are enough for everything Gatehouse does.

mod support;

use gatehouse_core::documents::{self, Placement};
use gatehouse_core::ids::AccountId;
use gatehouse_core::policy::{Policy, BUILTIN_POLICY};
use serde_json::Value;
use support::iam_eval::{evaluate, Decision, Request};

const ACCOUNT: &str = "123456789012";

fn arn(resource: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{resource}")
}

struct Account {
    provisioner: Value,
    boundary: Value,
}

fn laid(policy: &Policy) -> Account {
    let id = AccountId::parse(ACCOUNT).unwrap();
    let at = Placement {
        partition: "aws",
        account: &id,
    };
    let json = |s: String| serde_json::from_str(&s).unwrap();
    Account {
        provisioner: json(documents::provisioner_permissions(policy, at)),
        boundary: json(documents::boundary(policy, at)),
    }
}

fn builtin() -> Account {
    laid(&Policy::builtin().unwrap())
}

/// What the provisioner role may do (no boundary on it).
fn provisioner(account: &Account, request: &Request) -> Decision {
    evaluate(&[&account.provisioner], None, request)
}

/// What a managed user may do at the most: anything its groups or an inline policy grant,
/// here `Allow *`, capped by the boundary.
fn capped_user(account: &Account, request: &Request) -> Decision {
    let anything: Value =
        serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    evaluate(&[&anything], Some(&account.boundary), request)
}

fn allowed(d: Decision) -> bool {
    d == Decision::Allowed
}

#[test]
fn the_provisioner_attaches_to_groups_only_the_policies_the_policy_file_names() {
    let a = builtin();
    let group = arn("group/gatehouse/developers");
    for (policy, ok) in [
        ("arn:aws:iam::aws:policy/PowerUserAccess", true),
        ("arn:aws:iam::aws:policy/ReadOnlyAccess", true),
        (&arn("policy/gatehouse/GatehouseEnforceMfa"), true),
        ("arn:aws:iam::aws:policy/AdministratorAccess", false),
        ("arn:aws:iam::aws:policy/IAMFullAccess", false),
        (&arn("policy/gatehouse/GatehouseUserBoundary"), false),
    ] {
        let r = Request::new("iam:AttachGroupPolicy", &group).with("iam:PolicyARN", policy);
        assert_eq!(allowed(provisioner(&a, &r)), ok, "{policy}");
    }
    // Not to a group outside /gatehouse/, whatever the policy.
    let r = Request::new("iam:AttachGroupPolicy", arn("group/admins"))
        .with("iam:PolicyARN", "arn:aws:iam::aws:policy/ReadOnlyAccess");
    assert!(!allowed(provisioner(&a, &r)));
}

#[test]
fn the_provisioner_seals_only_with_the_deny_all_policy_and_puts_no_inline_policy() {
    let a = builtin();
    let user = arn("user/gatehouse/people/ada@example.com");
    for (action, policy, ok) in [
        (
            "iam:AttachUserPolicy",
            arn("policy/gatehouse/GatehouseDenyAll"),
            true,
        ),
        (
            "iam:DetachUserPolicy",
            arn("policy/gatehouse/GatehouseDenyAll"),
            true,
        ),
        (
            "iam:AttachUserPolicy",
            "arn:aws:iam::aws:policy/AdministratorAccess".into(),
            false,
        ),
        (
            "iam:AttachUserPolicy",
            arn("policy/gatehouse/GatehouseEnforceMfa"),
            false,
        ),
    ] {
        let r = Request::new(action, &user).with("iam:PolicyARN", &policy);
        assert_eq!(allowed(provisioner(&a, &r)), ok, "{action} {policy}");
    }
    for action in [
        "iam:PutUserPolicy",
        "iam:DeleteUserPolicy",
        "iam:PutGroupPolicy",
    ] {
        for resource in [user.clone(), arn("group/gatehouse/developers")] {
            let r = Request::new(action, &resource);
            assert_eq!(provisioner(&a, &r), Decision::ImplicitDeny, "{action}");
        }
    }
}

#[test]
fn the_provisioner_creates_users_only_bounded_and_only_under_gatehouse() {
    let a = builtin();
    let boundary = arn("policy/gatehouse/GatehouseUserBoundary");
    let people = arn("user/gatehouse/people/ada@example.com");
    let service = arn("user/gatehouse/service/svc-deployer");
    let create = |user: &str, with: Option<&str>| {
        let r = Request::new("iam:CreateUser", user);
        match with {
            Some(b) => r.with("iam:PermissionsBoundary", b),
            None => r,
        }
    };
    assert!(allowed(provisioner(&a, &create(&people, Some(&boundary)))));
    assert!(allowed(provisioner(&a, &create(&service, Some(&boundary)))));
    assert!(
        !allowed(provisioner(&a, &create(&people, None))),
        "unbounded"
    );
    assert!(!allowed(provisioner(
        &a,
        &create(&people, Some("arn:aws:iam::aws:policy/AdministratorAccess"))
    )));
    assert!(!allowed(provisioner(
        &a,
        &create(&arn("user/ops/robot"), Some(&boundary))
    )));
    // Nor remove or replace a user's boundary afterwards.
    for action in [
        "iam:DeleteUserPermissionsBoundary",
        "iam:PutUserPermissionsBoundary",
    ] {
        let r = Request::new(action, &people).with("iam:PermissionsBoundary", &boundary);
        assert!(!allowed(provisioner(&a, &r)), "{action}");
    }
}

#[test]
fn the_provisioner_cannot_touch_any_role_its_own_included() {
    let a = builtin();
    for role in [
        arn("role/gatehouse/GatehouseProvisioner"),
        arn("role/OrganizationAccountAccessRole"),
        arn("role/anything"),
    ] {
        for action in [
            "iam:CreateRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:PutRolePolicy",
            "iam:AttachRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:DeleteRole",
            "iam:TagRole",
            "iam:PassRole",
            "sts:AssumeRole",
        ] {
            let r = Request::new(action, &role).with(
                "iam:PolicyARN",
                "arn:aws:iam::aws:policy/AdministratorAccess",
            );
            assert!(!allowed(provisioner(&a, &r)), "{action} on {role}");
        }
    }
}

#[test]
fn the_provisioner_creates_only_the_shipped_policies_and_never_rewrites_one() {
    let a = builtin();
    for (name, ok) in [
        ("GatehouseEnforceMfa", true),
        ("GatehouseDenyAll", true),
        ("GatehouseUserBoundary", false),
        ("Admin", false),
    ] {
        let r = Request::new("iam:CreatePolicy", arn(&format!("policy/gatehouse/{name}")));
        assert_eq!(allowed(provisioner(&a, &r)), ok, "{name}");
    }
    for action in [
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicy",
    ] {
        for name in [
            "GatehouseEnforceMfa",
            "GatehouseDenyAll",
            "GatehouseUserBoundary",
        ] {
            let r = Request::new(action, arn(&format!("policy/gatehouse/{name}")));
            assert!(!allowed(provisioner(&a, &r)), "{action} {name}");
        }
    }
}

#[test]
fn the_provisioner_reaches_nothing_outside_iam_users_groups_and_its_policies() {
    let a = builtin();
    for (action, resource) in [
        ("s3:GetObject", "arn:aws:s3:::bucket/key"),
        ("ec2:RunInstances", "*"),
        ("organizations:LeaveOrganization", "*"),
        (
            "iam:CreateAccessKey",
            "arn:aws:iam::123456789012:user/gatehouse/people/a",
        ),
        (
            "iam:CreateLoginProfile",
            "arn:aws:iam::123456789012:user/ops/robot",
        ),
        ("iam:UpdateAccountPasswordPolicy", "*"),
    ] {
        assert!(
            !allowed(provisioner(&a, &Request::new(action, resource))),
            "{action}"
        );
    }
}

#[test]
fn the_boundary_is_a_ceiling_a_user_cannot_raise() {
    let a = builtin();
    let boundary = arn("policy/gatehouse/GatehouseUserBoundary");
    let denied = [
        Request::new("iam:CreateRole", arn("role/escape")),
        Request::new("iam:CreateUser", arn("user/escape")),
        Request::new("iam:CreateRole", arn("role/escape")).with(
            "iam:PermissionsBoundary",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ),
        Request::new("iam:CreatePolicyVersion", &boundary),
        Request::new("iam:SetDefaultPolicyVersion", &boundary),
        Request::new("iam:DeletePolicy", &boundary),
        Request::new(
            "iam:DeleteUserPermissionsBoundary",
            arn("user/gatehouse/people/me"),
        ),
        Request::new("iam:DeleteRolePermissionsBoundary", arn("role/some-role")),
        Request::new("iam:PutUserPermissionsBoundary", arn("user/anyone")).with(
            "iam:PermissionsBoundary",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ),
        Request::new(
            "iam:UpdateAssumeRolePolicy",
            arn("role/gatehouse/GatehouseProvisioner"),
        ),
        Request::new(
            "iam:PutRolePolicy",
            arn("role/gatehouse/GatehouseProvisioner"),
        ),
        Request::new(
            "iam:AttachRolePolicy",
            arn("role/gatehouse/GatehouseProvisioner"),
        ),
        Request::new("sts:AssumeRole", arn("role/gatehouse/GatehouseProvisioner")),
        Request::new("sts:AssumeRole", arn("role/OrganizationAccountAccessRole")),
        Request::new("iam:PassRole", arn("role/OrganizationAccountAccessRole")),
        Request::new(
            "iam:CreateLoginProfile",
            arn("user/gatehouse/people/someone-else"),
        ),
        Request::new("iam:AddUserToGroup", arn("group/gatehouse/developers")),
        Request::new("iam:AttachGroupPolicy", arn("group/gatehouse/developers")),
        Request::new("organizations:LeaveOrganization", "*"),
    ];
    for r in &denied {
        assert_eq!(
            capped_user(&a, r),
            Decision::ExplicitDeny,
            "{} on {}",
            r.action,
            r.resource
        );
    }
    // What it does not stop: the work the groups grant, and setting up one's own MFA.
    let allowed_work = [
        Request::new("s3:GetObject", "arn:aws:s3:::bucket/key"),
        Request::new("ec2:RunInstances", "*"),
        Request::new("iam:CreateRole", arn("role/app")).with("iam:PermissionsBoundary", &boundary),
        Request::new("iam:ChangePassword", arn("user/gatehouse/people/me")),
        Request::new("iam:EnableMFADevice", arn("user/gatehouse/people/me")),
    ];
    for r in &allowed_work {
        assert!(
            allowed(capped_user(&a, r)),
            "{} on {}",
            r.action,
            r.resource
        );
    }
}

#[test]
fn the_boundary_protects_the_roles_the_policy_file_names() {
    let renamed = Policy::parse(
        &BUILTIN_POLICY
            .replace(
                "provisioner_role = \"GatehouseProvisioner\"",
                "provisioner_role = \"AccessRobot\"",
            )
            .replace(
                "bootstrap_role = \"OrganizationAccountAccessRole\"",
                "bootstrap_role = \"AWSControlTowerExecution\"",
            ),
    )
    .unwrap();
    let a = laid(&renamed);
    for role in [
        arn("role/gatehouse/AccessRobot"),
        arn("role/AWSControlTowerExecution"),
    ] {
        for action in [
            "iam:PutRolePolicy",
            "sts:AssumeRole",
            "iam:UpdateAssumeRolePolicy",
        ] {
            let r = Request::new(action, &role);
            assert_eq!(
                capped_user(&a, &r),
                Decision::ExplicitDeny,
                "{action} on {role}"
            );
        }
    }
}

#[test]
fn people_need_mfa_and_a_service_account_in_the_same_group_does_not() {
    let policy = Policy::builtin().unwrap();
    let id = AccountId::parse(ACCOUNT).unwrap();
    let mfa: Value = serde_json::from_str(&documents::enforce_mfa(Placement {
        partition: "aws",
        account: &id,
    }))
    .unwrap();
    let a = laid(&policy);
    // What a shared group grants, plus the MFA policy it carries, capped by the boundary.
    let group: Value =
        serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
    let as_user = |user: &str, mfa_present: Option<&str>| {
        let mut r = Request::new("s3:GetObject", "arn:aws:s3:::bucket/key")
            .with("aws:PrincipalArn", arn(user));
        if let Some(m) = mfa_present {
            r = r.with("aws:MultiFactorAuthPresent", m);
        }
        evaluate(&[&group, &mfa], Some(&a.boundary), &r)
    };
    let person = "user/gatehouse/people/ada@example.com";
    let service = "user/gatehouse/service/svc-ci";
    assert_eq!(as_user(person, Some("false")), Decision::ExplicitDeny);
    assert_eq!(
        as_user(person, None),
        Decision::ExplicitDeny,
        "access keys, no MFA"
    );
    assert_eq!(as_user(person, Some("true")), Decision::Allowed);
    assert_eq!(
        as_user(service, None),
        Decision::Allowed,
        "a key, no MFA, works"
    );
    assert_eq!(as_user(service, Some("false")), Decision::Allowed);
    // A person may still set up MFA without it.
    let enable = Request::new("iam:EnableMFADevice", arn(person))
        .with("aws:PrincipalArn", arn(person))
        .with("aws:username", "ada@example.com")
        .with("aws:MultiFactorAuthPresent", "false");
    assert_eq!(
        evaluate(&[&group, &mfa], Some(&a.boundary), &enable),
        Decision::Allowed
    );
}
