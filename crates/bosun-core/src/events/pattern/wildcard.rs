//! `wildcard` values: `*` matches any run of characters, `\*` and `\\` are literal. AWS refuses
//! `**`, a lone backslash, and patterns whose worst-case matching keeps too many partial
//! matches alive at once ("Rule is too complex").

use std::collections::HashSet;

/// One piece of a wildcard pattern.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Byte(u8),
    Star,
}

/// A parsed wildcard pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Wildcard {
    tokens: Vec<Token>,
}

pub(crate) const TOO_COMPLEX: &str = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character";

/// The most partial matches (automaton states) one wildcard may keep alive at once. AWS's
/// threshold is not published: `*:*:*:*:*:event-bus/*` (13 here) is refused by AWS and
/// `/Users/*/dir/dir/dir/dir/dir/doc.txt` (8 here) is accepted, so the limit sits between.
const MAX_LIVE_STATES: usize = 10;
/// Bounds the analysis itself; a pattern needing more distinct state sets is too complex.
const MAX_STATE_SETS: usize = 4096;

impl Wildcard {
    /// Parses a wildcard value. Positions in errors count bytes of the value as AWS quotes
    /// it (one more than the index in the raw text).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let bytes = text.as_bytes();
        let mut tokens = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let pos = i + 1;
            match bytes[i] {
                b'*' => {
                    if bytes.get(i + 1) == Some(&b'*') {
                        return Err(format!("Consecutive wildcard characters at pos {pos}"));
                    }
                    tokens.push(Token::Star);
                }
                b'\\' => match bytes.get(i + 1) {
                    Some(&next @ (b'*' | b'\\')) => {
                        tokens.push(Token::Byte(next));
                        i += 1;
                    }
                    _ => return Err(format!("Invalid escape character at pos {pos}")),
                },
                b => tokens.push(Token::Byte(b)),
            }
            i += 1;
        }
        let wildcard = Wildcard { tokens };
        if wildcard.live_states_worst_case() > MAX_LIVE_STATES {
            return Err(TOO_COMPLEX.into());
        }
        Ok(wildcard)
    }

    /// Whether the whole of `value` matches.
    pub(crate) fn matches(&self, value: &str) -> bool {
        let text = value.as_bytes();
        let tokens = &self.tokens;
        let (mut t, mut v) = (0usize, 0usize);
        let mut resume: Option<(usize, usize)> = None;
        while v < text.len() {
            match tokens.get(t) {
                Some(Token::Star) => {
                    resume = Some((t, v));
                    t += 1;
                }
                Some(Token::Byte(b)) if *b == text[v] => {
                    t += 1;
                    v += 1;
                }
                _ => match resume {
                    Some((star, from)) => {
                        t = star + 1;
                        v = from + 1;
                        resume = Some((star, from + 1));
                    }
                    None => return false,
                },
            }
        }
        tokens[t..].iter().all(|tok| *tok == Token::Star)
    }

    /// Adds the states reachable from `set` without input (a star may match nothing).
    fn close(&self, set: &mut Vec<usize>) {
        let mut i = 0;
        while i < set.len() {
            let s = set[i];
            if self.tokens.get(s) == Some(&Token::Star) && !set.contains(&(s + 1)) {
                set.push(s + 1);
            }
            i += 1;
        }
        set.sort_unstable();
    }

    /// The largest number of automaton states alive at once over every possible input.
    fn live_states_worst_case(&self) -> usize {
        if !self.tokens.contains(&Token::Star) {
            return 1;
        }
        let mut alphabet: Vec<u8> = self
            .tokens
            .iter()
            .filter_map(|t| match t {
                Token::Byte(b) => Some(*b),
                Token::Star => None,
            })
            .collect();
        alphabet.sort_unstable();
        alphabet.dedup();
        // A byte in no literal stands for every other byte.
        if let Some(other) = (0u8..=255).find(|b| !alphabet.contains(b)) {
            alphabet.push(other);
        }
        let mut start = vec![0];
        self.close(&mut start);
        let mut seen: HashSet<Vec<usize>> = HashSet::from([start.clone()]);
        let mut queue = vec![start];
        let mut worst = 0;
        while let Some(set) = queue.pop() {
            worst = worst.max(set.len());
            if worst > MAX_LIVE_STATES || seen.len() > MAX_STATE_SETS {
                return usize::MAX;
            }
            for &byte in &alphabet {
                let mut next: Vec<usize> = Vec::new();
                for &s in &set {
                    match self.tokens.get(s) {
                        Some(Token::Star) => next.push(s),
                        Some(Token::Byte(b)) if *b == byte => next.push(s + 1),
                        _ => {}
                    }
                }
                next.sort_unstable();
                next.dedup();
                self.close(&mut next);
                if !next.is_empty() && seen.insert(next.clone()) {
                    queue.push(next);
                }
            }
        }
        worst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(p: &str) -> Wildcard {
        Wildcard::parse(p).unwrap()
    }

    #[test]
    fn stars_match_any_run_and_escapes_are_literal() {
        assert!(w("/Users/*/doc.txt").matches("/Users/a/b/c/doc.txt"));
        assert!(!w("/Users/*/doc.txt").matches("/Users/a/notdoc.txt"));
        assert!(w("*").matches(""));
        assert!(w("").matches(""));
        assert!(!w("").matches("x"));
        assert!(w(r"a\*b").matches("a*b"));
        assert!(!w(r"a\*b").matches("axb"));
        assert!(w(r"a\\*").matches(r"a\anything"));
        assert!(w("*/init/*").matches("dir/init/file"));
        assert!(!w("*/dir/*").matches("dir/init/file"));
    }

    #[test]
    fn malformed_wildcards_give_aws_reasons() {
        let err = |p: &str| Wildcard::parse(p).unwrap_err();
        assert_eq!(
            err("arn:aws:events:us-east-1:**:event-bus/*"),
            "Consecutive wildcard characters at pos 26"
        );
        assert_eq!(err(r"a\b"), "Invalid escape character at pos 2");
        assert_eq!(err("*:*:*:*:*:event-bus/*"), TOO_COMPLEX);
    }

    #[test]
    fn repeating_sequences_after_a_star_are_accepted_within_the_limit() {
        assert!(Wildcard::parse("/Users/*/dir/dir/dir/dir/dir/doc.txt").is_ok());
        assert!(Wildcard::parse("arn:aws:ssm:*:*:document/*").is_ok());
    }
}
