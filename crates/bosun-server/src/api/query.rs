//! AWS's query protocol, as botocore writes and reads it: form-encoded requests
//! (`Action=…&Version=…`, lists as `Name.member.N`, maps as `Name.entry.N.key`/`.value`) and XML
//! answers (`<OpResponse><OpResult>…</OpResult><ResponseMetadata>…`, lists as `<member>`, maps
//! as `<entry><key>…</key><value>…</value></entry>`). Errors are written in `error.rs`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A form body as a JSON object of its fields (a repeated field keeps its last value).
pub fn form_fields(body: &[u8]) -> Value {
    let mut fields = Map::new();
    for (k, v) in form_urlencoded::parse(body) {
        fields.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    Value::Object(fields)
}

/// One string field.
pub fn field<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

/// The numbered groups of a flattened collection `prefix.N.…`, in N order: for each N, the
/// fields below it by their remaining name (`key`, `Value.DataType`, …).
fn numbered(input: &Value, prefix: &str) -> Vec<BTreeMap<String, String>> {
    let mut groups: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
    let Some(fields) = input.as_object() else {
        return Vec::new();
    };
    let head = format!("{prefix}.");
    for (k, v) in fields {
        let Some(rest) = k.strip_prefix(&head) else {
            continue;
        };
        let (n, name) = rest.split_once('.').unwrap_or((rest, ""));
        if let (Ok(n), Some(v)) = (n.parse::<u32>(), v.as_str()) {
            groups
                .entry(n)
                .or_default()
                .insert(name.to_string(), v.to_string());
        }
    }
    groups.into_values().collect()
}

/// A map field (`Name.entry.N.key` / `Name.entry.N.value`), in order; an entry missing its
/// key is skipped, a missing value is empty.
pub fn map_field(input: &Value, name: &str) -> Vec<(String, String)> {
    numbered(input, &format!("{name}.entry"))
        .into_iter()
        .filter_map(|mut e| {
            let key = e.remove("key")?;
            Some((key, e.remove("value").unwrap_or_default()))
        })
        .collect()
}

/// A list of strings (`Name.member.N`).
pub fn list_field(input: &Value, name: &str) -> Vec<String> {
    numbered(input, &format!("{name}.member"))
        .into_iter()
        .filter_map(|mut m| m.remove(""))
        .collect()
}

/// A list of structures (`Name.member.N.Field`), each as its fields.
pub fn struct_list_field(input: &Value, name: &str) -> Vec<BTreeMap<String, String>> {
    numbered(input, &format!("{name}.member"))
}

/// A map of structures (`Name.entry.N.Name` + `Name.entry.N.Value.Field`): (name, fields).
pub fn struct_map_field(input: &Value, name: &str) -> Vec<(String, BTreeMap<String, String>)> {
    numbered(input, &format!("{name}.entry"))
        .into_iter()
        .filter_map(|mut e| {
            let key = e.remove("Name")?;
            let value = e
                .into_iter()
                .filter_map(|(k, v)| k.strip_prefix("Value.").map(|k| (k.to_string(), v)))
                .collect();
            Some((key, value))
        })
        .collect()
}

/// Text escaped for XML content.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// The XML answer of `op`. `value` is the result structure: an object's members become
/// elements, arrays become `<member>` lists, and a member named `Attributes` holding an
/// object is a map (`<entry><key>…<value>…`). `null` means the operation has no result.
pub fn answer_xml(xmlns: &str, op: &str, value: &Value, request_id: &str) -> String {
    let mut out = format!("<{op}Response xmlns=\"{xmlns}\">");
    if !value.is_null() {
        out.push_str(&format!("<{op}Result>"));
        write_members(&mut out, value);
        out.push_str(&format!("</{op}Result>"));
    }
    out.push_str(&format!(
        "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op}Response>"
    ));
    out
}

fn write_members(out: &mut String, value: &Value) {
    let Some(members) = value.as_object() else {
        return;
    };
    for (name, v) in members {
        match v {
            Value::Null => {}
            Value::Object(map) if name == "Attributes" => {
                out.push_str("<Attributes>");
                for (k, v) in map {
                    let text = v.as_str().map(str::to_string).unwrap_or(v.to_string());
                    out.push_str(&format!(
                        "<entry><key>{}</key><value>{}</value></entry>",
                        escape(k),
                        escape(&text)
                    ));
                }
                out.push_str("</Attributes>");
            }
            _ => {
                out.push_str(&format!("<{name}>"));
                write_value(out, v);
                out.push_str(&format!("</{name}>"));
            }
        }
    }
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::String(s) => out.push_str(&escape(s)),
        Value::Array(items) => {
            for item in items {
                out.push_str("<member>");
                write_value(out, item);
                out.push_str("</member>");
            }
        }
        Value::Object(_) => write_members(out, value),
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattened_fields_are_read_back_in_order() {
        let input = form_fields(
            b"Action=CreateTopic&Attributes.entry.2.key=Policy&Attributes.entry.2.value=%7B%7D\
              &Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=Ops\
              &Tags.member.1.Key=team&Tags.member.1.Value=a+b&TagKeys.member.1=x\
              &MessageAttributes.entry.1.Name=sev\
              &MessageAttributes.entry.1.Value.DataType=String\
              &MessageAttributes.entry.1.Value.StringValue=high",
        );
        assert_eq!(field(&input, "Action"), Some("CreateTopic"));
        assert_eq!(
            map_field(&input, "Attributes"),
            [
                ("DisplayName".to_string(), "Ops".to_string()),
                ("Policy".to_string(), "{}".to_string())
            ]
        );
        let tags = struct_list_field(&input, "Tags");
        assert_eq!(tags[0]["Value"], "a b");
        assert_eq!(list_field(&input, "TagKeys"), ["x"]);
        let attrs = struct_map_field(&input, "MessageAttributes");
        assert_eq!(attrs[0].0, "sev");
        assert_eq!(attrs[0].1["StringValue"], "high");
    }

    #[test]
    fn answers_write_lists_maps_and_escape_text() {
        let xml = answer_xml(
            "urn:x",
            "ListTopics",
            &json!({"Topics": [{"TopicArn": "a&b"}], "Attributes": {"k": "<v>"}}),
            "rid",
        );
        assert!(xml.starts_with("<ListTopicsResponse xmlns=\"urn:x\"><ListTopicsResult>"));
        assert!(xml.contains("<Topics><member><TopicArn>a&amp;b</TopicArn></member></Topics>"));
        assert!(xml.contains("<entry><key>k</key><value>&lt;v&gt;</value></entry>"));
        assert!(xml.ends_with("<RequestId>rid</RequestId></ResponseMetadata></ListTopicsResponse>"));
        let empty = answer_xml("urn:x", "DeleteTopic", &Value::Null, "rid");
        assert!(!empty.contains("DeleteTopicResult"));
    }
}
