//! One cron field's text → the set of values it names (lists, ranges, steps, names).
//!
//! The special forms (`?`, `L`, `W`, `#`) are handled by the day fields in `cron.rs`; this module
//! only knows plain value sets, kept as a bit set over the field's range.

/// A field's allowed range, its name for messages and its value names (`JAN`, `SUN`).
pub(super) struct FieldSpec {
    pub name: &'static str,
    pub min: u32,
    pub max: u32,
    pub names: &'static [&'static str],
}

pub(super) const SECONDS: FieldSpec = FieldSpec {
    name: "seconds",
    min: 0,
    max: 59,
    names: &[],
};
pub(super) const MINUTES: FieldSpec = FieldSpec {
    name: "minutes",
    min: 0,
    max: 59,
    names: &[],
};
pub(super) const HOURS: FieldSpec = FieldSpec {
    name: "hours",
    min: 0,
    max: 23,
    names: &[],
};
pub(super) const DAY_OF_MONTH: FieldSpec = FieldSpec {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
};
pub(super) const MONTH: FieldSpec = FieldSpec {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
};
pub(super) const DAY_OF_WEEK: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 1,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
};
pub(super) const YEAR: FieldSpec = FieldSpec {
    name: "year",
    min: 1970,
    max: 2199,
    names: &[],
};

/// A set of field values: bit `v - min` is set when `v` is in the set (ranges are ≤ 230 wide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ValueSet {
    min: u32,
    bits: [u64; 4],
}

impl ValueSet {
    fn empty(min: u32) -> ValueSet {
        ValueSet { min, bits: [0; 4] }
    }

    fn insert(&mut self, value: u32) {
        let i = (value - self.min) as usize;
        self.bits[i / 64] |= 1 << (i % 64);
    }

    pub fn contains(&self, value: u32) -> bool {
        let Some(i) = value.checked_sub(self.min).map(|i| i as usize) else {
            return false;
        };
        i < 256 && self.bits[i / 64] & (1 << (i % 64)) != 0
    }

    /// The values in ascending order.
    pub fn values(&self) -> impl Iterator<Item = u32> + '_ {
        (0..256u32)
            .filter(move |i| self.bits[*i as usize / 64] & (1 << (i % 64)) != 0)
            .map(|i| i + self.min)
    }

    /// Whether every value of the spec's range is in the set.
    pub fn is_full(&self, spec: &FieldSpec) -> bool {
        (spec.min..=spec.max).all(|v| self.contains(v))
    }
}

/// Parses a plain field: `*`, `n`, `a-b`, `*/s`, `a/s`, `a-b/s`, comma lists of those.
pub(super) fn parse_set(text: &str, spec: &FieldSpec) -> Result<ValueSet, String> {
    let mut set = ValueSet::empty(spec.min);
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(parse_step(step, spec)?)),
            None => (item, None),
        };
        let (first, last) = if range == "*" {
            (spec.min, spec.max)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (parse_value(a, spec)?, parse_value(b, spec)?);
            if a > b {
                return Err(format!(
                    "the {} range \"{range}\" runs backwards (write the smaller value first)",
                    spec.name
                ));
            }
            (a, b)
        } else {
            let start = parse_value(range, spec)?;
            // `a/s` runs from a to the end of the range; a bare value is just itself.
            (start, if step.is_some() { spec.max } else { start })
        };
        let step = step.unwrap_or(1);
        let mut value = first;
        while value <= last {
            set.insert(value);
            value += step;
        }
    }
    Ok(set)
}

fn parse_step(text: &str, spec: &FieldSpec) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(step) if step >= 1 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(step),
        _ => Err(format!(
            "the {} increment \"{text}\" must be a positive whole number",
            spec.name
        )),
    }
}

/// A single value: a number in range or (for months and days of week) a three-letter name.
pub(super) fn parse_value(text: &str, spec: &FieldSpec) -> Result<u32, String> {
    if let Some(i) = spec.names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(spec.min + i as u32);
    }
    let value = if !text.is_empty() && text.len() <= 4 && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u32>().ok()
    } else {
        None
    };
    match value {
        Some(v) if (spec.min..=spec.max).contains(&v) => Ok(v),
        _ if spec.names.is_empty() => Err(format!(
            "the {} value \"{text}\" is not a number from {} to {}",
            spec.name, spec.min, spec.max
        )),
        _ => Err(format!(
            "the {} value \"{text}\" is not a number from {} to {} or one of {}",
            spec.name,
            spec.min,
            spec.max,
            spec.names.join(", ")
        )),
    }
}
