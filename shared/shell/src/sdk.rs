//! The AWS SDK configuration both functions run with: how often a failed call is tried again,
//! and how long one may take. The SDK's defaults suit an interactive tool, not a function that
//! a mass layoff sends into IAM's low rate limits: three attempts give up too soon on
//! throttling, and with no attempt timeout one hung connection holds the whole invocation
//! until Lambda kills it, with nothing left to say which call it was.
//!
//! Nor does the SDK's retry quota: a token bucket, shared by every client in the process, that
//! stops retrying once a burst of faults has spent it (500 tokens, 5 per retry, 10 per
//! timeout, earned back one per success). It protects a service from a large fleet of
//! clients; Gatehouse is a handful of instances, and for it a call given up costs the whole
//! event's redelivery a visibility timeout (30 minutes) later, with the leaver's access open
//! meanwhile. Under a fifth of calls failing (the chaos run) the quota runs dry within seconds
//! and nearly every event ends in the dead-letter queue; without it, backed-off retries bounded
//! by [`ATTEMPTS`] see them through. So every client shares a partition with no quota
//! ([`retry_partition`]), and the throttling itself sets the pace.
//!
//! A call that still fails is classified ([`crate::error`]) and a transient failure hands the
//! event back for redelivery: these retries only spare the queue the common, short faults.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use aws_smithy_http_client::tls;
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::Semaphore;

/// Attempts per call, the first included: throttling during a burst usually clears within a
/// few backed-off seconds.
pub const ATTEMPTS: u32 = 5;
/// One attempt of one call: IAM, STS and DynamoDB answer in well under a second; an attempt
/// still waiting after this is on a connection that will not answer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The standard retry strategy (exponential backoff with jitter, a retry quota that stops a
/// failing service from being hammered) with [`ATTEMPTS`] attempts.
pub fn retry() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(ATTEMPTS)
}

/// Every attempt bounded by [`ATTEMPT_TIMEOUT`].
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
}

/// The configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`), with
/// Gatehouse's retries and timeouts, and an HTTPS client that makes its connector on the first
/// call: left to itself, loading the configuration makes one for the credential providers,
/// reading and parsing every trusted root certificate during the cold start.
pub async fn load() -> SdkConfig {
    aws_config::from_env()
        .retry_config(retry())
        .timeout_config(timeouts())
        .http_client(Bounded {
            inner: https(),
            slots: None,
        })
        .load()
        .await
}

/// The HTTPS client of the SDK's current stack (hyper 1, rustls).
fn https() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build_https()
}

/// AWS calls in flight at once, across every client of the process. An offboarding works
/// hundreds of accounts at once ([`crate::config`]'s concurrency bound) with up to eight
/// reads in flight in each; unbounded, that is more sockets than Lambda's 1,024 file
/// descriptors. Calls beyond this wait for a free slot (within their attempt timeout).
pub const CALLS_IN_FLIGHT: usize = 512;

/// `sdk` with one HTTP client for every client built from it, whichever account or role they
/// act as: one connection pool, so that the accounts of a fan-out reuse the connections (and
/// TLS sessions) to IAM and STS instead of each opening its own, and one set of trusted roots
/// parsed once. It keeps at most [`CALLS_IN_FLIGHT`] calls in flight. An HTTP client `sdk`
/// already has (a test's) is kept, bounded the same way.
pub fn shared_http(sdk: &SdkConfig) -> SdkConfig {
    let bounded = Bounded {
        inner: sdk.http_client().unwrap_or_else(https),
        slots: Some(Arc::new(Semaphore::new(CALLS_IN_FLIGHT))),
    };
    sdk.to_builder().http_client(bounded).build()
}

/// An HTTP client that makes its connector on the first call, and lets at most as many calls
/// through at once as it has slots (if it has any).
#[derive(Debug, Clone)]
struct Bounded {
    inner: SharedHttpClient,
    slots: Option<Arc<Semaphore>>,
}

impl HttpClient for Bounded {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(BoundedConnector {
            client: self.inner.clone(),
            settings: settings.clone(),
            components: components.clone(),
            inner: OnceLock::new(),
            slots: self.slots.clone(),
        })
    }
}

/// The connector of [`Bounded`], made on its first call: the SDK asks for connectors when
/// clients are built, at init, and making the HTTPS one reads and parses every trusted root
/// certificate, which is a first call's work, not a cold start's.
#[derive(Debug)]
struct BoundedConnector {
    client: SharedHttpClient,
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
    inner: OnceLock<SharedHttpConnector>,
    slots: Option<Arc<Semaphore>>,
}

impl HttpConnector for BoundedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self
            .inner
            .get_or_init(|| self.client.http_connector(&self.settings, &self.components))
            .clone();
        let slots = self.slots.clone();
        HttpConnectorFuture::new(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _slot = match slots {
                Some(slots) => slots.acquire_owned().await.ok(),
                None => None,
            };
            inner.call(request).await
        })
    }
}

/// The retry partition of every Gatehouse client: its own, without a retry quota.
pub fn retry_partition() -> RetryPartition {
    RetryPartition::custom("gatehouse")
        .token_bucket(TokenBucket::unlimited())
        .build()
}

/// One constructor per service: a client of `sdk` in Gatehouse's [`retry_partition`].
macro_rules! clients {
    ($($name:ident => $service:ident),* $(,)?) => {$(
        #[doc = concat!("A `", stringify!($service), "` client of `sdk`, in Gatehouse's retry partition.")]
        pub fn $name(sdk: &SdkConfig) -> $service::Client {
            $service::Client::from_conf(
                $service::config::Builder::from(sdk)
                    .retry_partition(retry_partition())
                    .build(),
            )
        }
    )*};
}

clients! {
    dynamodb => aws_sdk_dynamodb,
    eventbridge => aws_sdk_eventbridge,
    organizations => aws_sdk_organizations,
    secretsmanager => aws_sdk_secretsmanager,
    sqs => aws_sdk_sqs,
    sts => aws_sdk_sts,
}
