//! The functions' execution-role policies, read from `infra/template.yaml` (the SAM template a
//! platform team deploys) and resolved for a local world, so that the functions run in the
//! emulator under exactly the permissions they will have in AWS.
//!
//! Resolving a template is CloudFormation's job; this knows just the intrinsics the execution
//! roles use (`Ref`, `Fn::Sub`, `Fn::GetAtt`, `Fn::Join`, `Fn::Split`, `Fn::Select`,
//! `Fn::If` on no condition) and fails loudly on anything else, so a template change the
//! tests cannot follow is noticed, not skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use serde_yaml::Value as Yaml;

/// The SAM template.
pub fn path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml")
}

/// The work queue's `maxReceiveCount`: how many receives a message gets before it is moved to
/// the dead-letter queue.
pub fn work_queue_max_receive_count() -> usize {
    let text = std::fs::read_to_string(path()).expect("infra/template.yaml");
    let template: Yaml = serde_yaml::from_str(&text).expect("the SAM template is YAML");
    template["Resources"]["WorkQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
        .as_u64()
        .expect("the work queue has a redrive policy with a maxReceiveCount") as usize
}

/// What the template's names stand for in a world: resource logical id -> (Ref, Arn).
pub struct Resolution {
    pub region: String,
    pub account: String,
    pub parameters: BTreeMap<String, String>,
    pub resources: BTreeMap<String, (String, String)>,
}

/// The policy documents of the execution role named `role_name` (inline `Policies`, and
/// `AWS::IAM::Policy` / `AWS::IAM::ManagedPolicy` resources attached to it), resolved.
pub fn execution_role_policies(role_name: &str, names: &dyn Fn(&Yaml) -> Resolution) -> Vec<Value> {
    let text = std::fs::read_to_string(path()).expect("infra/template.yaml");
    let template: Yaml = serde_yaml::from_str(&text).expect("the SAM template is YAML");
    let resolution = names(&template);
    let resources = template["Resources"]
        .as_mapping()
        .expect("the template's Resources");
    let (logical_id, role) = resources
        .iter()
        .find(|(_, r)| {
            r["Type"].as_str() == Some("AWS::IAM::Role")
                && resolve(&r["Properties"]["RoleName"], &resolution) == json!(role_name)
        })
        .unwrap_or_else(|| panic!("no AWS::IAM::Role named {role_name} in the template"));
    let logical_id = logical_id.as_str().unwrap_or_default();
    let mut documents: Vec<Value> = role["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|p| resolve(&p["PolicyDocument"], &resolution))
        .collect();
    for (_, r) in resources {
        let kind = r["Type"].as_str().unwrap_or_default();
        if kind != "AWS::IAM::Policy" && kind != "AWS::IAM::ManagedPolicy" {
            continue;
        }
        let attached = r["Properties"]["Roles"].as_sequence().into_iter().flatten().any(|x| {
            matches!(x, Yaml::Tagged(t) if t.tag == "!Ref" && t.value.as_str() == Some(logical_id))
                || x["Ref"].as_str() == Some(logical_id)
        });
        if attached {
            documents.push(resolve(&r["Properties"]["PolicyDocument"], &resolution));
        }
    }
    assert!(
        !documents.is_empty(),
        "{role_name} has no policy in the template"
    );
    documents
}

/// A template value with its intrinsics resolved.
pub fn resolve(v: &Yaml, r: &Resolution) -> Value {
    match v {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => json!(b),
        Yaml::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        Yaml::String(s) => json!(s),
        Yaml::Sequence(items) => Value::Array(items.iter().map(|i| resolve(i, r)).collect()),
        Yaml::Mapping(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next().unwrap();
            match k.as_str() {
                Some(
                    f
                    @ ("Ref" | "Fn::Sub" | "Fn::GetAtt" | "Fn::Join" | "Fn::Split" | "Fn::Select"),
                ) => intrinsic(f, arg, r),
                _ => Value::Object(
                    m.iter()
                        .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), resolve(v, r)))
                        .collect(),
                ),
            }
        }
        Yaml::Mapping(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), resolve(v, r)))
                .collect(),
        ),
        Yaml::Tagged(t) => {
            let name = match t.tag.to_string().trim_start_matches('!') {
                "Ref" => "Ref".to_owned(),
                other => format!("Fn::{other}"),
            };
            intrinsic(&name, &t.value, r)
        }
    }
}

