// Forgiving reads, like the Rust model's (doc-model/src/read.rs): a whole trip from a
// `Y.Doc`, and what could not be read, field by field; it never throws.

import * as Y from 'yjs'
import { ROOTS, type Meta, type Family, type Activity, type Day, type Poll, type Proposal, type ChatMessage, type Trip, type Skipped } from './types.js'
import { TIME, isDate, type Fields, str, num, money, bool, strings, oneOf, object, location, durationMin } from './validate.js'

/** Plain JSON of a yjs value: shared maps and arrays recursively, texts as strings. */
function toJSON (value: unknown): unknown {
  if (value instanceof Y.Text) return value.toString()
  if (value instanceof Y.Map || value instanceof Y.Array) return value.toJSON()
  return value
}

class Reader {
  skipped: Skipped[] = []
  skip (path: string, reason: string): void { this.skipped.push({ path, reason }) }

  /** Copies the known fields of `object` that pass `checks`, listing the rest as skipped. */
  fields (path: string, object: unknown, checks: Record<string, (v: unknown) => boolean>, required: string[] = []): Fields | null {
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      this.skip(path, 'expected a map')
      return null
    }
    const out: Fields = {}
    for (const [key, value] of Object.entries(object as Fields)) {
      const ok = checks[key]
      if (!ok) this.skip(`${path}.${key}`, 'unknown field')
      else if (value === null || value === undefined) continue
      else if (!ok(value)) this.skip(`${path}.${key}`, `malformed: ${JSON.stringify(value)?.slice(0, 40)}`)
      else out[key] = value
    }
    for (const key of required) {
      if (!(key in out)) {
        if (!(key in (object as Fields))) this.skip(`${path}.${key}`, 'missing')
        out[key] = ''
      }
    }
    return out
  }

  entities<T> (path: string, value: unknown, read: (path: string, v: unknown) => T | null): Record<string, T> {
    const out: Record<string, T> = {}
    if (value === undefined) return out
    if (value === null || typeof value !== 'object') { this.skip(path, 'expected a map'); return out }
    for (const [id, v] of Object.entries(value as Fields)) {
      const item = read(`${path}.${id}`, v)
      if (item !== null) out[id] = item
    }
    return out
  }
}

/** A time: an ISO-8601 string, or epoch milliseconds (what `Date.now()` writes). */
const time = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v) && !Number.isNaN(new Date(v).getTime()))

/** A time read by `time`, as the ISO-8601 string the model uses. */
function isoTime (fields: Fields, key: string): void {
  if (typeof fields[key] === 'number') fields[key] = new Date(fields[key] as number).toISOString()
}

const META = {
  schemaVersion: num, title: str, destination: str, startDate: isDate, endDate: isDate, timezone: str, currency: str,
  budget: money, status: oneOf('planning', 'booked', 'ongoing', 'completed', 'archived')
}

const MEMBER = { name: str, ageGroup: oneOf('adult', 'teen', 'child', 'infant'), dietary: strings, mobility: str }

const FAMILY = { name: str, color: str, members: object, preferences: object }

const ACTIVITY = {
  title: str, kind: oneOf('sight', 'meal', 'transport', 'lodging', 'activity'), date: isDate, start: (v: unknown) => str(v) && TIME.test(v as string),
  durationMin, location, cost: money,
  openingHours: (v: unknown) => object(v) && str((v as Fields).opens) && TIME.test((v as Fields).opens as string) &&
    str((v as Fields).closes) && TIME.test((v as Fields).closes as string),
  costPer: oneOf('group', 'family', 'person'), families: strings, booking: object, notes: str, createdBy: str, order: num
}

const POLL = {
  question: str, kind: oneOf('single', 'ranked'), options: object, votes: object, status: oneOf('open', 'closed', 'finalized'),
  closesAt: time, createdBy: str, wantsOptions: bool, result: () => true
}

const PROPOSAL = {
  author: str, summary: str, rationale: str, ops: Array.isArray, status: oneOf('pending', 'accepted', 'rejected', 'applied', 'stale'),
  decidedBy: str, createdAt: time, reason: str, about: str
}

/** Reads the trip in `doc`. Never throws: what it cannot read is listed in `skipped`. */
export function readTrip (doc: Y.Doc): { trip: Trip | null, skipped: Skipped[] } {
  const r = new Reader()
  const root: Fields = {}
  for (const name of ROOTS) {
    if (doc.share.has(name)) root[name] = toJSON(name === 'chat' ? doc.getArray(name) : doc.getMap(name))
  }
  doc.share.forEach((_, name) => {
    if (!(ROOTS as readonly string[]).includes(name)) r.skip(name, 'unknown top-level type')
  })
  const meta = root.meta as Fields | undefined
  if (!meta || Object.keys(meta).length === 0) return { trip: null, skipped: r.skipped }
  const m = r.fields('meta', meta, META, ['title']) as unknown as Meta
  const trip: Trip = {
    meta: m,
    families: r.entities('families', root.families, (path, v) => {
      const f = r.fields(path, v, FAMILY, ['name'])
      if (!f) return null
      f.members = r.entities(`${path}.members`, f.members ?? {}, (mp, mv) => r.fields(mp, mv, MEMBER, ['name']))
      return f as unknown as Family
    }),
    activities: r.entities('activities', root.activities, (path, v) => r.fields(path, v, ACTIVITY, ['title']) as unknown as Activity),
    days: r.entities('days', root.days, (path, v) => {
      if (!isDate(path.slice(5))) { r.skip(path, 'the key is not a date as YYYY-MM-DD'); return null }
      return r.fields(path, v, { title: str, notes: str }) as Day
    }),
    polls: r.entities('polls', root.polls, (path, v) => {
      const p = r.fields(path, v, POLL, ['question'])
      if (!p) return null
      p.options ??= {}
      p.votes ??= {}
      p.status ??= 'open'
      isoTime(p, 'closesAt')
      return p as unknown as Poll
    }),
    proposals: r.entities('proposals', root.proposals, (path, v) => {
      const p = r.fields(path, v, PROPOSAL, ['author', 'summary'])
      if (p) isoTime(p, 'createdAt')
      return p as unknown as Proposal
    }),
    chat: []
  }
  const chat = root.chat
  if (Array.isArray(chat)) {
    chat.forEach((item, i) => {
      const c = r.fields(`chat.${i}`, item, { id: str, author: str, text: str, at: time, mentions: strings, replyTo: str }, ['id', 'author', 'text', 'at'])
      if (c) isoTime(c, 'at')
      if (c) trip.chat.push(c as unknown as ChatMessage)
    })
  }
  return { trip, skipped: r.skipped }
}
