// The trip document (docs/schema.md) over yjs: typed reads and writes, the TypeScript twin of
// the Rust crate `doc_model`. Both read and write the same Yjs shape; the cross-language test
// (test/cross-language.test.mjs) holds them to it.

import * as Y from 'yjs'

export const ROOTS = ['meta', 'families', 'activities', 'days', 'polls', 'proposals', 'chat'] as const
export const MAX_FAMILIES = 6
export const MAX_MEMBERS = 12

export type AgeGroup = 'adult' | 'teen' | 'child' | 'infant'
export type ActivityKind = 'sight' | 'meal' | 'transport' | 'lodging' | 'activity'
export type CostPer = 'group' | 'family' | 'person'
export type PollStatus = 'open' | 'closed' | 'finalized'
export type ProposalStatus = 'pending' | 'accepted' | 'rejected' | 'applied' | 'stale'

export interface Meta {
  schemaVersion?: number
  title: string
  destination?: string
  startDate: string
  endDate: string
  timezone: string
  currency: string
  budget?: number
  status?: 'planning' | 'booked' | 'ongoing' | 'completed' | 'archived'
}

export interface Member { name: string, ageGroup?: AgeGroup, dietary?: string[], mobility?: string }
export interface Preferences { interests?: string[], pace?: 'relaxed' | 'moderate' | 'packed', budgetLevel?: 'low' | 'medium' | 'high' }
export interface Family { name: string, color?: string, members?: Record<string, Member>, preferences?: Preferences }
export interface Location { name: string, lat: number, lng: number, address?: string }

export interface Activity {
  title: string
  kind?: ActivityKind
  date?: string
  start?: string
  durationMin?: number
  location?: Location
  openingHours?: { opens: string, closes: string }
  cost?: number
  costPer?: CostPer
  families?: string[]
  booking?: { status: string, ref?: string }
  notes?: string
  createdBy?: string
  order?: number
}

export interface Day { title?: string, notes?: string }
export interface PollOption { label: string, details?: string, aiGenerated?: boolean, activity?: string }
export type Vote = string | string[]
export interface Poll {
  question: string
  kind?: 'single' | 'ranked'
  options: Record<string, PollOption>
  votes: Record<string, Vote>
  status: PollStatus
  closesAt?: string
  createdBy?: string
  wantsOptions?: boolean
  result?: unknown
}
export interface Proposal {
  author: string
  summary: string
  rationale?: string
  ops: Array<Record<string, unknown>>
  status: ProposalStatus
  decidedBy?: string
  createdAt: string
  reason?: string
  about?: string
}
export interface ChatMessage { id: string, author: string, text: string, at: string, mentions?: string[], replyTo?: string }

export interface Trip {
  meta: Meta
  families: Record<string, Family>
  activities: Record<string, Activity>
  days: Record<string, Day>
  polls: Record<string, Poll>
  proposals: Record<string, Proposal>
  chat: ChatMessage[]
}

export interface Skipped { path: string, reason: string }

/** Why a write was refused. */
export class TripError extends Error {}

const DATE = /^\d{4}-\d{2}-\d{2}$/
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/
const ID = /^[A-Za-z0-9_-]{1,64}$/

function isDate (s: unknown): s is string {
  return typeof s === 'string' && DATE.test(s) && !Number.isNaN(Date.parse(s + 'T00:00:00Z')) &&
    new Date(s + 'T00:00:00Z').toISOString().slice(0, 10) === s
}

function check (ok: boolean, message: string): void {
  if (!ok) throw new TripError(message)
}

/** Plain JSON of a yjs value: shared maps and arrays recursively, texts as strings. */
function toJSON (value: unknown): unknown {
  if (value instanceof Y.Text) return value.toString()
  if (value instanceof Y.Map || value instanceof Y.Array) return value.toJSON()
  return value
}

// ---- reading: forgiving, like the Rust model ----

type Fields = Record<string, unknown>

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

