// The sample trip: three families, four days in the Alps, a few plans and ideas, an open poll
// and a chat, so that a new user sees every screen with something in it. It is the server's
// sample too: one JSON file, conformance/sample-trip.json, that doc-model reads as well, with
// its dates moved to start two weeks from today.

import type * as Y from 'yjs'
import sample from '../../../conformance/sample-trip.json'
import { addActivity, addFamily, createTrip, openPoll, postChat, setDayTitle, type Trip } from '../model/trip'

const DAY_MS = 86_400_000

/** `date` (YYYY-MM-DD) moved by `days`. */
function moveDate (date: string, days: number): string {
  return new Date(Date.parse(date + 'T00:00:00Z') + days * DAY_MS).toISOString().slice(0, 10)
}

/** The sample trip starting on `start`: every date and time of the file moved by as many days. */
export function sampleTrip (start: string): Trip {
  const trip = structuredClone(sample) as unknown as Trip
  const by = Math.round((Date.parse(start + 'T00:00:00Z') - Date.parse(trip.meta.startDate + 'T00:00:00Z')) / DAY_MS)
  trip.meta.startDate = moveDate(trip.meta.startDate, by)
  trip.meta.endDate = moveDate(trip.meta.endDate, by)
  for (const activity of Object.values(trip.activities)) {
    if (activity.date !== undefined) activity.date = moveDate(activity.date, by)
  }
  trip.days = Object.fromEntries(Object.entries(trip.days ?? {}).map(([date, day]) => [moveDate(date, by), day]))
  for (const message of trip.chat ?? []) message.at = new Date(Date.parse(message.at) + by * DAY_MS).toISOString()
  return trip
}

/** Writes the sample trip into an empty document, starting two weeks from today, with `me` as
 * a member of its first family. */
export function writeSampleTrip (doc: Y.Doc, me: { name: string, memberId: string }, origin: string): void {
  const trip = sampleTrip(new Date(Date.now() + 14 * DAY_MS).toISOString().slice(0, 10))
  createTrip(doc, trip.meta, origin)
  Object.entries(trip.families).forEach(([id, family], i) => {
    const members = i === 0 ? { ...family.members, [me.memberId]: { name: me.name } } : family.members
    addFamily(doc, id, { ...family, members }, origin)
  })
  for (const [id, activity] of Object.entries(trip.activities)) addActivity(doc, id, activity, origin)
  for (const [date, day] of Object.entries(trip.days)) setDayTitle(doc, date, day.title ?? '', origin)
  for (const [id, poll] of Object.entries(trip.polls)) openPoll(doc, id, poll, origin)
  for (const message of trip.chat) postChat(doc, message, origin)
}
