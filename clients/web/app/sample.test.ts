// The sample trip (conformance/sample-trip.json, the server's too): moved to the day it
// starts, written with the person opening it in its first family, and free of problems.
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { detectConflicts } from '../model/conflicts'
import { readTrip } from '../model/trip'
import { sampleTrip, writeSampleTrip } from './sample'

describe('the sample trip', () => {
  it('starts on the day asked, every date moved alike', () => {
    const trip = sampleTrip('2031-02-27')
    expect(trip.meta.startDate).toBe('2031-02-27')
    expect(trip.meta.endDate).toBe('2031-03-02')
    expect(trip.activities.aiguille.date).toBe('2031-02-28')
    expect(Object.keys(trip.days)).toEqual(['2031-02-28'])
    expect(trip.chat[0].at.slice(0, 10)).toBe('2031-02-13')
  })
  it('is written whole, with me in its first family, and has no conflict', () => {
    const doc = new Y.Doc()
    writeSampleTrip(doc, { name: 'Ana', memberId: 'ana' }, 'test')
    const { trip, skipped } = readTrip(doc)
    expect(skipped).toEqual([])
    expect(trip!.meta.title).toBe('Summer in the Alps')
    expect(trip!.families.martins.members?.ana?.name).toBe('Ana')
    expect(Object.keys(trip!.activities)).toHaveLength(5)
    expect(trip!.polls['last-dinner'].wantsOptions).toBe(true)
    expect(detectConflicts(trip!)).toEqual([])
  })
})
