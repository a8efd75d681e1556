// What this device remembers outside the trips themselves (localStorage): who uses it, the
// trips opened here, and a token per trip when the server asks for one.

import type { Me } from './sync'

const ME = 'caravan.me'
const TRIPS = 'caravan.trips'

/** A trip opened on this device. */
export interface KnownTrip { id: string, title: string, openedAt: string, token?: string, memberId?: string }

const COLORS = ['#d9481b', '#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf']

function read<T> (key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(key)
    return raw === null ? fallback : JSON.parse(raw) as T
  } catch {
    return fallback
  }
}

/** Who uses this device, or undefined before they said. */
export function loadMe (): Me | undefined {
  const me = read<Me | undefined>(ME, undefined)
  return me?.name ? me : undefined
}

/** Remembers who uses this device (a colour is chosen from the name). */
export function saveMe (name: string): Me {
  const hash = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)
  const me: Me = { name: name.trim(), color: COLORS[hash % COLORS.length] }
  localStorage.setItem(ME, JSON.stringify(me))
  return me
}

/** Trips opened on this device, most recent first. */
export function knownTrips (): KnownTrip[] {
  return read<KnownTrip[]>(TRIPS, []).sort((a, b) => b.openedAt.localeCompare(a.openedAt))
}

/** Records (or refreshes) a trip opened on this device. */
export function rememberTrip (trip: Partial<KnownTrip> & { id: string }): KnownTrip {
  const trips = read<KnownTrip[]>(TRIPS, [])
  const old = trips.find((t) => t.id === trip.id)
  const next: KnownTrip = { title: trip.id, ...old, ...trip, openedAt: new Date().toISOString() }
  localStorage.setItem(TRIPS, JSON.stringify([next, ...trips.filter((t) => t.id !== trip.id)]))
  return next
}

/** A trip's record on this device. */
export function knownTrip (id: string): KnownTrip | undefined {
  return read<KnownTrip[]>(TRIPS, []).find((t) => t.id === id)
}

/** Forgets a trip on this device (its data in the browser's store stays until cleared). */
export function forgetTrip (id: string): void {
  localStorage.setItem(TRIPS, JSON.stringify(read<KnownTrip[]>(TRIPS, []).filter((t) => t.id !== id)))
}
