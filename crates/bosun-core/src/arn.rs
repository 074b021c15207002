//! ARNs for Bosun resources, in AWS's format (`arn:aws:ssm:<region>:<account>:<type>/<id>`).

/// Where a resource lives: the region from the request's signature scope and the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub region: String,
    pub account_id: String,
}

impl Scope {
    pub fn new(region: impl Into<String>, account_id: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            account_id: account_id.into(),
        }
    }

    /// `arn:aws:ssm:<region>:<account>:<resource>`.
    pub fn ssm_arn(&self, resource: &str) -> String {
        format!("arn:aws:ssm:{}:{}:{resource}", self.region, self.account_id)
    }

    pub fn managed_instance_arn(&self, instance_id: &str) -> String {
        self.ssm_arn(&format!("managed-instance/{instance_id}"))
    }

    pub fn activation_arn(&self, activation_id: &str) -> String {
        self.ssm_arn(&format!("activation/{activation_id}"))
    }
}
