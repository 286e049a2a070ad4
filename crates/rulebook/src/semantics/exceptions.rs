//! Which exception of a rule decides, shared by both evaluators: of the
//! exceptions whose condition holds, the one no other that holds wins over
//! (`OverrideInfo::beats`: by `over`, followed through, and by rank).

/// The exception that decides, by position, given which hold and which
/// wins over which; `None` when none holds. Two that hold where neither
/// wins over the other are a conflict, returned as their positions.
pub fn winner(
    holds: &[bool],
    beats: impl Fn(usize, usize) -> bool,
) -> Result<Option<usize>, (usize, usize)> {
    let holding: Vec<usize> = (0..holds.len()).filter(|&i| holds[i]).collect();
    let undefeated: Vec<usize> = holding
        .iter()
        .copied()
        .filter(|&i| !holding.iter().any(|&j| j != i && beats(j, i)))
        .collect();
    match undefeated.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        [a, b, ..] => Err((*a, *b)),
    }
}

/// As [`winner`], asking `holds` for each of `n` exceptions in turn (the
/// evaluator's condition, which may fail); the usual handful of answers is
/// kept on the stack.
pub fn winner_of<E>(
    n: usize,
    mut holds: impl FnMut(usize) -> Result<bool, E>,
    beats: impl Fn(usize, usize) -> bool,
) -> Result<Result<Option<usize>, (usize, usize)>, E> {
    let mut small = [false; 32];
    let mut large;
    let answers: &mut [bool] = if n <= small.len() {
        &mut small[..n]
    } else {
        large = vec![false; n];
        &mut large
    };
    for (k, a) in answers.iter_mut().enumerate() {
        *a = holds(k)?;
    }
    Ok(winner(answers, beats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exception_to_an_exception_wins_and_unordered_ones_conflict() {
        // 0: student; 1: student and disabled, over 0; 2: veteran.
        let beats = |a: usize, b: usize| a == 1 && b == 0;
        assert_eq!(winner(&[false, false, false], beats), Ok(None));
        assert_eq!(winner(&[true, false, false], beats), Ok(Some(0)));
        assert_eq!(winner(&[true, true, false], beats), Ok(Some(1)));
        assert_eq!(winner(&[true, false, true], beats), Err((0, 2)));
        assert_eq!(winner(&[true, true, true], beats), Err((1, 2)));
    }
}
