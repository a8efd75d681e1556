// The shared conformance cases (conformance/ at the repository root, see its README): the same
// files doc-model's `cargo test` reads, so that the family app and the server's model find
// the same conflicts in the same trip, and count the same poll the same way.
import { describe, expect, it } from 'vitest'
import type { Poll, Trip } from '../model/trip'
import { detectConflicts, type Conflict } from '../model/conflicts'
import { tally, type Tally, type Weighting } from '../model/tally'

interface ConflictCase { about: string, trip: Trip, conflicts: Conflict[] }

interface TallyCase { about: string, trip: Trip, poll: Poll, weighting: Weighting, tally: Tally }

const cases = import.meta.glob<ConflictCase>('../../../conformance/conflicts/*.json', { eager: true, import: 'default' })

describe('conflicts, by the shared cases', () => {
  it('finds the cases', () => {
    expect(Object.keys(cases).length).toBeGreaterThanOrEqual(5)
  })
  for (const [file, c] of Object.entries(cases)) {
    it(file.split('/').pop()!, () => {
      expect(detectConflicts(c.trip), c.about).toEqual(c.conflicts)
    })
  }
})

const tallies = import.meta.glob<TallyCase>('../../../conformance/tally/*.json', { eager: true, import: 'default' })

describe('tallies, by the shared cases', () => {
  it('finds the cases', () => {
    expect(Object.keys(tallies).length).toBeGreaterThanOrEqual(4)
  })
  for (const [file, c] of Object.entries(tallies)) {
    it(file.split('/').pop()!, () => {
      expect(tally(c.trip, c.poll, c.weighting), c.about).toEqual(c.tally)
    })
  }
})
