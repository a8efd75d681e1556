// Writing activities: ideas and scheduled ones, moved, edited, their notes a shared text.

import * as Y from 'yjs'
import { type Activity } from '../types.js'
import { ID, check, checkActivity } from '../validate.js'
import { roots, metaOf } from './document.js'

/** Adds an activity: an idea without a date, scheduled with one. Notes are a shared text. */
export function addActivity (doc: Y.Doc, id: string, activity: Activity, origin: string): void {
  check(ID.test(id), `${id} is not a valid id`)
  const meta = metaOf(doc)
  checkActivity(meta, activity)
  const { activities } = roots(doc)
  check(!activities.has(id), `activity ${id} exists already`)
  doc.transact(() => {
    const a = new Y.Map<unknown>()
    const full: Activity = { kind: 'activity', cost: 0, costPer: 'group', families: [], createdBy: '', order: 0, ...activity }
    for (const [k, v] of Object.entries(full)) if (k !== 'notes' && v !== undefined) a.set(k, v)
    a.set('notes', new Y.Text(activity.notes ?? ''))
    activities.set(id, a)
  }, origin)
}

/** Schedules or moves an activity: its date, and optionally start and duration. */
export function scheduleActivity (doc: Y.Doc, id: string, date: string, origin: string, start?: string, durationMin?: number): void {
  const meta = metaOf(doc)
  const a = roots(doc).activities.get(id)
  check(a instanceof Y.Map, `there is no activity ${id}`)
  const next = { ...(a!.toJSON() as Activity), date, ...(start ? { start } : {}), ...(durationMin ? { durationMin } : {}) }
  checkActivity(meta, next)
  doc.transact(() => {
    a!.set('date', date)
    if (start) a!.set('start', start)
    if (durationMin) a!.set('durationMin', durationMin)
  }, origin)
}

/** Turns an activity back into an idea. */
export function unscheduleActivity (doc: Y.Doc, id: string, origin: string): void {
  const a = roots(doc).activities.get(id)
  check(a instanceof Y.Map, `there is no activity ${id}`)
  doc.transact(() => { a!.delete('date'); a!.delete('start') }, origin)
}

/** Removes an activity. */
export function removeActivity (doc: Y.Doc, id: string, origin: string): void {
  const { activities } = roots(doc)
  check(activities.has(id), `there is no activity ${id}`)
  doc.transact(() => activities.delete(id), origin)
}

/** Fields of an activity a person edits in place (moving it is `scheduleActivity`). */
export type ActivityEdit = Partial<Pick<Activity, 'title' | 'kind' | 'start' | 'durationMin' | 'cost' | 'costPer' | 'families'>>

/** Edits an activity's fields; `start: ''` clears the time. Validated as a whole first. */
export function updateActivity (doc: Y.Doc, id: string, edit: ActivityEdit, origin: string): void {
  const meta = metaOf(doc)
  const a = roots(doc).activities.get(id)
  check(a instanceof Y.Map, `there is no activity ${id}`)
  const next: Activity = { ...(a!.toJSON() as Activity), ...edit }
  if (next.start === '') delete next.start
  checkActivity(meta, next)
  doc.transact(() => {
    for (const [k, v] of Object.entries(edit)) {
      if (k === 'start' && v === '') a!.delete('start')
      else if (v !== undefined) a!.set(k, v)
    }
  }, origin)
}

/** Sets the text of an activity's shared notes (replacing it). */
export function setActivityNotes (doc: Y.Doc, id: string, text: string, origin: string): void {
  const a = roots(doc).activities.get(id)
  check(a instanceof Y.Map, `there is no activity ${id}`)
  check(text.length <= 10_000, 'notes hold at most 10,000 characters')
  doc.transact(() => {
    let notes = a!.get('notes')
    if (!(notes instanceof Y.Text)) { notes = new Y.Text(); a!.set('notes', notes) }
    const t = notes as Y.Text
    t.delete(0, t.length)
    t.insert(0, text)
  }, origin)
}
