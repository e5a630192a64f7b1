//! What the roles may *not* do, in a world whose emulator enforces IAM authorization with the
//! policies of `infra/template.yaml` (the execution roles) and `infra/member-account.yaml` (the
//! provisioner role). The emulator checks actions (and the role an AssumeRole names), not
//! conditions: the denies that rest on a condition (an unlisted policy ARN, a user without the
//! boundary) are proved on the documents themselves, in `shared/core/tests/privileges.rs`.
//!
//! (That the roles may do everything Gatehouse does is the whole integration suite, which
//! `make test` runs a second time with authorization enforced.)

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_smithy_types::error::display::DisplayErrorContext;
use gatehouse_tests::world::World;

/// Asserts that a call was refused for lack of permission. (The emulator answers JSON
/// services' refusals in XML, which their SDKs cannot read: status 403 is what is left.)
fn refused<T, E>(
    what: &str,
    result: Result<T, aws_sdk_iam::error::SdkError<E, aws_sdk_iam::config::http::HttpResponse>>,
) where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => panic!("{what} was allowed"),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            assert!(
                e.code() == Some("AccessDenied") || status == Some(403),
                "{what}: not a refusal: {}",
                DisplayErrorContext(&e)
            );
        }
    }
}

/// An IAM client acting as the provisioner role in `account`, assumed as people-events does.
async fn as_provisioner(world: &World, account: &str) -> aws_sdk_iam::Client {
    let c = aws_sdk_sts::Client::new(world.execution_role_sdk("people-events"))
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{account}:role/gatehouse/GatehouseProvisioner"
        ))
        .role_session_name("authorization-test")
        .send()
        .await
        .expect("people-events may assume the provisioner role")
        .credentials
        .expect("credentials");
    let credentials = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "provisioner",
    );
    let config = aws_sdk_iam::config::Builder::from(world.execution_role_sdk("people-events"))
        .credentials_provider(credentials)
        .endpoint_url(&world.emulator)
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

#[tokio::test]
async fn the_provisioner_puts_no_inline_policy_and_cannot_touch_its_own_role() {
    let world = World::enforcing_authorization().await;
    let dev = world.account("development").to_owned();
    let iam = as_provisioner(&world, &dev).await;

    // What it may do (so that the refusals below are refusals, not a broken session).
    iam.create_user()
        .user_name("ada@example.com")
        .path("/gatehouse/people/")
        .permissions_boundary(format!(
            "arn:aws:iam::{dev}:policy/gatehouse/GatehouseUserBoundary"
        ))
        .send()
        .await
        .expect("the provisioner creates a bounded user");

    let allow_all =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    refused(
        "PutUserPolicy",
        iam.put_user_policy()
            .user_name("ada@example.com")
            .policy_name("escape")
            .policy_document(allow_all)
            .send()
            .await,
    );
    refused(
        "UpdateAssumeRolePolicy on itself",
        iam.update_assume_role_policy()
            .role_name("GatehouseProvisioner")
            .policy_document(allow_all)
            .send()
            .await,
    );
    refused(
        "PutRolePolicy on itself",
        iam.put_role_policy()
            .role_name("GatehouseProvisioner")
            .policy_name("escape")
            .policy_document(allow_all)
            .send()
            .await,
    );
    refused(
        "AttachRolePolicy on itself",
        iam.attach_role_policy()
            .role_name("GatehouseProvisioner")
            .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
            .send()
            .await,
    );
    refused(
        "CreateRole",
        iam.create_role()
            .role_name("escape")
            .assume_role_policy_document(allow_all)
            .send()
            .await,
    );
    refused(
        "CreatePolicyVersion of the boundary",
        iam.create_policy_version()
            .policy_arn(format!(
                "arn:aws:iam::{dev}:policy/gatehouse/GatehouseUserBoundary"
            ))
            .policy_document(allow_all)
            .set_as_default(true)
            .send()
            .await,
    );
    refused(
        "DeleteUserPermissionsBoundary",
        iam.delete_user_permissions_boundary()
            .user_name("ada@example.com")
            .send()
            .await,
    );
    refused(
        "CreateAccessKey",
        iam.create_access_key()
            .user_name("ada@example.com")
            .send()
            .await,
    );
}

#[tokio::test]
async fn each_execution_role_reaches_only_what_its_function_needs() {
    let world = World::enforcing_authorization().await;
    let dev = world.account("development").to_owned();

    // account-created may assume the bootstrap role, never the provisioner role; people-events
    // the other way round.
    let sts = |f: &str| aws_sdk_sts::Client::new(world.execution_role_sdk(f));
    let assume = |client: aws_sdk_sts::Client, role: String| async move {
        client
            .assume_role()
            .role_arn(role)
            .role_session_name("authorization-test")
            .send()
            .await
    };
    let provisioner = format!("arn:aws:iam::{dev}:role/gatehouse/GatehouseProvisioner");
    let bootstrap = format!("arn:aws:iam::{dev}:role/OrganizationAccountAccessRole");
    refused(
        "account-created assuming the provisioner role",
        assume(sts("account-created"), provisioner.clone()).await,
    );
    refused(
        "people-events assuming the bootstrap role",
        assume(sts("people-events"), bootstrap.clone()).await,
    );
    assume(sts("account-created"), bootstrap.clone())
        .await
        .expect("account-created assumes the bootstrap role");
    assume(sts("people-events"), provisioner.clone())
        .await
        .expect("people-events assumes the provisioner role");

    // reconcile reads member accounts through the provisioner role, and nothing more.
    refused(
        "reconcile assuming the bootstrap role",
        assume(sts("reconcile"), bootstrap.clone()).await,
    );
    assume(sts("reconcile"), provisioner.clone())
        .await
        .expect("reconcile assumes the provisioner role");
    refused(
        "reconcile writing the directory",
        aws_sdk_dynamodb::Client::new(world.execution_role_sdk("reconcile"))
            .delete_item()
            .table_name(gatehouse_tests::world::TABLE)
            .key(
                "employeeId",
                aws_sdk_dynamodb::types::AttributeValue::S("E1".into()),
            )
            .send()
            .await,
    );

    // None touches IAM in the functions' own account.
    for f in ["people-events", "account-created", "reconcile"] {
        refused(
            &format!("{f}: CreateUser in its own account"),
            aws_sdk_iam::Client::new(world.execution_role_sdk(f))
                .create_user()
                .user_name("escape")
                .send()
                .await,
        );
    }
    // people-events writes initial passwords; it never reads one back.
    let secrets = aws_sdk_secretsmanager::Client::new(world.execution_role_sdk("people-events"));
    let got = secrets
        .get_secret_value()
        .secret_id("gatehouse/initial-password/x/y")
        .send()
        .await;
    assert!(
        got.as_ref()
            .err()
            .and_then(|e| e.raw_response())
            .is_some_and(|r| r.status().as_u16() == 403),
        "people-events reading a secret: {got:?}"
    );
}
