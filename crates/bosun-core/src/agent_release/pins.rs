//! Which agent release a node gets (issue 19): pins of a published version for a region or
//! for a node tag within a region, over the default release. Pure: the caller reads the pins
//! of the node's region and the node's tags.
//!
//! Precedence: a tag pin matching one of the node's tags, else its region's pin, else the
//! default release. When several tag pins match one node (it carries `Ring=canary` and
//! `Team=db`, both pinned), the **highest** version wins, whatever the order of the tags or
//! pins. Highest rather than a refusal because an update must still be decidable for every
//! node of a fleet (refusing would leave the node on whatever it runs, silently behind both of
//! its rings), and because `IsLatestVersion` already reads "at least this version": a node
//! that satisfies its most advanced pin satisfies the others as far as "latest" goes. An
//! operator wanting a node held back removes it from the more advanced ring's tag.

use super::ReleaseVersion;

/// What a pin applies to, within one region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PinScope {
    /// Every node of the region.
    Region,
    /// The nodes of the region carrying this tag (key and value, exactly).
    Tag { key: String, value: String },
}

/// One pin of a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub scope: PinScope,
    pub version: String,
}

/// The release a node gets when no version is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// A pinned version, and the pin that chose it.
    Pinned(&'a Pin),
    /// No pin applies: the default release of the node's architecture.
    Default,
}

impl Target<'_> {
    /// The version `IsLatestVersion` compares the node's agent with: the pinned version, else
    /// `default_latest` (the highest default release, or the server's own version).
    pub fn latest<'b>(&'b self, default_latest: &'b str) -> &'b str {
        match self {
            Target::Pinned(p) => &p.version,
            Target::Default => default_latest,
        }
    }
}

/// Order of pinned versions: by release version, text as a tie-break (and for versions that
/// do not parse, which the server never stores), so the choice never depends on input order.
fn higher<'a>(a: &'a Pin, b: &'a Pin) -> &'a Pin {
    let key = |p: &Pin| (ReleaseVersion::parse(&p.version).ok(), p.version.clone());
    if key(b) > key(a) {
        b
    } else {
        a
    }
}

/// The release a node carrying `node_tags` gets, given the `pins` of its region (see the
/// module docs for the precedence and the rule between tag pins).
pub fn target_for<'a>(pins: &'a [Pin], node_tags: &[(String, String)]) -> Target<'a> {
    let tagged = pins
        .iter()
        .filter(|p| match &p.scope {
            PinScope::Tag { key, value } => node_tags.iter().any(|(k, v)| k == key && v == value),
            PinScope::Region => false,
        })
        .reduce(higher);
    match tagged.or_else(|| pins.iter().find(|p| p.scope == PinScope::Region)) {
        Some(p) => Target::Pinned(p),
        None => Target::Default,
    }
}

/// Read a `Key=Value` tag scope as the CLI writes it (split at the first `=`, so a value may
/// hold `=`; the key may not be empty). The tag rules themselves are `crate::tags::check_tags`.
pub fn parse_tag_scope(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!(
            "{text:?} is not a tag: write Key=Value, e.g. Ring=canary"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str, version: &str) -> Pin {
        Pin {
            scope: PinScope::Tag {
                key: k.into(),
                value: v.into(),
            },
            version: version.into(),
        }
    }

    fn region(version: &str) -> Pin {
        Pin {
            scope: PinScope::Region,
            version: version.into(),
        }
    }

    fn tags(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn version(t: Target<'_>) -> Option<String> {
        match t {
            Target::Pinned(p) => Some(p.version.clone()),
            Target::Default => None,
        }
    }

    #[test]
    fn tag_pin_beats_region_pin_beats_default() {
        let pins = vec![region("1.1.0"), tag("Ring", "canary", "1.2.0")];
        let canary = tags(&[("Env", "prod"), ("Ring", "canary")]);
        assert_eq!(
            version(target_for(&pins, &canary)).as_deref(),
            Some("1.2.0")
        );
        let other = tags(&[("Ring", "main")]);
        assert_eq!(version(target_for(&pins, &other)).as_deref(), Some("1.1.0"));
        assert_eq!(target_for(&pins[1..], &other), Target::Default);
        assert_eq!(target_for(&[], &canary), Target::Default);
        // Key and value must both match, exactly.
        let near = tags(&[("ring", "canary"), ("Ring", "Canary")]);
        assert_eq!(target_for(&pins[1..], &near), Target::Default);
    }

    #[test]
    fn of_several_matching_tag_pins_the_highest_version_wins_in_any_order() {
        let mut pins = vec![
            tag("Ring", "canary", "1.10.0"),
            tag("Team", "db", "1.9.0"),
            region("2.0.0"),
            tag("Team", "web", "3.0"),
        ];
        let node = tags(&[("Team", "db"), ("Ring", "canary")]);
        for _ in 0..pins.len() {
            pins.rotate_left(1);
            // 1.10.0 > 1.9.0 by number; the region pin (higher) does not take part.
            assert_eq!(version(target_for(&pins, &node)).as_deref(), Some("1.10.0"));
        }
        // Equal versions written differently: the choice is still the same pin every time.
        let same = [tag("A", "1", "1.2"), tag("B", "1", "1.2.0")];
        let node = tags(&[("A", "1"), ("B", "1")]);
        let rev: Vec<Pin> = same.iter().rev().cloned().collect();
        assert_eq!(target_for(&same, &node), target_for(&rev, &node));
    }

    #[test]
    fn latest_is_the_pin_else_the_default() {
        let pins = vec![tag("Ring", "canary", "1.1.0")];
        let canary = tags(&[("Ring", "canary")]);
        assert_eq!(target_for(&pins, &canary).latest("1.2.0"), "1.1.0");
        assert_eq!(target_for(&pins, &[]).latest("1.2.0"), "1.2.0");
    }

    #[test]
    fn tag_scopes_parse() {
        assert_eq!(
            parse_tag_scope("Ring=canary").unwrap(),
            ("Ring".to_string(), "canary".to_string())
        );
        assert_eq!(
            parse_tag_scope("k=a=b").unwrap(),
            ("k".to_string(), "a=b".to_string())
        );
        assert_eq!(parse_tag_scope("k=").unwrap().1, "");
        for bad in ["Ring", "=canary", "", " =x"] {
            assert!(
                parse_tag_scope(bad).unwrap_err().contains("Key=Value"),
                "{bad:?}"
            );
        }
    }
}
