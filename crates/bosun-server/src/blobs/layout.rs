//! The output layout, without IO: each stored chunk of a stream is one object named by its
//! zero-padded byte offset (`<stream>/<offset:020>`), so no backend needs `write_at`. A stream's
//! bytes are the chunks in offset order; the stored length is where the first gap begins.
//! Compaction merges runs of chunks into one object named by the run's first offset, so the
//! layout never changes shape and a crash halfway leaves overlapping copies of the same bytes.

/// One stored object of a stream: its offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub offset: u64,
    pub len: u64,
}

impl Piece {
    pub fn end(&self) -> u64 {
        self.offset + self.len
    }
}

/// The object name of a chunk at `offset`.
pub fn chunk_name(offset: u64) -> String {
    format!("{offset:020}")
}

/// The offset a chunk's object name stands for; `None` for anything else (temp files).
pub fn parse_chunk_name(name: &str) -> Option<u64> {
    if name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

/// Sort pieces by offset, longest first at equal offsets (a compacted run before the chunk
/// it replaced).
pub fn sort(pieces: &mut [Piece]) {
    pieces.sort_by(|a, b| a.offset.cmp(&b.offset).then(b.len.cmp(&a.len)));
}

/// How many bytes from 0 are stored without a gap (`pieces` sorted).
pub fn contiguous_len(pieces: &[Piece]) -> u64 {
    let mut end = 0;
    for p in pieces {
        if p.offset > end {
            break;
        }
        end = end.max(p.end());
    }
    end
}

/// What to read from each piece to assemble bytes `[0, limit)` in order: (index into
/// `pieces`, bytes to skip at its start, bytes to take). Overlaps are read once; stops at the
/// first gap.
pub fn read_plan(pieces: &[Piece], limit: u64) -> Vec<(usize, u64, u64)> {
    let mut plan = Vec::new();
    let mut end = 0;
    for (i, p) in pieces.iter().enumerate() {
        if end >= limit || p.offset > end {
            break;
        }
        if p.end() <= end {
            continue;
        }
        let skip = end - p.offset;
        let take = p.end().min(limit) - end;
        plan.push((i, skip, take));
        end += take;
    }
    plan
}

/// Runs of pieces to merge into one object each (indices into `pieces`, sorted): consecutive
/// pieces within the stored prefix, at most `max_bytes` per run; runs of one piece are left
/// alone.
pub fn compaction_runs(pieces: &[Piece], max_bytes: u64) -> Vec<Vec<usize>> {
    let stored = contiguous_len(pieces);
    let mut runs = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    let mut run_start = 0;
    let mut end = 0;
    for (i, p) in pieces.iter().enumerate() {
        if p.offset > end || p.end() > stored {
            break;
        }
        if !run.is_empty() && p.end() - run_start > max_bytes {
            runs.push(std::mem::take(&mut run));
        }
        if run.is_empty() {
            run_start = p.offset;
        }
        run.push(i);
        end = end.max(p.end());
    }
    runs.push(run);
    runs.retain(|r| r.len() > 1);
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(offset: u64, len: u64) -> Piece {
        Piece { offset, len }
    }

    #[test]
    fn chunk_names_sort_like_their_offsets() {
        assert_eq!(chunk_name(65536), "00000000000000065536");
        assert_eq!(parse_chunk_name(&chunk_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_chunk_name(".00000000000000000000.tmp"), None);
        assert_eq!(parse_chunk_name("0"), None);
        assert!(chunk_name(9) < chunk_name(10));
    }

    #[test]
    fn the_stored_length_ends_at_the_first_gap() {
        assert_eq!(contiguous_len(&[]), 0);
        assert_eq!(contiguous_len(&[p(0, 5), p(5, 5)]), 10);
        assert_eq!(contiguous_len(&[p(0, 5), p(6, 5)]), 5);
        assert_eq!(contiguous_len(&[p(1, 5)]), 0);
        // A compacted run and the chunks it replaced, both present after a crash.
        let mut pieces = vec![p(5, 5), p(0, 5), p(0, 10)];
        sort(&mut pieces);
        assert_eq!(pieces, vec![p(0, 10), p(0, 5), p(5, 5)]);
        assert_eq!(contiguous_len(&pieces), 10);
    }

    #[test]
    fn reading_skips_overlaps_and_stops_at_gaps_and_limits() {
        let pieces = [p(0, 10), p(0, 5), p(5, 5), p(10, 4), p(20, 1)];
        assert_eq!(read_plan(&pieces, u64::MAX), vec![(0, 0, 10), (3, 0, 4)]);
        assert_eq!(read_plan(&pieces, 12), vec![(0, 0, 10), (3, 0, 2)]);
        let overlapping = [p(0, 4), p(2, 4)];
        assert_eq!(read_plan(&overlapping, 6), vec![(0, 0, 4), (1, 2, 2)]);
    }

    #[test]
    fn compaction_merges_bounded_runs_of_the_stored_prefix() {
        let pieces = [p(0, 4), p(4, 4), p(8, 4), p(12, 4), p(20, 4), p(24, 4)];
        assert_eq!(compaction_runs(&pieces, 8), vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(compaction_runs(&pieces, 100), vec![vec![0, 1, 2, 3]]);
        assert!(compaction_runs(&[p(0, 4)], 100).is_empty());
        assert!(compaction_runs(&pieces[..1], 100).is_empty());
    }
}
