// The shared conformance cases (conformance/ at the repository root, see its README): the same
// files doc-model's `cargo test` reads, so that the family app and the server's model find
// the same conflicts in the same trip.
import { describe, expect, it } from 'vitest'
import type { Trip } from '../src/trip'
import { detectConflicts, type Conflict } from '../src/conflicts'

interface ConflictCase { about: string, trip: Trip, conflicts: Conflict[] }

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
