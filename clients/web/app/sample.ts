// The sample trip: two families, five days in the Alps, a few plans and ideas, an open poll.
// A new user sees every screen with something in it.

import type * as Y from 'yjs'
import { addActivity, addFamily, createTrip, openPoll } from '../src/trip'

/** Writes the sample trip into an empty document, with `me` as a member of the first family. */
export function writeSampleTrip (doc: Y.Doc, me: { name: string, memberId: string }, origin: string): void {
  const start = new Date(Date.now() + 30 * 86_400_000)
  const day = (n: number): string => new Date(start.getTime() + n * 86_400_000).toISOString().slice(0, 10)
  createTrip(doc, {
    title: 'Summer in the Alps', destination: 'Chamonix, France', startDate: day(0), endDate: day(4),
    timezone: 'Europe/Paris', currency: 'EUR', budget: 250_000
  }, origin)
  addFamily(doc, 'mine', {
    name: 'My family', color: '#d9481b',
    members: { [me.memberId]: { name: me.name }, kid: { name: 'Sam', ageGroup: 'child' } },
    preferences: { pace: 'relaxed', interests: ['hiking', 'lakes'] }
  }, origin)
  addFamily(doc, 'okafor', {
    name: 'Okafor family', color: '#1f77b4',
    members: { ngozi: { name: 'Ngozi' }, emeka: { name: 'Emeka' }, ada: { name: 'Ada', ageGroup: 'teen' } },
    preferences: { pace: 'moderate', interests: ['food', 'museums'] }
  }, origin)
  const chamonix = { name: 'Chamonix', lat: 45.9237, lng: 6.8694 }
  addActivity(doc, 'arrive', { title: 'Arrive and check in', kind: 'lodging', date: day(0), start: '15:00', durationMin: 60, location: chamonix }, origin)
  addActivity(doc, 'dinner1', { title: 'Welcome dinner', kind: 'meal', date: day(0), start: '19:00', durationMin: 90, cost: 18_000, location: chamonix }, origin)
  addActivity(doc, 'aiguille', {
    title: 'Aiguille du Midi cable car', kind: 'sight', date: day(1), start: '09:00', durationMin: 180, cost: 7_500, costPer: 'person',
    location: { name: 'Aiguille du Midi', lat: 45.8786, lng: 6.8874 }, openingHours: { opens: '08:00', closes: '16:30' }
  }, origin)
  addActivity(doc, 'lake', { title: 'Lac Blanc hike', kind: 'activity', durationMin: 300, location: { name: 'Lac Blanc', lat: 45.9786, lng: 6.8878 } }, origin)
  addActivity(doc, 'museum', {
    title: 'Alpine museum', kind: 'sight', durationMin: 90, cost: 600, costPer: 'person',
    location: { name: 'Musée Alpin', lat: 45.9231, lng: 6.8689 }, openingHours: { opens: '10:00', closes: '18:00' }
  }, origin)
  openPoll(doc, 'dinner-poll', {
    question: 'Where shall we eat on the last night?', kind: 'single', createdBy: me.memberId,
    options: { fondue: { label: 'Fondue in town' }, picnic: { label: 'Picnic by the river' } }
  }, origin)
}
