// Tallying polls family by family, by the rules of docs/schema.md ("Tallying"): the
// TypeScript twin of doc-model/src/tally.rs, held to it by the shared cases of
// conformance/tally/. The app shows the same result, live, that the server records when the
// poll closes.

import { compare } from './order.js'
import type { Poll, Trip } from './trip.js'

const EPSILON = 1e-9

/** How much each family weighs: 1 each (`perFamily`), or as many as its members. */
export type Weighting = 'perFamily' | 'byFamilySize'

/** The outcome of a tally, as the server stores it in the poll's `result`. */
export interface Tally {
  method: 'plurality' | 'instant-runoff'
  weighting: Weighting
  /** The winning option, if anyone voted (null otherwise, as the server writes it). */
  winner: string | null
  /** Weight per option in each round (one round for plurality). */
  rounds: Array<Record<string, number>>
  /** How a tie was broken, if there was one. */
  tieBreak: string | null
  voters: number
  families: number
  /** Voters who are no member of any family, or whose vote names no option. */
  ignored: string[]
}

/** A ballot: its weight and its options, best first. */
type Ballot = [number, string[]]

/** Tallies `poll` of `trip`. */
export function tally (trip: Trip, poll: Poll, weighting: Weighting = 'perFamily'): Tally {
  // A member id listed in two families counts for the one whose id sorts last.
  const familyOf = new Map<string, string>()
  for (const fid of Object.keys(trip.families).sort(compare)) {
    for (const member of Object.keys(trip.families[fid].members ?? {})) familyOf.set(member, fid)
  }
  const ballots = new Map<string, string[][]>()
  const ignored: string[] = []
  for (const voter of Object.keys(poll.votes).sort(compare)) {
    const vote = poll.votes[voter]
    const ranking = (Array.isArray(vote) ? vote : [vote]).filter((o) => Object.hasOwn(poll.options, o))
    const family = familyOf.get(voter)
    if (family !== undefined && ranking.length > 0) ballots.set(family, [...(ballots.get(family) ?? []), ranking])
    else ignored.push(voter)
  }
  const weighted: Ballot[] = []
  for (const family of [...ballots.keys()].sort(compare)) {
    const votes = ballots.get(family)!
    const familyWeight = weighting === 'perFamily' ? 1 : Math.max(Object.keys(trip.families[family].members ?? {}).length, 1)
    const each = familyWeight / votes.length
    for (const ranking of votes) weighted.push([each, ranking])
  }
  const options = Object.keys(poll.options).sort(compare)
  const ranked = poll.kind === 'ranked'
  let winner: string | null
  let rounds: Array<Map<string, number>>
  let tieBreak: string | null
  if (ranked) {
    [winner, rounds, tieBreak] = instantRunoff(options, weighted)
  } else {
    const round = count(options, weighted);
    [winner, tieBreak] = top(round, weighted)
    rounds = [round]
  }
  return {
    method: ranked ? 'instant-runoff' : 'plurality',
    weighting,
    winner,
    rounds: rounds.map((r) => Object.fromEntries(r)),
    tieBreak,
    voters: weighted.length,
    families: ballots.size,
    ignored
  }
}

/** Weight of each remaining option (in id order): each ballot counts for its best one. */
function count (remaining: string[], ballots: Ballot[]): Map<string, number> {
  const round = new Map<string, number>(remaining.map((o) => [o, 0]))
  for (const [weight, ranking] of ballots) {
    const best = ranking.find((o) => round.has(o))
    if (best !== undefined) round.set(best, round.get(best)! + weight)
  }
  return round
}

function firstPreferences (option: string, ballots: Ballot[]): number {
  return ballots.filter(([, r]) => r[0] === option).reduce((sum, [w]) => sum + w, 0)
}

/** Tied options, weakest first: fewer first preferences, then the id that sorts last. */
function tieOrder (a: string, b: string, ballots: Ballot[]): number {
  return firstPreferences(a, ballots) - firstPreferences(b, ballots) || compare(b, a)
}

function top (round: Map<string, number>, ballots: Ballot[]): [string | null, string | null] {
  const best = Math.max(0, ...round.values())
  if (best <= EPSILON) return [null, null]
  const tied = [...round].filter(([, w]) => Math.abs(best - w) < EPSILON).map(([o]) => o)
  if (tied.length === 1) return [tied[0], null]
  const winner = tied.reduce((a, b) => (tieOrder(b, a, ballots) >= 0 ? b : a))
  return [winner, `tie between ${tied.join(', ')} at ${best.toFixed(3)}: ${winner} wins on first preferences, then on option id order`]
}

function instantRunoff (options: string[], ballots: Ballot[]): [string | null, Array<Map<string, number>>, string | null] {
  let remaining = [...options]
  const rounds: Array<Map<string, number>> = []
  const notes: string[] = []
  const joined = (): string | null => (notes.length > 0 ? notes.join('; ') : null)
  for (;;) {
    const round = count(remaining, ballots)
    const active = [...round.values()].reduce((sum, w) => sum + w, 0)
    rounds.push(round)
    if (active <= EPSILON) return [null, rounds, null]
    const majority = [...round].find(([, w]) => w > active / 2 + EPSILON)
    if (majority !== undefined) return [majority[0], rounds, joined()]
    if (remaining.length <= 2) {
      const [winner, note] = top(round, ballots)
      if (note !== null) notes.push(note)
      return [winner, rounds, joined()]
    }
    const least = Math.min(...round.values())
    const weakest = [...round].filter(([, w]) => Math.abs(w - least) < EPSILON).map(([o]) => o)
    const out = weakest.reduce((a, b) => (tieOrder(b, a, ballots) < 0 ? b : a))
    if (weakest.length > 1) notes.push(`${weakest.join(', ')} tied for last; ${out} eliminated on first preferences, then option id order`)
    remaining = remaining.filter((o) => o !== out)
  }
}
