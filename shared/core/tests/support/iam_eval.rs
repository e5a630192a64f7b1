//! A small IAM policy evaluator, for what the emulator cannot check: moto treats most requests'
//! resources as `*` and evaluates no condition in an identity policy. It follows the IAM
//! policy evaluation logic for one account (identity policies and a permissions boundary; no
//! resource policies, SCPs or sessions): an explicit deny anywhere wins; otherwise a request is
//! allowed when an identity policy allows it and, if there is a boundary, the boundary allows it
//! too.
//!
//! Supported, as documented for IAM JSON policies: `Action`/`NotAction` and
//! `Resource`/`NotResource` with `*` and `?` wildcards (actions case-insensitive); the condition
//! operators the shipped documents use or might (`StringEquals`, `StringNotEquals`,
//! `StringLike`, `StringNotLike`, `ArnEquals`, `ArnLike`, `ArnNotEquals`, `ArnNotLike`, `Bool`,
//! `Null`, and any of them with `IfExists`); several values of one key are ORed, several keys
//! and operators ANDed; a negated operator matches when the key is absent.

use std::collections::BTreeMap;

use serde_json::Value;

/// One request: an action on a resource, with the condition keys the request carries.
pub struct Request {
    pub action: String,
    pub resource: String,
    pub context: BTreeMap<String, String>,
}

impl Request {
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Request {
            action: action.into(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }

    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.context.insert(key.into(), value.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// No statement allows it.
    ImplicitDeny,
    /// A statement denies it.
    ExplicitDeny,
}

/// The decision for `request` made by a principal with `identity` policies and an optional
/// permissions `boundary`.
pub fn evaluate(identity: &[&Value], boundary: Option<&Value>, request: &Request) -> Decision {
    let all = identity.iter().copied().chain(boundary);
    if all
        .clone()
        .any(|p| statements(p).any(|s| effect(s) == "Deny" && applies(s, request)))
    {
        return Decision::ExplicitDeny;
    }
    let allowed_by = |p: &Value| statements(p).any(|s| effect(s) == "Allow" && applies(s, request));
    let identity_allows = identity.iter().any(|p| allowed_by(p));
    let boundary_allows = boundary.is_none_or(allowed_by);
    if identity_allows && boundary_allows {
        Decision::Allowed
    } else {
        Decision::ImplicitDeny
    }
}

fn statements(policy: &Value) -> impl Iterator<Item = &Value> + Clone {
    match &policy["Statement"] {
        Value::Array(a) => a.iter().collect::<Vec<_>>(),
        single => vec![single],
    }
    .into_iter()
}

fn effect(statement: &Value) -> &str {
    statement["Effect"].as_str().unwrap_or("")
}

fn values(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether the statement is about this request (its effect aside).
fn applies(statement: &Value, request: &Request) -> bool {
    let action = |key: &str| {
        values(&statement[key]).iter().any(|p| {
            glob(
                &p.to_ascii_lowercase(),
                &request.action.to_ascii_lowercase(),
            )
        })
    };
    let resource = |key: &str| {
        values(&statement[key])
            .iter()
            .any(|p| glob(&with_variables(p, request), &request.resource))
    };
    let action_matches = if statement.get("NotAction").is_some() {
        !action("NotAction")
    } else {
        action("Action")
    };
    let resource_matches = if statement.get("NotResource").is_some() {
        !resource("NotResource")
    } else {
        resource("Resource")
    };
    action_matches && resource_matches && conditions_hold(&statement["Condition"], request)
}

fn conditions_hold(conditions: &Value, request: &Request) -> bool {
    let Some(operators) = conditions.as_object() else {
        return true;
    };
    operators.iter().all(|(operator, keys)| {
        keys.as_object().is_some_and(|keys| {
            keys.iter().all(|(key, expected)| {
                condition(
                    operator,
                    request.context.get(key.as_str()).map(String::as_str),
                    &values(expected),
                )
            })
        })
    })
}

fn condition(operator: &str, actual: Option<&str>, expected: &[&str]) -> bool {
    if operator == "Null" {
        // "true": the key must be absent; "false": present.
        return expected.iter().any(|e| (*e == "true") == actual.is_none());
    }
    let (base, if_exists) = match operator.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (operator, false),
    };
    let negated = base.contains("Not");
    let Some(actual) = actual else {
        // An absent key: IfExists makes the condition hold; a negated operator holds too.
        return if_exists || negated;
    };
    let matches = |e: &&str| match base {
        "StringEquals" | "StringNotEquals" | "ArnEquals" | "ArnNotEquals" | "Bool" => *e == actual,
        "StringLike" | "StringNotLike" | "ArnLike" | "ArnNotLike" => glob(e, actual),
        other => panic!("condition operator {other} is not supported by this evaluator"),
    };
    expected.iter().any(matches) != negated
}

/// A resource pattern with its policy variables (`${aws:username}`) replaced by the request's
/// values; a variable the request lacks matches nothing, as in IAM.
fn with_variables(pattern: &str, request: &Request) -> String {
    let mut out = pattern.to_owned();
    while let Some(start) = out.find("${") {
        let Some(end) = out[start..].find('}') else {
            break;
        };
        let key = out[start + 2..start + end].to_owned();
        let value = request
            .context
            .get(&key)
            .cloned()
            .unwrap_or_else(|| "\u{0}no-value".to_owned());
        out.replace_range(start..start + end + 1, &value);
    }
    out
}

/// IAM's wildcard match: `*` any run of characters, `?` any one.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod self_checks {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards_match_as_iam_documents_them() {
        assert!(glob(
            "arn:aws:iam::*:user/gatehouse/*",
            "arn:aws:iam::1:user/gatehouse/a/b"
        ));
        assert!(!glob(
            "arn:aws:iam::*:user/gatehouse/*",
            "arn:aws:iam::1:user/ops/a"
        ));
        assert!(glob("iam:list*", "iam:listusers"));
        assert!(glob("a?c", "abc") && !glob("a?c", "ac"));
        assert!(glob("*", "") && glob("", "") && !glob("", "x"));
    }

