//! Which regions a server answers in: configured ones, or its own plus those already holding
//! data — so a mistyped `AWS_REGION` is refused instead of silently opening an empty namespace.

/// The regions a server serves, sorted, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedRegions {
    regions: Vec<String>,
}

impl ServedRegions {
    /// `configured` (from `--regions`) when given; otherwise `own` (the server's region)
    /// together with every region that holds data.
    pub fn new(configured: &[String], own: &str, with_data: &[String]) -> ServedRegions {
        let mut regions: Vec<String> = if configured.is_empty() {
            std::iter::once(own.to_string())
                .chain(with_data.iter().cloned())
                .collect()
        } else {
            configured.to_vec()
        };
        regions.sort();
        regions.dedup();
        ServedRegions { regions }
    }

    pub fn serves(&self, region: &str) -> bool {
        self.regions
            .binary_search_by(|r| r.as_str().cmp(region))
            .is_ok()
    }

    pub fn list(&self) -> &[String] {
        &self.regions
    }

    /// The answer to a request signed for a region this server does not serve: AWS's
    /// `InvalidSignatureException` text for a credential scoped to the wrong region (as quoted
    /// in aws-sdk-java#1097 and aws-sdk-ruby#508), then the regions served.
    pub fn refusal(&self, region: &str) -> String {
        format!(
            "Credential should be scoped to a valid region, not '{region}'. This server serves {} \
             (bosun server --regions adds more).",
            self.regions.join(", ")
        )
    }
}

/// Whether `text` is shaped like an AWS region name (`us-east-1`, `ap-northeast-1`,
/// `us-gov-west-1`): lowercase words joined by `-`, ending in a number.
pub fn is_region_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    text.len() <= 32
        && words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn own_region_and_regions_with_data_by_default_configured_ones_otherwise() {
        let by_default =
            ServedRegions::new(&[], "us-east-1", &strings(&["eu-west-1", "us-east-1"]));
        assert_eq!(by_default.list(), ["eu-west-1", "us-east-1"]);
        assert!(by_default.serves("eu-west-1"));
        assert!(!by_default.serves("us-esat-1"));
        let configured = ServedRegions::new(
            &strings(&["ap-northeast-1"]),
            "us-east-1",
            &strings(&["eu-west-1"]),
        );
        assert_eq!(configured.list(), ["ap-northeast-1"]);
        assert_eq!(
            configured.refusal("us-east-1"),
            "Credential should be scoped to a valid region, not 'us-east-1'. This server serves \
             ap-northeast-1 (bosun server --regions adds more)."
        );
    }

    #[test]
    fn region_names() {
        for ok in [
            "us-east-1",
            "ap-northeast-1",
            "us-gov-west-1",
            "eu-central-2",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "",
            "us",
            "us-east",
            "US-east-1",
            "us-east-x",
            "us--1",
            "-east-1",
            "us-east-1-",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}
