// What a valid value is (ids, dates, times, money, places, an activity within its trip), the
// twin of doc-model/src/validate.rs, with the same words: used by the forgiving reads, by
// every write, and by `validateTrip`; the cases of conformance/validation/ hold the two
// together.

import { sortedEntries } from './order.js'
import { MAX_FAMILIES, MAX_MEMBERS, TripError, type Activity, type Family, type Location, type Member, type Meta } from './types.js'

/** The longest name (a title, a label), in characters. */
export const MAX_NAME_CHARS = 200
/** The longest free text (notes, a chat message), in characters. */
export const MAX_TEXT_CHARS = 10_000
/** The largest amount of money, in minor units: exact in every client. */
export const MAX_MONEY = 2 ** 53 - 1
/** The longest duration, in minutes: a day. */
export const MAX_DURATION_MIN = 24 * 60

/** What is wrong with a value, in words a client can show; undefined when nothing is. */
export type Problem = string | undefined

/** A text quoted as the Rust model quotes it (`{:?}`), cut to `max` characters. */
function quoted (value: string, max: number): string {
  return JSON.stringify([...value].slice(0, max).join(''))
}

/** The first problem of several checks, in order. */
function first (...checks: Array<() => Problem>): Problem {
  for (const c of checks) {
    const problem = c()
    if (problem !== undefined) return problem
  }
  return undefined
}

/** An id used as a key (families, members, activities, polls...): 1 to 64 of A-Za-z0-9_-. */
export function idProblem (value: string): Problem {
  return ID.test(value) ? undefined : `${quoted(value, 80)} is not a valid id: 1 to 64 letters, digits, '-' or '_'`
}

/** A required name: not blank, not too long. */
export function nameProblem (field: string, value: string): Problem {
  return value.trim() === '' ? `${field} must not be empty` : textProblem(field, value, MAX_NAME_CHARS)
}

/** A free text's length. */
export function textProblem (field: string, value: string, max: number): Problem {
  const chars = [...value].length
  return chars > max ? `${field} has ${chars} characters; at most ${max} are allowed` : undefined
}

/** An amount of money (minor units). */
export function moneyProblem (field: string, value: number): Problem {
  return value > MAX_MONEY ? `${field}: ${value} is larger than ${MAX_MONEY}` : undefined
}

function knownCurrency (code: string): boolean {
  const intl = Intl as { supportedValuesOf?: (key: string) => string[] }
  return intl.supportedValuesOf !== undefined ? intl.supportedValuesOf('currency').includes(code) : /^[A-Z]{3}$/.test(code)
}

function knownTimezone (name: string): boolean {
  try {
    const resolved = new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone
    // The IANA names are case-sensitive; an alias resolves to another name, and is one.
    return resolved === name || resolved.toLowerCase() !== name.toLowerCase()
  } catch {
    return false
  }
}

/** The trip's meta. */
export function metaProblem (meta: Meta): Problem {
  return first(
    () => nameProblem('title', meta.title),
    () => textProblem('destination', meta.destination ?? '', MAX_NAME_CHARS),
    () => meta.endDate < meta.startDate ? `the end date ${meta.endDate} is before the start date ${meta.startDate}` : undefined,
    () => knownCurrency(meta.currency) ? undefined : `${quoted(meta.currency, 20)} is not an ISO 4217 currency code (such as EUR or USD)`,
    () => knownTimezone(meta.timezone) ? undefined : `${quoted(meta.timezone, 60)} is not an IANA time zone (such as Europe/Paris)`,
    () => moneyProblem('budget', meta.budget ?? 0)
  )
}

/** A display color: none, or `#rrggbb`. */
export function colorProblem (value: string): Problem {
  return value === '' || /^#[0-9A-Fa-f]{6}$/.test(value) ? undefined : `${quoted(value, 20)} is not a color as #rrggbb`
}

/** A member. */
export function memberProblem (member: Member): Problem {
  return first(
    () => nameProblem('member name', member.name),
    ...(member.dietary ?? []).map((need) => () => nameProblem('dietary need', need)),
    () => member.mobility !== undefined ? textProblem('mobility', member.mobility, MAX_NAME_CHARS) : undefined
  )
}

/** A family, its members included. */
export function familyProblem (family: Family): Problem {
  const members = sortedEntries(family.members)
  return first(
    () => nameProblem('family name', family.name),
    () => colorProblem(family.color ?? ''),
    () => members.length > MAX_MEMBERS ? `a family has at most ${MAX_MEMBERS} members` : undefined,
    ...members.map(([id, m]) => () => idProblem(id) ?? memberProblem(m)),
    ...(family.preferences?.interests ?? []).map((interest) => () => nameProblem('interest', interest))
  )
}

