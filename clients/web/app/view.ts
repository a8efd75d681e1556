// View logic, free of React and of the network: what the screens show, computed from the trip
// (model/trip.ts) and the session's state. Tested with Vitest (app/view.test.ts).

import type { Activity, Poll, Proposal, Trip } from '../model/trip'
import { detectConflicts } from '../model/conflicts'

/** The connection and save state shown in the status bar. */
export type SaveState = 'refused' | 'offline' | 'connecting' | 'saving' | 'saved'

/** Someone here now. */
export interface Presence { clientId: number, name: string, color: string, isAssistant: boolean, isMe: boolean }

/** From the session's facts to what the status bar says. A refusal by the server (for good:
 * no retry) wins; then offline: edits are kept on the device. Connected but not yet synced:
 * connecting. Synced with changes the server has not acknowledged as durable: saving.
 * Otherwise every change is saved. */
export function saveState (s: { refused?: boolean, online: boolean, connected: boolean, synced: boolean, unsavedChanges: boolean }): SaveState {
  if (s.refused === true) return 'refused'
  if (!s.online) return 'offline'
  if (!s.connected || !s.synced) return 'connecting'
  return s.unsavedChanges ? 'saving' : 'saved'
}

/** The status bar's words for a save state. */
export function saveLabel (state: SaveState, unsaved: boolean): string {
  switch (state) {
    case 'refused': return 'Refused by the server'
    case 'offline': return unsaved ? 'Offline: changes kept on this device' : 'Offline'
    case 'connecting': return 'Connecting…'
    case 'saving': return 'Saving…'
    case 'saved': return 'All changes saved'
  }
}

/** Every date from `start` to `end`, inclusive (YYYY-MM-DD); empty when either is malformed. */
export function tripDates (start: string, end: string): string[] {
  const dates: string[] = []
  const from = Date.parse(start + 'T00:00:00Z')
  const to = Date.parse(end + 'T00:00:00Z')
  if (Number.isNaN(from) || Number.isNaN(to)) return dates
  for (let t = from; t <= to && dates.length < 366; t += 86_400_000) dates.push(new Date(t).toISOString().slice(0, 10))
  return dates
}

/** An activity with its id. */
export interface Entry { id: string, activity: Activity }

/** One day of the itinerary. */
export interface DayPlan { date: string, title: string, entries: Entry[] }

/** Minutes since midnight of an `HH:MM` time; undefined when absent or malformed. */
export function minutes (time: string | undefined): number | undefined {
  const m = /^(\d{2}):(\d{2})$/.exec(time ?? '')
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined
}

/** `HH:MM` of minutes since midnight. */
export function clock (mins: number): string {
  return `${String(Math.floor(mins / 60)).padStart(2, '0')}:${String(mins % 60).padStart(2, '0')}`
}

function byTime (a: Entry, b: Entry): number {
  const ta = minutes(a.activity.start) ?? 24 * 60
  const tb = minutes(b.activity.start) ?? 24 * 60
  return ta - tb || (a.activity.order ?? 0) - (b.activity.order ?? 0) || a.id.localeCompare(b.id)
}

/** The itinerary day by day (every day of the trip, in order, activities by start time) and
 * the ideas not yet scheduled. Activities dated outside the trip go with the ideas. */
export function itinerary (trip: Trip): { days: DayPlan[], ideas: Entry[] } {
  const dates = tripDates(trip.meta.startDate, trip.meta.endDate)
  const days = new Map<string, DayPlan>(dates.map((date) => [date, { date, title: trip.days[date]?.title ?? '', entries: [] }]))
  const ideas: Entry[] = []
  for (const [id, activity] of Object.entries(trip.activities)) {
    const day = activity.date !== undefined ? days.get(activity.date) : undefined
    if (day !== undefined) day.entries.push({ id, activity })
    else ideas.push({ id, activity })
  }
  for (const day of days.values()) day.entries.sort(byTime)
  ideas.sort((a, b) => a.activity.title.localeCompare(b.activity.title) || a.id.localeCompare(b.id))
  return { days: [...days.values()], ideas }
}

/** Families taking part in an activity: its list, or every family when the list is empty. */
export function familiesOf (trip: Trip, activity: Activity): string[] {
  const listed = activity.families ?? []
  return listed.length > 0 ? listed : Object.keys(trip.families)
}

