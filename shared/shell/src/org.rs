//! The organization's account directory: which ACTIVE member accounts exist and which environment
//! each one is (its Organizations tag). Cached across warm invocations; the cache saves calls but
//! never hides a fact: an account id it does not know triggers a fresh read before anything is
//! decided, revocations list the accounts afresh (a leaver must not keep a user in an account
//! this process has not heard of yet), and the tags are re-read after a configurable time.
//!
//! The management account is not a member account: Gatehouse gives nobody access there and has
//! no role to assume there, so it is never listed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_organizations::types::{Account as OrgAccount, AccountState, AccountStatus};
use futures::stream::{self, StreamExt, TryStreamExt};
use tokio::sync::Mutex;

use gatehouse_core::access::{Access, Scope};
use gatehouse_core::ids::AccountId;

use crate::error::{aws, Error};

/// Organizations' API allows a handful of requests a second; this keeps tag reads well inside it.
const TAG_READS_AT_ONCE: usize = 4;

/// The organization Gatehouse works in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// `o-…`: what the provisioner role's trust requires of its callers (`aws:PrincipalOrgID`).
    pub id: String,
    pub management: Option<AccountId>,
}

/// An ACTIVE member account of the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    /// The value of the environment tag, if the account has one.
    pub environment: Option<String>,
}

pub struct AccountDirectory {
    client: aws_sdk_organizations::Client,
    tag_key: String,
    ttl: Duration,
    cache: Mutex<Option<(Instant, Arc<Vec<Account>>)>>,
    /// The organization's id and management account: they never change.
    organization: tokio::sync::OnceCell<Organization>,
}

impl AccountDirectory {
    pub fn new(client: aws_sdk_organizations::Client, tag_key: String, ttl: Duration) -> Self {
        AccountDirectory {
            client,
            tag_key,
            ttl,
            cache: Mutex::new(None),
            organization: tokio::sync::OnceCell::new(),
        }
    }

    /// Every ACTIVE account, from the cache while it is fresh.
    pub async fn accounts(&self) -> Result<Arc<Vec<Account>>, Error> {
        // Holding the lock while reading makes concurrent callers share one refresh.
        let mut cache = self.cache.lock().await;
        if let Some((at, accounts)) = cache.as_ref() {
            if at.elapsed() < self.ttl {
                return Ok(accounts.clone());
            }
        }
        let read_at = Instant::now();
        let fresh = Arc::new(self.read(&[]).await?);
        *cache = Some((read_at, fresh.clone()));
        Ok(fresh)
    }

    /// Every ACTIVE account, listed now. Environments of accounts the cache knows are taken
    /// from it while it is fresh (an account's tag rarely changes; its existence is what a
    /// revocation must not miss), so this costs the listing plus the tags of new accounts.
    pub async fn accounts_now(&self) -> Result<Arc<Vec<Account>>, Error> {
        let mut cache = self.cache.lock().await;
        let (read_at, known) = match cache.as_ref() {
            Some((at, accounts)) if at.elapsed() < self.ttl => (*at, accounts.clone()),
            _ => (Instant::now(), Arc::new(Vec::new())),
        };
        let fresh = Arc::new(self.read(&known).await?);
        *cache = Some((read_at, fresh.clone()));
        Ok(fresh)
    }

    /// The ACTIVE accounts tagged with `environment`.
    pub async fn in_environment(&self, environment: &str) -> Result<Vec<Account>, Error> {
        Ok(self
            .accounts()
            .await?
            .iter()
            .filter(|a| a.environment.as_deref() == Some(environment))
            .cloned()
            .collect())
    }

    /// The accounts a convergence in `scope` works on: those of the environments `access`
    /// grants, every ACTIVE one, or the one named.
    pub async fn in_scope(&self, scope: Scope, access: &Access) -> Result<Vec<Account>, Error> {
        Ok(match scope {
            Scope::Granted => {
                let mut v = Vec::new();
                for env in access.granted.keys() {
                    v.extend(self.in_environment(env).await?);
                }
                v
            }
            Scope::Everywhere => self.accounts_now().await?.to_vec(),
            Scope::One(id) => self.find(&id).await?.into_iter().collect(),
        })
    }

    /// One account by id; an id the cache does not know refreshes it first. `None`: the
    /// organization has no ACTIVE account with that id.
    pub async fn find(&self, id: &AccountId) -> Result<Option<Account>, Error> {
        if let Some(a) = self.accounts().await?.iter().find(|a| &a.id == id) {
            return Ok(Some(a.clone()));
        }
        self.invalidate().await;
        Ok(self.accounts().await?.iter().find(|a| &a.id == id).cloned())
    }

    /// Forgets the cached list: the next read goes to Organizations.
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    /// Lists the ACTIVE member accounts; the environments of `known` accounts are reused.
    async fn read(&self, known: &[Account]) -> Result<Vec<Account>, Error> {
        let management = self.organization().await?.management.as_ref();
        let pages = self
            .client
            .list_accounts()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws("organizations", "ListAccounts", None, e))?;
        let listed: Vec<OrgAccount> = pages
            .into_iter()
            .flat_map(|p| p.accounts.unwrap_or_default())
            .collect();
        let active: Vec<(AccountId, String)> = listed
            .into_iter()
            .filter(is_active)
            .filter_map(|a| {
                // Organizations only returns 12-digit ids; anything else is skipped, not trusted.
                let id = AccountId::parse(a.id()?).ok()?;
                Some((id, a.name().unwrap_or_default().to_owned()))
            })
            .filter(|(id, _)| Some(id) != management)
            .collect();
        stream::iter(active)
            .map(|(id, name)| async move {
                let environment = match known.iter().find(|a| a.id == id) {
                    Some(a) => a.environment.clone(),
                    None => self.environment_tag(&id).await?,
                };
                Ok::<_, Error>(Account {
                    id,
                    name,
                    environment,
                })
            })
            .buffered(TAG_READS_AT_ONCE)
            .try_collect()
            .await
    }

    /// The organization (read once per process): its id, which the provisioner role's trust
    /// names, and its management account, which is never listed.
    pub async fn organization(&self) -> Result<&Organization, Error> {
        self.organization
            .get_or_try_init(|| async {
                let out = self
                    .client
                    .describe_organization()
                    .send()
                    .await
                    .map_err(|e| aws("organizations", "DescribeOrganization", None, e))?;
                let org = out.organization().ok_or(Error::IncompleteAnswer {
                    operation: "DescribeOrganization",
                    missing: "organization",
                })?;
                Ok::<_, Error>(Organization {
                    id: org.id().unwrap_or_default().to_owned(),
                    management: org
                        .master_account_id()
                        .and_then(|id| AccountId::parse(id).ok()),
                })
            })
            .await
    }

    async fn environment_tag(&self, id: &AccountId) -> Result<Option<String>, Error> {
        let pages = self
            .client
            .list_tags_for_resource()
            .resource_id(id.as_str())
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws("organizations", "ListTagsForResource", Some(id.as_str()), e))?;
        Ok(pages
            .into_iter()
            .flat_map(|p| p.tags.unwrap_or_default())
            .find(|t| t.key() == self.tag_key)
            .map(|t| t.value().to_owned()))
    }
}

/// `State` is the current field; `Status` is its deprecated predecessor that some endpoints
/// still fill alone. Either must say ACTIVE.
fn is_active(a: &OrgAccount) -> bool {
    match (a.state(), a.status()) {
        (Some(state), _) => *state == AccountState::Active,
        (None, Some(status)) => *status == AccountStatus::Active,
        (None, None) => false,
    }
}
