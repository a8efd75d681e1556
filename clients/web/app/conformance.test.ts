// The shared conformance cases (conformance/ at the repository root, see its README): the same
// files doc-model's `cargo test` reads, so that the family app and the server's model find
// the same conflicts in the same trip, count the same poll the same way, and refuse the same
// trip for the same reasons.
import { describe, expect, it } from 'vitest'
import type { Poll, Trip } from '../model/trip'
import { detectConflicts, type Conflict } from '../model/conflicts'
import { tally, type Tally, type Weighting } from '../model/tally'
import { validateTrip, type Invalid } from '../model/valid_trip'

interface ConflictCase { about: string, trip: Trip, conflicts: Conflict[] }

interface ValidationCase { about: string, trip: Trip, invalid: Invalid[] }
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

const validations = import.meta.glob<ValidationCase>('../../../conformance/validation/*.json', { eager: true, import: 'default' })

describe('validation, by the shared cases', () => {
  it('finds the cases', () => {
    expect(Object.keys(validations).length).toBeGreaterThanOrEqual(4)
  })
  for (const [file, c] of Object.entries(validations)) {
    it(file.split('/').pop()!, () => {
      expect(validateTrip(c.trip), c.about).toEqual(c.invalid)
    })
  }
})
