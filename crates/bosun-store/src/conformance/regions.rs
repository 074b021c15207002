//! Regions holding data.

use super::fixtures::{activation, audit_record, parameter, tags, LIMITS, OTHER_REGION, REGION};
use crate::prelude::*;

pub fn regions_with_resources_are_listed_once_sorted(s: &dyn Store) {
    assert!(s.regions_with_data().unwrap().is_empty());
    // An audit record (a refused call leaves one) does not make its region hold data.
    let mut refused = audit_record(1, "ssm:GetParameter");
    refused.region = "us-esat-1".into();
    s.append_audit(&refused).unwrap();
    assert!(s.regions_with_data().unwrap().is_empty());

    s.create_activation(&activation("a1", 1), "h", &[]).unwrap();
    s.create_activation(&activation("a2", 1), "h", &[]).unwrap();
    assert_eq!(s.regions_with_data().unwrap(), [REGION]);
    assert!(s
        .add_tags("ap-northeast-1", "Document", "d", &tags(&[("k", "v")]), 50)
        .unwrap());
    let mut other = parameter("/p", 1);
    other.region = OTHER_REGION.into();
    s.put_parameter(&other, None, false, &[], &LIMITS).unwrap();
    assert_eq!(
        s.regions_with_data().unwrap(),
        ["ap-northeast-1", OTHER_REGION, REGION]
    );
}