const str = (v: unknown) => typeof v === 'string'
/** A time: an ISO-8601 string, or epoch milliseconds (what `Date.now()` writes). */
const time = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v) && !Number.isNaN(new Date(v).getTime()))
/** A time read by `time`, as the ISO-8601 string the model uses. */
function isoTime (fields: Fields, key: string): void {
  if (typeof fields[key] === 'number') fields[key] = new Date(fields[key] as number).toISOString()
}
const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v)
const money = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0
const bool = (v: unknown) => typeof v === 'boolean'
const strings = (v: unknown) => Array.isArray(v) && v.every(str)
const oneOf = (...xs: string[]) => (v: unknown) => typeof v === 'string' && xs.includes(v)
const object = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v)
const location = (v: unknown) => object(v) && str((v as Fields).name) && num((v as Fields).lat) && num((v as Fields).lng) &&
  Math.abs((v as Location).lat) <= 90 && Math.abs((v as Location).lng) <= 180

const META = {
  schemaVersion: num, title: str, destination: str, startDate: isDate, endDate: isDate, timezone: str, currency: str,
  budget: money, status: oneOf('planning', 'booked', 'ongoing', 'completed', 'archived')
}
const MEMBER = { name: str, ageGroup: oneOf('adult', 'teen', 'child', 'infant'), dietary: strings, mobility: str }
const FAMILY = { name: str, color: str, members: object, preferences: object }
const ACTIVITY = {
  title: str, kind: oneOf('sight', 'meal', 'transport', 'lodging', 'activity'), date: isDate, start: (v: unknown) => str(v) && TIME.test(v as string),
  durationMin: (v: unknown) => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 1440, location, cost: money,
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

// ---- writing: each operation one transaction with an origin ----

function roots (doc: Y.Doc) {
  return {
    meta: doc.getMap('meta'),
    families: doc.getMap<Y.Map<unknown>>('families'),
    activities: doc.getMap<Y.Map<unknown>>('activities'),
    days: doc.getMap<Y.Map<unknown>>('days'),
    polls: doc.getMap<Y.Map<unknown>>('polls'),
    proposals: doc.getMap<Y.Map<unknown>>('proposals'),
    chat: doc.getArray<ChatMessage>('chat')
  }
}

function metaOf (doc: Y.Doc): Meta {
  const meta = roots(doc).meta
  check(meta.size > 0, 'this document holds no trip: create it first')
  return meta.toJSON() as Meta
}

function withinTrip (meta: Meta, date: string): void {
  check(isDate(date), `${JSON.stringify(date)} is not a date as YYYY-MM-DD`)
  check(date >= meta.startDate && date <= meta.endDate, `${date} is outside the trip (${meta.startDate} to ${meta.endDate})`)
}

function checkActivity (meta: Meta, a: Activity): void {
  check(typeof a.title === 'string' && a.title.trim() !== '', 'activity title must not be empty')
  if (a.date !== undefined) withinTrip(meta, a.date)
  if (a.start !== undefined) check(TIME.test(a.start), `${JSON.stringify(a.start)} is not a time of day as HH:MM`)
  if (a.durationMin !== undefined) check(ACTIVITY.durationMin(a.durationMin), `a duration of ${a.durationMin} minutes is not within 1 minute to a day`)
  if (a.cost !== undefined) check(money(a.cost), 'cost must be a non-negative integer (minor units)')
  if (a.location !== undefined) check(location(a.location), 'location needs a name, latitude -90..90 and longitude -180..180')
}

/** Creates the trip's meta in an empty document. */
export function createTrip (doc: Y.Doc, meta: Meta, origin: string): void {
  check(meta.title.trim() !== '', 'title must not be empty')
  check(isDate(meta.startDate) && isDate(meta.endDate), 'dates are YYYY-MM-DD')
  check(meta.endDate >= meta.startDate, `the end date ${meta.endDate} is before the start date ${meta.startDate}`)
  check(/^[A-Z]{3}$/.test(meta.currency), `${meta.currency} is not an ISO 4217 code`)
  check(meta.budget === undefined || money(meta.budget), 'budget must be a non-negative integer (minor units)')
  doc.transact(() => {
    const m = roots(doc).meta
    check(m.size === 0, 'this document already holds a trip')
    for (const [k, v] of Object.entries({ schemaVersion: 1, destination: '', budget: 0, status: 'planning', ...meta })) m.set(k, v)
  }, origin)
}

/** Adds a family with its members (a shared map, so concurrent additions are all kept). */
export function addFamily (doc: Y.Doc, id: string, family: Family, origin: string): void {
  check(ID.test(id), `${id} is not a valid id`)
  check(family.name.trim() !== '', 'family name must not be empty')
  const { families } = roots(doc)
  metaOf(doc)
  check(!families.has(id), `family ${id} exists already`)
  check(families.size < MAX_FAMILIES, `a trip has at most ${MAX_FAMILIES} families`)
  check(Object.keys(family.members ?? {}).length <= MAX_MEMBERS, `a family has at most ${MAX_MEMBERS} members`)
  doc.transact(() => {
    const f = new Y.Map<unknown>()
    f.set('name', family.name)
    f.set('color', family.color ?? '')
    const members = new Y.Map<Member>()
    for (const [mid, m] of Object.entries(family.members ?? {})) members.set(mid, { ageGroup: 'adult', dietary: [], ...m })
    f.set('members', members)
    f.set('preferences', { interests: [], pace: 'moderate', budgetLevel: 'medium', ...family.preferences })
    families.set(id, f)
  }, origin)
}

/** Adds a member to a family. */
export function addMember (doc: Y.Doc, familyId: string, id: string, member: Member, origin: string): void {
  check(ID.test(id), `${id} is not a valid id`)
  check(member.name.trim() !== '', 'member name must not be empty')
  const family = roots(doc).families.get(familyId)
  check(family instanceof Y.Map, `there is no family ${familyId}`)
  const members = family!.get('members') as Y.Map<Member>
  check(!members.has(id), `member ${id} exists already`)
  check(members.size < MAX_MEMBERS, `a family has at most ${MAX_MEMBERS} members`)
  doc.transact(() => members.set(id, { ageGroup: 'adult', dietary: [], ...member }), origin)
}

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

/** Sets a day's title. */
export function setDayTitle (doc: Y.Doc, date: string, title: string, origin: string): void {
  withinTrip(metaOf(doc), date)
  const { days } = roots(doc)
  doc.transact(() => {
    let day = days.get(date)
    if (!(day instanceof Y.Map)) {
      day = new Y.Map<unknown>()
      day.set('notes', new Y.Text(''))
      days.set(date, day)
    }
    day.set('title', title)
  }, origin)
}

/** Votes on an open poll, as member `voter`. */
export function vote (doc: Y.Doc, pollId: string, voter: string, choice: Vote, origin: string): void {
  const poll = roots(doc).polls.get(pollId)
  check(poll instanceof Y.Map, `there is no poll ${pollId}`)
  check(poll!.get('status') === 'open', `poll ${pollId} is not open`)
  const isMember = [...roots(doc).families.values()].some((f) => (f.get('members') as Y.Map<Member>)?.has(voter))
  check(isMember, `there is no member ${voter}`)
  const ranked = poll!.get('kind') === 'ranked'
  check(ranked === Array.isArray(choice), ranked ? 'rank the options, best first' : 'vote for one option')
  const options = poll!.get('options') as Y.Map<PollOption>
  const chosen = Array.isArray(choice) ? choice : [choice]
  check(chosen.length > 0 && new Set(chosen).size === chosen.length, 'a ranking must name each option at most once, and at least one')
  for (const o of chosen) check(options.has(o), `poll ${pollId} has no option ${o}`)
  doc.transact(() => (poll!.get('votes') as Y.Map<Vote>).set(voter, choice), origin)
}

/** Accepts a pending proposal the way any client can: the assistant then applies it. */
export function acceptProposal (doc: Y.Doc, id: string, by: string, origin: string): void {
  const p = roots(doc).proposals.get(id)
  check(p instanceof Y.Map, `there is no proposal ${id}`)
  check(p!.get('status') === 'pending', `proposal ${id} is ${p!.get('status')}, not pending`)
  doc.transact(() => { p!.set('status', 'accepted'); p!.set('decidedBy', by) }, origin)
}

/** Posts a chat message. */
export function postChat (doc: Y.Doc, message: ChatMessage, origin: string): void {
  check(ID.test(message.id), `${message.id} is not a valid id`)
  check(message.text.trim() !== '', 'chat message must not be empty')
  metaOf(doc)
  doc.transact(() => roots(doc).chat.push([{ mentions: [], ...message }]), origin)
}

/** A poll to open: the question, its kind and its first options. */
export interface NewPoll {
  question: string
  kind?: 'single' | 'ranked'
  options: Record<string, PollOption>
  closesAt?: string
  createdBy?: string
  wantsOptions?: boolean
}

/** Opens a poll (options and votes are shared maps, so concurrent votes are all kept). */
export function openPoll (doc: Y.Doc, id: string, poll: NewPoll, origin: string): void {
  check(ID.test(id), `${id} is not a valid id`)
  check(poll.question.trim() !== '' && poll.question.length <= 200, 'a question needs 1 to 200 characters')
  for (const [oid, option] of Object.entries(poll.options)) {
    check(ID.test(oid), `${oid} is not a valid option id`)
    check(option.label.trim() !== '' && option.label.length <= 200, 'an option label needs 1 to 200 characters')
  }
  metaOf(doc)
  const { polls } = roots(doc)
  check(!polls.has(id), `poll ${id} exists already`)
  doc.transact(() => {
    const p = new Y.Map<unknown>()
    p.set('question', poll.question)
    p.set('kind', poll.kind ?? 'single')
    const options = new Y.Map<PollOption>()
    for (const [oid, option] of Object.entries(poll.options)) options.set(oid, { details: '', aiGenerated: false, ...option })
    p.set('options', options)
    p.set('votes', new Y.Map<Vote>())
    p.set('status', 'open')
    p.set('createdBy', poll.createdBy ?? '')
    p.set('wantsOptions', poll.wantsOptions ?? false)
    if (poll.closesAt !== undefined) p.set('closesAt', poll.closesAt)
    polls.set(id, p)
  }, origin)
}

/** Adds an option to an open poll. */
export function addPollOption (doc: Y.Doc, pollId: string, id: string, option: PollOption, origin: string): void {
  check(ID.test(id), `${id} is not a valid option id`)
  check(option.label.trim() !== '' && option.label.length <= 200, 'an option label needs 1 to 200 characters')
  const poll = roots(doc).polls.get(pollId)
  check(poll instanceof Y.Map, `there is no poll ${pollId}`)
  check(poll!.get('status') === 'open', `poll ${pollId} is not open`)
  const options = poll!.get('options') as Y.Map<PollOption>
  check(!options.has(id), `option ${id} exists already`)
  doc.transact(() => options.set(id, { details: '', aiGenerated: false, ...option }), origin)
}

/** Closes an open poll: the assistant then tallies it (family by family) and records the result. */
export function closePoll (doc: Y.Doc, pollId: string, origin: string): void {
  const poll = roots(doc).polls.get(pollId)
  check(poll instanceof Y.Map, `there is no poll ${pollId}`)
  check(poll!.get('status') === 'open', `poll ${pollId} is not open`)
  doc.transact(() => poll!.set('status', 'closed'), origin)
}

/** Rejects a pending proposal. */
export function rejectProposal (doc: Y.Doc, id: string, by: string, origin: string): void {
  const p = roots(doc).proposals.get(id)
  check(p instanceof Y.Map, `there is no proposal ${id}`)
  check(p!.get('status') === 'pending', `proposal ${id} is ${p!.get('status')}, not pending`)
  doc.transact(() => { p!.set('status', 'rejected'); p!.set('decidedBy', by) }, origin)
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