/** Problems with the plan, by activity id, found by the one set of trip rules
 * (model/conflicts.ts, docs/schema.md): each conflict's sentence on every activity it names,
 * with the families it concerns when not everyone. The trip's own total over budget is not
 * on any card: see `planProblems`. */
export function conflicts (trip: Trip): Map<string, string[]> {
  const found = new Map<string, string[]>()
  const everyone = Object.keys(trip.families).length
  for (const c of detectConflicts(trip)) {
    if (c.kind === 'tripOverBudget') continue
    const who = c.families.length > 0 && c.families.length < everyone
      ? ` (${c.families.map((f) => trip.families[f]?.name ?? f).join(', ')})`
      : ''
    for (const id of c.activities) {
      const list = found.get(id) ?? []
      if (!list.includes(c.message + who)) list.push(c.message + who)
      found.set(id, list)
    }
  }
  return found
}

/** Problems with the plan as a whole (the trip over its budget), shown above the days. */
export function planProblems (trip: Trip): string[] {
  return detectConflicts(trip).filter((c) => c.kind === 'tripOverBudget').map((c) => c.message)
}

/** An option of a poll with its votes so far. */
export interface OptionTally { id: string, label: string, aiGenerated: boolean, votes: number, voters: string[] }

/** Live results of a poll: each option with the members whose first choice it is, most
 * votes first. The final, family-weighted result is the server's (`poll.result`). */
export function pollTally (trip: Trip, poll: Poll): OptionTally[] {
  const names = memberNames(trip)
  const tallies = Object.entries(poll.options).map(([id, option]) => ({
    id, label: option.label, aiGenerated: option.aiGenerated === true, votes: 0, voters: [] as string[]
  }))
  for (const [member, choice] of Object.entries(poll.votes)) {
    const first = Array.isArray(choice) ? choice[0] : choice
    const tally = tallies.find((t) => t.id === first)
    if (tally !== undefined) {
      tally.votes += 1
      tally.voters.push(names.get(member) ?? member)
    }
  }
  return tallies.sort((a, b) => b.votes - a.votes || a.label.localeCompare(b.label))
}

/** The winner's label of a closed poll, when the server recorded one. */
export function pollWinner (poll: Poll): string | undefined {
  const winner = (poll.result as { winner?: string } | undefined)?.winner
  return winner !== undefined ? poll.options[winner]?.label ?? winner : undefined
}

/** Member id to name, across families. */
export function memberNames (trip: Trip): Map<string, string> {
  const names = new Map<string, string>()
  for (const family of Object.values(trip.families)) {
    for (const [id, member] of Object.entries(family.members ?? {})) names.set(id, member.name)
  }
  return names
}

/** What a proposal would change, one line per operation, in words. */
export function describeProposal (trip: Trip, proposal: Proposal): string[] {
  const title = (id: unknown): string => trip.activities[String(id)]?.title ?? String(id)
  return proposal.ops.map((op) => {
    switch (op.op) {
      case 'addActivity': {
        const a = op.activity as Activity | undefined
        return `Add “${a?.title ?? op.id}”${a?.date ? ` on ${a.date}${a.start ? ` at ${a.start}` : ''}` : ' as an idea'}`
      }
      case 'scheduleActivity':
        return `Schedule “${title(op.id)}” on ${String(op.date)}${op.start ? ` at ${String(op.start)}` : ''}${op.durationMin ? ` for ${String(op.durationMin)} min` : ''}`
      case 'unscheduleActivity':
        return `Make “${title(op.id)}” an idea again`
      case 'removeActivity':
        return `Remove “${title(op.id)}”`
      case 'setDayTitle':
        return `Call ${String(op.date)} “${String(op.title)}”`
      case 'addPollOption':
        return `Add “${(op.option as { label?: string } | undefined)?.label ?? String(op.id)}” to the poll “${trip.polls[String(op.poll)]?.question ?? String(op.poll)}”`
      default:
        return `${String(op.op)} (not shown by this version of the app)`
    }
  })
}

/** Money in minor units as the trip's currency, e.g. 7500 EUR -> "€75.00". */
export function formatMoney (minor: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).format(minor / 100)
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`
  }
}

/** Up to two initials for an avatar. */
export function initials (name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean)
  return (parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] ?? '?').slice(0, 2)).toUpperCase()
}

/** A fresh id for a new item, valid as a trip id and as an item id (`A-Za-z0-9_-`). */
export function newId (prefix: string): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(36).padStart(2, '0')).join('')
  return `${prefix}-${random}`.slice(0, 64)
}