fn intrinsic(f: &str, arg: &Yaml, r: &Resolution) -> Value {
    match f {
        "Ref" => json!(reference(
            arg.as_str().expect("Ref names a string"),
            None,
            r
        )),
        "Fn::GetAtt" => {
            let (id, attribute) = match arg {
                Yaml::String(s) => s.split_once('.').expect("GetAtt Resource.Attribute"),
                Yaml::Sequence(p) => (p[0].as_str().unwrap(), p[1].as_str().unwrap()),
                other => panic!("GetAtt {other:?}"),
            };
            json!(reference(id, Some(attribute), r))
        }
        "Fn::Sub" => {
            let (template, vars) = match arg {
                Yaml::String(s) => (s.as_str(), BTreeMap::new()),
                Yaml::Sequence(p) => (
                    p[0].as_str().expect("Sub's template"),
                    p[1].as_mapping()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| {
                            let v = resolve(v, r);
                            (
                                k.as_str().unwrap().to_owned(),
                                v.as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect(),
                ),
                other => panic!("Sub {other:?}"),
            };
            json!(substitute(template, &vars, r))
        }
        "Fn::Join" => {
            let p = arg.as_sequence().expect("Join [sep, list]");
            let sep = p[0].as_str().unwrap_or_default();
            let items: Vec<String> = match resolve(&p[1], r) {
                Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().unwrap_or_default().to_owned())
                    .collect(),
                other => panic!("Join of {other}"),
            };
            json!(items.join(sep))
        }
        "Fn::Split" => {
            let p = arg.as_sequence().expect("Split [sep, string]");
            let sep = p[0].as_str().unwrap_or_default();
            let s = resolve(&p[1], r);
            json!(s
                .as_str()
                .unwrap_or_default()
                .split(sep)
                .collect::<Vec<_>>())
        }
        "Fn::Select" => {
            let p = arg.as_sequence().expect("Select [index, list]");
            let i: usize = p[0]
                .as_u64()
                .map(|n| n as usize)
                .or_else(|| p[0].as_str()?.parse().ok())
                .unwrap();
            resolve(&p[1], r)[i].clone()
        }
        other => panic!("the template uses {other}, which the tests cannot resolve"),
    }
}

fn reference(id: &str, attribute: Option<&str>, r: &Resolution) -> String {
    match (id, attribute) {
        ("AWS::Partition", None) => "aws".to_owned(),
        ("AWS::Region", None) => r.region.clone(),
        ("AWS::AccountId", None) => r.account.clone(),
        ("AWS::URLSuffix", None) => "amazonaws.com".to_owned(),
        ("AWS::StackName", None) => "gatehouse".to_owned(),
        _ => {
            if let Some(p) = r.parameters.get(id) {
                return p.clone();
            }
            let (reference, arn) = r.resources.get(id).unwrap_or_else(|| {
                panic!("the template refers to {id}, which the world does not name")
            });
            match attribute {
                None => reference.clone(),
                Some("Arn") => arn.clone(),
                Some(other) => panic!("GetAtt {id}.{other}"),
            }
        }
    }
}

fn substitute(template: &str, vars: &BTreeMap<String, String>, r: &Resolution) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').expect("a closed ${...}");
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            out.push_str(&format!("${{{literal}}}"));
        } else if let Some(v) = vars.get(name) {
            out.push_str(v);
        } else {
            let (id, attribute) = match name.split_once('.') {
                Some((id, attribute)) => (id, Some(attribute)),
                None => (name, None),
            };
            out.push_str(&reference(id, attribute, r));
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}