/** A location's names and coordinates. */
export function locationProblem (location: Location): Problem {
  return first(
    () => textProblem('location name', location.name, MAX_NAME_CHARS),
    () => textProblem('address', location.address ?? '', MAX_NAME_CHARS),
    () => location.lat < -90 || location.lat > 90 ? `latitude ${location.lat} is outside -90 to 90` : undefined,
    () => location.lng < -180 || location.lng > 180 ? `longitude ${location.lng} is outside -180 to 180` : undefined
  )
}

/** That `date` is one of the trip's days. */
export function withinTripProblem (date: string, meta: Meta): Problem {
  return date < meta.startDate || date > meta.endDate ? `${date} is outside the trip (${meta.startDate} to ${meta.endDate})` : undefined
}

/** An activity, against itself and the trip's meta. */
export function activityProblem (a: Activity, meta: Meta): Problem {
  const minutes = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5))
  return first(
    () => nameProblem('activity title', a.title),
    () => textProblem('notes', a.notes ?? '', MAX_TEXT_CHARS),
    () => moneyProblem('cost', a.cost ?? 0),
    () => a.location !== undefined ? locationProblem(a.location) : undefined,
    () => a.date !== undefined ? withinTripProblem(a.date, meta) : undefined,
    () => a.openingHours !== undefined && minutes(a.openingHours.closes) <= minutes(a.openingHours.opens)
      ? `opening hours ${a.openingHours.opens}-${a.openingHours.closes} close before they open`
      : undefined,
    () => a.durationMin !== undefined && (a.durationMin === 0 || a.durationMin > MAX_DURATION_MIN)
      ? `a duration of ${a.durationMin} minutes is not within 1 minute to a day`
      : undefined,
    () => a.durationMin !== undefined && a.start !== undefined && minutes(a.start) + a.durationMin > MAX_DURATION_MIN
      ? `starting at ${a.start} for ${a.durationMin} minutes ends after midnight`
      : undefined,
    ...(a.families ?? []).map((f) => () => idProblem(f)),
    () => a.booking?.ref !== undefined ? textProblem('booking reference', a.booking.ref, MAX_NAME_CHARS) : undefined
  )
}

/** Throws the problem, if there is one. */
export function refuse (problem: Problem): void {
  if (problem !== undefined) throw new TripError(problem)
}

/** A trip has at most this many families (the Rust model's words). */
export const TOO_MANY_FAMILIES = `a trip has at most ${MAX_FAMILIES} families`

export const DATE = /^\d{4}-\d{2}-\d{2}$/

export const TIME = /^([01]\d|2[0-3]):[0-5]\d$/

export const ID = /^[A-Za-z0-9_-]{1,64}$/

export function isDate (s: unknown): s is string {
  return typeof s === 'string' && DATE.test(s) && !Number.isNaN(Date.parse(s + 'T00:00:00Z')) &&
    new Date(s + 'T00:00:00Z').toISOString().slice(0, 10) === s
}

export function check (ok: boolean, message: string): void {
  if (!ok) throw new TripError(message)
}

export type Fields = Record<string, unknown>

export const str = (v: unknown) => typeof v === 'string'

export const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v)

export const money = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0

export const bool = (v: unknown) => typeof v === 'boolean'

export const strings = (v: unknown) => Array.isArray(v) && v.every(str)

export const oneOf = (...xs: string[]) => (v: unknown) => typeof v === 'string' && xs.includes(v)

export const object = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v)

export const location = (v: unknown) => object(v) && str((v as Fields).name) && num((v as Fields).lat) && num((v as Fields).lng) &&
  Math.abs((v as Location).lat) <= 90 && Math.abs((v as Location).lng) <= 180

/** A duration: whole minutes, 1 to a day. */
export const durationMin = (v: unknown) => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 1440

export function withinTrip (meta: Meta, date: string): void {
  check(isDate(date), `${JSON.stringify(date)} is not a date as YYYY-MM-DD`)
  check(date >= meta.startDate && date <= meta.endDate, `${date} is outside the trip (${meta.startDate} to ${meta.endDate})`)
}

/** Checks an activity: first what the Rust model's types enforce (a title, a time as HH:MM,
 * whole minutes, money as a non-negative integer, a place with coordinates), then its rules. */
export function checkActivity (meta: Meta, a: Activity): void {
  check(typeof a.title === 'string', 'activity title must not be empty')
  if (a.date !== undefined) check(isDate(a.date), `${JSON.stringify(a.date)} is not a date as YYYY-MM-DD`)
  if (a.start !== undefined) check(TIME.test(a.start), `${JSON.stringify(a.start)} is not a time of day as HH:MM`)
  if (a.durationMin !== undefined) check(durationMin(a.durationMin), `a duration of ${a.durationMin} minutes is not within 1 minute to a day`)
  if (a.cost !== undefined) check(money(a.cost), 'cost must be a non-negative integer (minor units)')
  if (a.location !== undefined) check(location(a.location), 'location needs a name, latitude -90..90 and longitude -180..180')
  refuse(activityProblem(a, meta))
}
