//! Opaque `NextToken`s: a cursor (the last key returned) wrapped so clients cannot forge
//! meaning into it, and rejected as `InvalidNextToken` when it was not made by us.

const PREFIX: &str = "bosun1:";

/// Wrap a cursor into an opaque token.
pub fn encode_token(cursor: &str) -> String {
    hex::encode(format!("{PREFIX}{cursor}"))
}

/// Unwrap a token made by [`encode_token`]; `None` means the token is not ours.
pub fn decode_token(token: &str) -> Option<String> {
    let bytes = hex::decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(PREFIX).map(str::to_string)
}

/// One page of items already sorted by their cursor key.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// Cut one page out of `items` (sorted ascending by `key`), starting after `after`.
pub fn page_after<T>(
    items: Vec<T>,
    after: Option<&str>,
    max: usize,
    key: impl Fn(&T) -> &str,
) -> Page<T> {
    let mut rest: Vec<T> = match after {
        Some(a) => items.into_iter().filter(|i| key(i) > a).collect(),
        None => items,
    };
    let next_token = if rest.len() > max {
        rest.truncate(max);
        rest.last().map(|last| encode_token(key(last)))
    } else {
        None
    };
    Page {
        items: rest,
        next_token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_foreign_text() {
        let t = encode_token("mi-0123");
        assert_eq!(decode_token(&t).as_deref(), Some("mi-0123"));
        assert_eq!(decode_token("garbage"), None);
        assert_eq!(decode_token(&hex::encode("other:x")), None);
    }

    #[test]
    fn pages_walk_every_item_once() {
        let items: Vec<String> = (0..23).map(|i| format!("k{i:03}")).collect();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = page_after(items.clone(), after.as_deref(), 5, |s| s.as_str());
            seen.extend(page.items);
            match page.next_token {
                Some(t) => after = decode_token(&t),
                None => break,
            }
        }
        assert_eq!(seen, items);
    }
}
