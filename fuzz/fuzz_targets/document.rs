//! Fuzz target: any bytes through the document parsers (JSON, YAML), validation for every
//! document type, and planning of valid Command documents with their default parameters.
//! Nothing may panic; a valid document must survive rendering to the other format and back.

#![no_main]

use std::collections::BTreeMap;

use bosun_core::document::{
    parse_content, plan_steps, render, resolve_parameters, validate, CommandDocument,
    DocumentFormat, DocumentType,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [DocumentFormat::Json, DocumentFormat::Yaml] {
        let Ok(value) = parse_content(text, format) else {
            continue;
        };
        for t in DocumentType::ALL {
            let _ = validate(&value, t);
        }
        let Ok(doc) = validate(&value, DocumentType::Command) else {
            continue;
        };
        let other = match format {
            DocumentFormat::Json => DocumentFormat::Yaml,
            _ => DocumentFormat::Json,
        };
        let again = parse_content(&render(&value, other), other)
            .expect("a rendered document parses again");
        assert_eq!(again, value, "the round trip through {other:?} changes nothing");
        let doc = CommandDocument::from_validated(doc);
        if let Ok(params) = resolve_parameters(&doc.parameters, &BTreeMap::new()) {
            let _ = plan_steps(&doc, &params);
        }
    }
});
