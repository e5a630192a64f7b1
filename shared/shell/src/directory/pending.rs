//! Outcomes the bus refused, kept on the employee's record until they are published.

use aws_sdk_dynamodb::types::AttributeValue;
use gatehouse_core::ids::EmployeeId;
use gatehouse_core::outcome::BusEvent;

use super::{n, s, EmployeeDirectory};
use crate::error::{aws, Error};

/// The attribute holding an employee's pending outcomes: a list of JSON strings.
pub(super) const PENDING: &str = "pendingOutcomes";

pub(super) fn pending_value(pending: &[BusEvent]) -> AttributeValue {
    AttributeValue::L(
        pending
            .iter()
            // A struct of two strings: serializing it cannot fail.
            .map(|e| s(&serde_json::to_string(e).unwrap_or_default()))
            .collect(),
    )
}

impl EmployeeDirectory {
    /// Keeps `outcomes` (which the bus refused) on the employee's record, after any already
    /// kept, to be published by the next event for them. An update, not a rewrite: it bumps the
    /// version, so that a concurrent write of the record merged from before it fails and merges
    /// again (carrying these along) instead of writing over them.
    pub async fn add_pending(&self, id: &EmployeeId, outcomes: &[BusEvent]) -> Result<(), Error> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("employeeId", s(id.as_str()))
            .condition_expression("attribute_exists(employeeId)")
            .update_expression("SET #p = list_append(if_not_exists(#p, :none), :new) ADD #v :one")
            .expression_attribute_names("#p", PENDING)
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":new", pending_value(outcomes))
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(|e| aws("dynamodb", "UpdateItem", None, e))?;
        Ok(())
    }

    /// Forgets the kept outcomes once `published` (what was read and has now been published),
    /// and only if nothing was added since: outcomes another delivery kept meanwhile stay for
    /// the next event (published twice at worst, never lost).
    pub async fn clear_pending(
        &self,
        id: &EmployeeId,
        published: &[BusEvent],
    ) -> Result<(), Error> {
        let cleared = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("employeeId", s(id.as_str()))
            .condition_expression("#p = :published")
            .update_expression("REMOVE #p ADD #v :one")
            .expression_attribute_names("#p", PENDING)
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":published", pending_value(published))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        match cleared {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(aws("dynamodb", "UpdateItem", None, e)),
        }
    }
}
