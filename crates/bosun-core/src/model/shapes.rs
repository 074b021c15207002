//! The types `ssm_shapes.rs` (generated from botocore's model) is written in.

/// One shape of the model: what a request member may hold.
#[derive(Debug)]
pub struct Shape {
    pub name: &'static str,
    /// AWS leaves the value of a sensitive shape out of its messages ("Value at 'value' …").
    pub sensitive: bool,
    pub kind: Kind,
}

/// A shape's type and its constraints. Lengths count characters (Unicode code points); a
/// `Number` is botocore's `integer` or `long`.
#[derive(Debug)]
pub enum Kind {
    String {
        min: Option<u64>,
        max: Option<u64>,
        pattern: Option<Pattern>,
        enumeration: &'static [&'static str],
    },
    Number {
        min: Option<i64>,
        max: Option<i64>,
    },
    Boolean,
    Timestamp,
    List {
        member: usize,
        min: Option<u64>,
        max: Option<u64>,
    },
    Map {
        key: usize,
        value: usize,
        min: Option<u64>,
        max: Option<u64>,
    },
    Structure {
        members: &'static [Member],
    },
}

/// A member of a structure: its wire name, its shape (an index in `SHAPES`), and whether the
/// model requires it.
#[derive(Debug)]
pub struct Member {
    pub name: &'static str,
    pub shape: usize,
    pub required: bool,
}

/// A string pattern: the model's text (what AWS prints) and its translation for the `regex`
/// crate, a whole-value match (`None` with the reason when it could not be translated).
#[derive(Debug)]
pub struct Pattern {
    pub aws: &'static str,
    pub rust: Option<&'static str>,
    pub skipped: Option<&'static str>,
}
