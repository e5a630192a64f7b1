//! The member-account stack (`infra/member-account.yaml`), deployed through the emulator's
//! CloudFormation into member accounts: it lays exactly the documents the functions lay
//! (rendered from the same templates in `shared/policies/`), and `account-created` meeting an
//! account where the stack was deployed changes none of it. (Every other integration test runs
//! through the provisioner role this stack creates: `World::create_account` deploys it.)

use gatehouse::account_setup;
use gatehouse::core::documents::{self, Placement};
use gatehouse::core::ids::AccountId;
use gatehouse_tests::access::{decode_policy, managed_policy_document};
use gatehouse_tests::fixtures::create_account_result;
use gatehouse_tests::world::World;
use serde_json::Value;

/// The provisioner role's trust, its permissions and the boundary, as `account` holds them.
async fn laid(world: &World, account: &str) -> (Value, Value, Value) {
    let iam = world.iam(account).await;
    let role = iam
        .get_role()
        .role_name("GatehouseProvisioner")
        .send()
        .await
        .expect("the provisioner role");
    let role = role.role().unwrap();
    assert_eq!(role.path(), "/gatehouse/");
    assert!(role
        .tags()
        .iter()
        .any(|t| t.key() == "gatehouse:role" && t.value() == "provisioner"));
    let trust = decode_policy(role.assume_role_policy_document().unwrap());
    let permissions = iam
        .get_role_policy()
        .role_name("GatehouseProvisioner")
        .policy_name("GatehouseProvisioner")
        .send()
        .await
        .expect("the provisioner's permissions");
    let permissions = decode_policy(permissions.policy_document());
    let boundary = managed_policy_document(
        &iam,
        &format!("arn:aws:iam::{account}:policy/gatehouse/GatehouseUserBoundary"),
    )
    .await;
    (trust, permissions, boundary)
}

/// What the functions would lay in `account`, rendered by the core.
fn rendered(world: &World, account: &str) -> (Value, Value, Value) {
    let policy = world.config().policy;
    let id = AccountId::parse(account).unwrap();
    let at = Placement {
        partition: "aws",
        account: &id,
    };
    let json = |s: String| serde_json::from_str::<Value>(&s).unwrap();
    (
        json(documents::provisioner_trust(
            &world.trusted_role_arns(),
            &world.organization_id,
        )),
        json(documents::provisioner_permissions(&policy, at)),
        json(documents::boundary(&policy, at)),
    )
}

#[tokio::test]
async fn the_member_stack_lays_exactly_what_the_functions_lay() {
    let world = World::new().await;
    for env in ["development", "production"] {
        let account = world.account(env).to_owned();
        assert_eq!(
            laid(&world, &account).await,
            rendered(&world, &account),
            "{env}: trust, permissions, boundary"
        );
    }
}

#[tokio::test]
async fn account_created_on_a_stacked_account_changes_none_of_the_stacks_documents() {
    let world = World::new().await;
    let account = world.create_account("staging-2", Some("staging")).await;
    let before = laid(&world, &account).await;
    let report = account_setup::handle_payload(
        &world.deps("account-created"),
        create_account_result(&account),
    )
    .await
    .unwrap();
    assert_eq!(report["result"], "baselined", "{report}");
    let created: Vec<&str> = report["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        !created
            .iter()
            .any(|c| c.starts_with("role") || c.ends_with("GatehouseUserBoundary")),
        "the stack laid those: {created:?}"
    );
    assert_eq!(laid(&world, &account).await, before);
}

#[tokio::test]
async fn with_the_member_stack_in_charge_account_created_lays_the_rest_and_waits_for_it() {
    let mut world = World::new().await;
    world.set("GATEHOUSE_MEMBER_STACK", "true");

    // The stack has reached the account: the rest of the baseline is laid, the stack's role
    // and boundary are left exactly as the stack made them.
    let stacked = world.create_account("staging-2", Some("staging")).await;
    let before = laid(&world, &stacked).await;
    world.proxy.reset();
    let report = account_setup::handle_payload(
        &world.deps("account-created"),
        create_account_result(&stacked),
    )
    .await
    .unwrap();
    assert_eq!(report["result"], "baselined", "{report}");
    for untouched in ["CreateRole", "UpdateAssumeRolePolicy", "PutRolePolicy"] {
        assert!(world.proxy.calls_of(untouched).is_empty(), "{untouched}");
    }
    assert!(world
        .proxy
        .calls_of("CreatePolicy")
        .iter()
        .all(|c| c.params["PolicyName"] != "GatehouseUserBoundary"));
    assert_eq!(laid(&world, &stacked).await, before);
    let groups = world
        .iam(&stacked)
        .await
        .list_groups()
        .path_prefix("/gatehouse/")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups().len(), 1, "stakeholders");

    // Not yet: the event is handed back to be retried, and nothing is laid meanwhile.
    let bare = world
        .create_bare_account("staging-3", Some("staging"))
        .await;
    world.proxy.reset();
    let err =
        account_setup::handle_payload(&world.deps("account-created"), create_account_result(&bare))
            .await
            .expect_err("not yet");
    assert_eq!(err.kind(), gatehouse::FailureKind::Transient, "{err}");
    assert!(matches!(err, gatehouse::Error::NotYet { .. }), "{err}");
    let writes = gatehouse_tests::scenario::iam_writes(&world.proxy.calls());
    assert_eq!(
        writes,
        Vec::<String>::new(),
        "nothing laid before the stack is there"
    );
}
