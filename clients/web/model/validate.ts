// What a valid value is (ids, dates, times, money, places, an activity within its trip), the
// twin of doc-model/src/validate.rs: used by the forgiving reads and by every write.

import { TripError, type Meta, type Location, type Activity } from './types.js'

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

export function checkActivity (meta: Meta, a: Activity): void {
  check(typeof a.title === 'string' && a.title.trim() !== '', 'activity title must not be empty')
  if (a.date !== undefined) withinTrip(meta, a.date)
  if (a.start !== undefined) check(TIME.test(a.start), `${JSON.stringify(a.start)} is not a time of day as HH:MM`)
  if (a.durationMin !== undefined) check(durationMin(a.durationMin), `a duration of ${a.durationMin} minutes is not within 1 minute to a day`)
  if (a.cost !== undefined) check(money(a.cost), 'cost must be a non-negative integer (minor units)')
  if (a.location !== undefined) check(location(a.location), 'location needs a name, latitude -90..90 and longitude -180..180')
}