    #[test]
    fn deny_wins_allow_is_needed_and_the_boundary_caps() {
        let allow_all = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let deny_s3 = json!({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]});
        let only_ec2 =
            json!({"Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}});
        let get = Request::new("s3:GetObject", "arn:aws:s3:::b/k");
        assert_eq!(evaluate(&[&allow_all], None, &get), Decision::Allowed);
        assert_eq!(
            evaluate(&[&allow_all, &deny_s3], None, &get),
            Decision::ExplicitDeny
        );
        assert_eq!(evaluate(&[], None, &get), Decision::ImplicitDeny);
        assert_eq!(
            evaluate(&[&allow_all], Some(&only_ec2), &get),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(&[&allow_all], Some(&deny_s3), &get),
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn not_action_and_conditions_behave_as_documented() {
        let p = json!({"Statement": [
            {"Effect": "Deny", "NotAction": "iam:ChangePassword", "Resource": "*",
             "Condition": {"StringNotEquals": {"k": "v"}}}
        ]});
        let change = Request::new("iam:ChangePassword", "x");
        let other = Request::new("iam:CreateUser", "x");
        assert_eq!(evaluate(&[&p], None, &change), Decision::ImplicitDeny);
        // Absent key: a negated operator holds, so the deny applies.
        assert_eq!(evaluate(&[&p], None, &other), Decision::ExplicitDeny);
        assert_eq!(
            evaluate(
                &[&p],
                None,
                &Request::new("iam:CreateUser", "x").with("k", "v")
            ),
            Decision::ImplicitDeny
        );
        assert!(condition(
            "ArnLike",
            Some("arn:aws:iam::1:policy/a"),
            &["arn:aws:iam::*:policy/*"]
        ));
        assert!(!condition("StringEquals", None, &["v"]));
        assert!(condition("StringEqualsIfExists", None, &["v"]));
        assert!(condition("Null", None, &["true"]) && condition("Null", Some("x"), &["false"]));
    }
}
