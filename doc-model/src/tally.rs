//! Tallying polls family by family.
//!
//! Each family weighs the same however many of its members vote: a family's weight is split
//! evenly among its members who voted. Optionally a family weighs as many as its members.
//! Single-choice polls are counted by weighted plurality; ranked polls by weighted
//! instant-runoff. Ties are broken deterministically and the result says how.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::types::{Poll, Trip, Vote};

const EPSILON: f64 = 1e-9;

/// How much each family weighs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Weighting {
    /// Every family weighs 1.
    #[default]
    PerFamily,
    /// A family weighs as many as its members.
    ByFamilySize,
}

/// The outcome of a tally, stored in the poll's `result`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// `plurality` or `instant-runoff`.
    pub method: String,
    /// How families were weighed.
    pub weighting: Weighting,
    /// The winning option, if anyone voted.
    pub winner: Option<String>,
    /// Weight per option in each round (one round for plurality).
    pub rounds: Vec<BTreeMap<String, f64>>,
    /// How a tie was broken, if there was one.
    pub tie_break: Option<String>,
    /// Votes counted.
    pub voters: usize,
    /// Families whose members voted.
    pub families: usize,
    /// Voters who are no member of any family, or whose vote names no option: not counted.
    pub ignored: Vec<String>,
}

/// Tallies `poll` of `trip`.
pub fn tally(trip: &Trip, poll: &Poll, weighting: Weighting) -> Tally {
    let family_of: BTreeMap<&str, &str> = trip
        .families
        .iter()
        .flat_map(|(fid, f)| f.members.keys().map(move |m| (m.as_str(), fid.as_str())))
        .collect();
    // Valid ballots (options best first) per family.
    let mut ballots: BTreeMap<&str, Vec<(&str, Vec<&str>)>> = BTreeMap::new();
    let mut ignored = Vec::new();
    for (voter, vote) in &poll.votes {
        let ranking: Vec<&str> = match vote {
            Vote::Single(option) => vec![option.as_str()],
            Vote::Ranking(options) => options.iter().map(String::as_str).collect(),
        };
        let ranking: Vec<&str> = ranking
            .into_iter()
            .filter(|o| poll.options.contains_key(*o))
            .collect();
        match family_of.get(voter.as_str()) {
            Some(family) if !ranking.is_empty() => ballots
                .entry(family)
                .or_default()
                .push((voter.as_str(), ranking)),
            _ => ignored.push(voter.clone()),
        }
    }
    let mut weighted: Vec<(f64, Vec<&str>)> = Vec::new();
    for (family, votes) in &ballots {
        let family_weight = match weighting {
            Weighting::PerFamily => 1.0,
            Weighting::ByFamilySize => trip.families[*family].members.len().max(1) as f64,
        };
        let each = family_weight / votes.len() as f64;
        weighted.extend(votes.iter().map(|(_, ranking)| (each, ranking.clone())));
    }
    let voters = weighted.len();
    let options: BTreeSet<&str> = poll.options.keys().map(String::as_str).collect();
    let ranked = poll.kind == crate::types::PollKind::Ranked;
    let (winner, rounds, tie_break) = if ranked {
        instant_runoff(&options, &weighted)
    } else {
        let round = count(&options, &weighted);
        let (winner, tie_break) = top(&round, &weighted);
        (winner, vec![round], tie_break)
    };
    Tally {
        method: if ranked {
            "instant-runoff"
        } else {
            "plurality"
        }
        .into(),
        weighting,
        winner,
        rounds: rounds
            .into_iter()
            .map(|r| r.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            .collect(),
        tie_break,
        voters,
        families: ballots.len(),
        ignored,
    }
}

/// Weight of each remaining option: each ballot counts for its best remaining option.
fn count<'a>(
    remaining: &BTreeSet<&'a str>,
    ballots: &[(f64, Vec<&'a str>)],
) -> BTreeMap<&'a str, f64> {
    let mut round: BTreeMap<&str, f64> = remaining.iter().map(|o| (*o, 0.0)).collect();
    for (weight, ranking) in ballots {
        if let Some(best) = ranking.iter().find(|o| remaining.contains(*o)) {
            *round.get_mut(best).expect("remaining option") += weight;
        }
    }
    round
}

/// First preferences (by weight) of an option over all ballots: the first tie-breaker.
fn first_preferences(option: &str, ballots: &[(f64, Vec<&str>)]) -> f64 {
    ballots
        .iter()
        .filter(|(_, r)| r.first() == Some(&option))
        .map(|(w, _)| w)
        .sum()
}

/// How tied options are ordered, weakest first: by first preferences, then the option id
/// that sorts last counts as weaker. The winner of a tie is the greatest; the one eliminated
/// in a runoff is the least.
fn tie_order(a: &str, b: &str, ballots: &[(f64, Vec<&str>)]) -> std::cmp::Ordering {
    first_preferences(a, ballots)
        .partial_cmp(&first_preferences(b, ballots))
        .expect("weights are finite")
        .then_with(|| b.cmp(a))
}

/// The option with the most weight; ties go to more first preferences, then to the option id
/// that sorts first.
fn top(
    round: &BTreeMap<&str, f64>,
    ballots: &[(f64, Vec<&str>)],
) -> (Option<String>, Option<String>) {
    let best = round.values().cloned().fold(0.0_f64, f64::max);
    if best <= EPSILON {
        return (None, None);
    }
    let tied: Vec<&str> = round
        .iter()
        .filter(|(_, w)| (best - **w).abs() < EPSILON)
        .map(|(o, _)| *o)
        .collect();
    if tied.len() == 1 {
        return (Some(tied[0].to_string()), None);
    }
    let winner = *tied
        .iter()
        .max_by(|a, b| tie_order(a, b, ballots))
        .expect("a tie has options");
    let note = format!(
        "tie between {} at {best:.3}: {winner} wins on first preferences, then on option id order",
        tied.join(", ")
    );
    (Some(winner.to_string()), Some(note))
}

#[allow(clippy::type_complexity)]
fn instant_runoff<'a>(
    options: &BTreeSet<&'a str>,
    ballots: &[(f64, Vec<&'a str>)],
) -> (Option<String>, Vec<BTreeMap<&'a str, f64>>, Option<String>) {
    let mut remaining = options.clone();
    let mut rounds = Vec::new();
    let mut notes = Vec::new();
    loop {
        let round = count(&remaining, ballots);
        let active: f64 = round.values().sum();
        rounds.push(round.clone());
        if active <= EPSILON {
            return (None, rounds, None);
        }
        if let Some((winner, _)) = round.iter().find(|(_, w)| **w > active / 2.0 + EPSILON) {
            return (
                Some(winner.to_string()),
                rounds,
                (!notes.is_empty()).then(|| notes.join("; ")),
            );
        }
        if remaining.len() <= 2 {
            // An exact tie of the last two.
            let (winner, note) = top(&round, ballots);
            notes.extend(note);
            return (
                winner,
                rounds,
                (!notes.is_empty()).then(|| notes.join("; ")),
            );
        }
        // Eliminate the weakest; ties go out on fewer first preferences, then the id sorting last.
        let least = round.values().cloned().fold(f64::INFINITY, f64::min);
        let weakest: Vec<&str> = round
            .iter()
            .filter(|(_, w)| (**w - least).abs() < EPSILON)
            .map(|(o, _)| *o)
            .collect();
        let out = *weakest
            .iter()
            .min_by(|a, b| tie_order(a, b, ballots))
            .expect("options remain");
        if weakest.len() > 1 {
            notes.push(format!(
                "{} tied for last; {out} eliminated on first preferences, then option id order",
                weakest.join(", ")
            ));
        }
        remaining.remove(out);
    }
}
