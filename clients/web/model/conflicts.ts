// Conflicts in a plan, by the rules of docs/schema.md ("Conflicts"): the TypeScript twin of
// doc-model/src/conflicts.rs. Both are held to the shared cases of conformance/conflicts/
// (app/conformance.test.ts here, doc-model/tests/conformance.rs there): change a rule in one
// language alone and the other's test fails.

import { compare, sortedKeys } from './order.js'
import type { Activity, Trip } from './trip.js'

/** Minutes an activity with a start but no duration is taken to last. */
export const DEFAULT_DURATION_MIN = 60

/** Minutes in a day: an activity ending later runs past midnight. */
const DAY_MINUTES = 24 * 60

/** Thresholds of the checks. */
export interface ConflictRules {
  /** A day is over budget past this many times its share of the budget (budget / days). */
  dayBudgetFactor: number
  /** Speed assumed between two places, in km/h, along the great circle. */
  travelSpeedKmh: number
}

/** The thresholds the server and its assistant use. */
export const DEFAULT_RULES: ConflictRules = { dayBudgetFactor: 1.5, travelSpeedKmh: 40 }

/** What kind of problem. */
export type ConflictKind = 'overlap' | 'dayOverBudget' | 'tripOverBudget' | 'impossibleTravel' |
'outsideTrip' | 'outsideOpeningHours' | 'pastMidnight'

/** One problem in the plan, as `GET /api/trips/{id}` lists it. */
export interface Conflict {
  kind: ConflictKind
  /** The day, when the problem is on one. */
  date?: string
  /** Activity ids involved. */
  activities: string[]
  /** Family ids involved. */
  families: string[]
  /** A sentence for people. */
  message: string
}

/** Minutes since midnight of a valid `HH:MM`; undefined otherwise. */
function minutesOf (time: string | undefined): number | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time ?? '')
  return m !== null ? Number(m[1]) * 60 + Number(m[2]) : undefined
}

/** Families taking part in `activity`: those listed that exist, once each, in id order; every
 * family when none is listed; one implicit group `''` in a trip without families. */
export function participants (trip: Trip, activity: Activity): string[] {
  const all = sortedKeys(trip.families)
  if (all.length === 0) return ['']
  const listed = activity.families ?? []
  if (listed.length === 0) return all
  return [...new Set(listed.filter((f) => Object.hasOwn(trip.families, f)))].sort(compare)
}

/** Family ids as a conflict names them (the implicit group is no family to name). */
function named (families: Iterable<string>): string[] {
  return [...families].filter((f) => f !== '')
}

/** What an activity costs the group, in minor units. */
export function activityCost (trip: Trip, activity: Activity): number {
  const families = participants(trip, activity)
  const cost = activity.cost ?? 0
  switch (activity.costPer ?? 'group') {
    case 'group': return cost
    case 'family': return cost * Math.max(families.length, 1)
    case 'person': {
      const people = families.reduce((sum, f) => sum + Math.max(Object.keys(trip.families[f]?.members ?? {}).length, 1), 0)
      return cost * Math.max(people, 1)
    }
  }
}

/** Money in minor units as people read it: 4800 EUR is `48.00 EUR`. */
export function money (minor: number, currency: string): string {
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')} ${currency}`
}

/** Great-circle distance in km (haversine, mean Earth radius), as the Rust model computes it. */
export function greatCircleKm (lat1: number, lng1: number, lat2: number, lng2: number): number {
  const radians = (degrees: number): number => degrees * (Math.PI / 180)
  const [p1, p2] = [radians(lat1), radians(lat2)]
  const dp = radians(lat2 - lat1)
  const dl = radians(lng2 - lng1)
  const a = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2
  return 2 * 6371 * Math.asin(Math.sqrt(a))
}

/** A timed activity: its date, start and end in minutes after midnight. */
interface Slot { id: string, activity: Activity, date: string, start: number, end: number }

function slotOf (id: string, activity: Activity): Slot | undefined {
  const start = minutesOf(activity.start)
  if (activity.date === undefined || start === undefined) return undefined
  return { id, activity, date: activity.date, start, end: start + (activity.durationMin ?? DEFAULT_DURATION_MIN) }
}

/** Every conflict in `trip`, in the order docs/schema.md gives. */
export function detectConflicts (trip: Trip, rules: ConflictRules = DEFAULT_RULES): Conflict[] {
  const out: Conflict[] = []
  const ids = sortedKeys(trip.activities)
  const { startDate, endDate } = trip.meta
  for (const id of ids) {
    const activity = trip.activities[id]
    const date = activity.date
    if (date !== undefined && (date < startDate || date > endDate)) {
      out.push({
        kind: 'outsideTrip',
        date,
        activities: [id],
        families: named(participants(trip, activity)),
        message: `${activity.title} is on ${date}, outside the trip (${startDate} to ${endDate})`
      })
    }
  }
  for (const id of ids) {
    const activity = trip.activities[id]
    const slot = slotOf(id, activity)
    if (slot === undefined) continue
    const families = named(participants(trip, activity))
    const hours = activity.openingHours
    const opens = minutesOf(hours?.opens)
    const closes = minutesOf(hours?.closes)
    if (hours !== undefined && opens !== undefined && closes !== undefined && (slot.start < opens || slot.end > closes)) {
      out.push({ kind: 'outsideOpeningHours', date: slot.date, activities: [id], families, message: `${activity.title} is outside opening hours (${hours.opens}–${hours.closes})` })
    }
    if (slot.end > DAY_MINUTES) {
      out.push({ kind: 'pastMidnight', date: slot.date, activities: [id], families, message: `${activity.title} runs past midnight` })
    }
  }
  overlapsAndTravel(trip, ids, rules, out)
  budget(trip, ids, rules, out)
  return out
}

/** A pair of activities on a day, with the families it concerns. */
interface Pair { date: string, a: string, b: string, families: Set<string>, message: string }

function pairKey (date: string, a: string, b: string): string {
  return JSON.stringify([date, a, b])
}

function byPair (x: Pair, y: Pair): number {
  return compare(x.date, y.date) || compare(x.a, y.a) || compare(x.b, y.b)
}

function overlapsAndTravel (trip: Trip, ids: string[], rules: ConflictRules, out: Conflict[]): void {
  // (date, family) -> timed activities.
  const days = new Map<string, Slot[]>()
  for (const id of ids) {
    const slot = slotOf(id, trip.activities[id])
    if (slot === undefined) continue
    for (const family of participants(trip, slot.activity)) {
      const key = JSON.stringify([slot.date, family])
      days.set(key, [...(days.get(key) ?? []), slot])
    }
  }
  const overlaps = new Map<string, Pair>()
  const travel = new Map<string, Pair>()
  const note = (found: Map<string, Pair>, a: Slot, b: Slot, family: string, message: string): void => {
    const key = pairKey(a.date, a.id, b.id)
    const pair = found.get(key) ?? { date: a.date, a: a.id, b: b.id, families: new Set<string>(), message }
    pair.families.add(family)
    found.set(key, pair)
  }
  for (const [key, slots] of days) {
    const family = (JSON.parse(key) as [string, string])[1]
    slots.sort((x, y) => x.start - y.start || (x.activity.order ?? 0) - (y.activity.order ?? 0) || compare(x.id, y.id))
    slots.forEach((a, i) => {
      for (const b of slots.slice(i + 1)) {
        if (b.start < a.end) note(overlaps, a, b, family, `${a.activity.title} and ${b.activity.title} overlap on ${a.date}`)
      }
    })
    for (let i = 0; i + 1 < slots.length; i++) {
      const [a, b] = [slots[i], slots[i + 1]]
      const [from, to] = [a.activity.location, b.activity.location]
      if (from === undefined || to === undefined || b.start < a.end) continue
      const km = greatCircleKm(from.lat, from.lng, to.lat, to.lng)
      const needed = Math.ceil(km / rules.travelSpeedKmh * 60)
      const gap = b.start - a.end
      if (needed > gap) {
        note(travel, a, b, family, `${a.activity.title} to ${b.activity.title} is ${km.toFixed(1)} km: about ${needed} min at ${rules.travelSpeedKmh} km/h, but only ${gap} min apart`)
      }
    }
  }
  for (const [kind, found] of [['overlap', overlaps], ['impossibleTravel', travel]] as const) {
    for (const pair of [...found.values()].sort(byPair)) {
      out.push({ kind, date: pair.date, activities: [pair.a, pair.b], families: named([...pair.families].sort(compare)), message: pair.message })
    }
  }
}

function budget (trip: Trip, ids: string[], rules: ConflictRules, out: Conflict[]): void {
  const total = trip.meta.budget ?? 0
  if (total === 0) return
  const span = Math.round((Date.parse(trip.meta.endDate + 'T00:00:00Z') - Date.parse(trip.meta.startDate + 'T00:00:00Z')) / 86_400_000)
  const days = Math.max(span, 0) + 1
  const dailyShare = total / days
  const perDay = new Map<string, { cost: number, activities: string[] }>()
  let planned = 0
  const scheduled: string[] = []
  for (const id of ids) {
    const activity = trip.activities[id]
    if (activity.date === undefined) continue
    const cost = activityCost(trip, activity)
    planned += cost
    scheduled.push(id)
    const day = perDay.get(activity.date) ?? { cost: 0, activities: [] }
    day.cost += cost
    if (cost > 0) day.activities.push(id)
    perDay.set(activity.date, day)
  }
  const currency = trip.meta.currency
  for (const date of [...perDay.keys()].sort(compare)) {
    const day = perDay.get(date)!
    if (day.cost > dailyShare * rules.dayBudgetFactor) {
      out.push({
        kind: 'dayOverBudget',
        date,
        activities: day.activities,
        families: [],
        message: `${date} costs ${money(day.cost, currency)}, more than ${rules.dayBudgetFactor} times its share of the budget (${money(Math.floor(total / days), currency)})`
      })
    }
  }
  if (planned > total) {
    out.push({ kind: 'tripOverBudget', activities: scheduled, families: [], message: `the plan costs ${money(planned, currency)}, over the budget of ${money(total, currency)}` })
  }
}
