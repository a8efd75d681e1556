// React's view of an open trip: the session for the lifetime of the screen, the trip as read
// from the document (re-read on every change), the save state and who is here.

import { useEffect, useState } from 'react'
import { readTrip, type Trip } from '../model/trip'
import { rememberTrip } from './device'
import { TripSession, syncUrl, type Me, type SessionStatus } from './sync'
import type { Presence } from './view'

/** Everything a trip screen shows, live. */
export interface TripView {
  session?: TripSession
  trip: Trip | null
  status: SessionStatus
  presence: Presence[]
  /** True once the trip was read from this device's store. */
  loaded: boolean
}

export function useTrip (tripId: string, me: Me, token?: string): TripView {
  const [view, setView] = useState<TripView>({ trip: null, status: { save: 'connecting', unsaved: false }, presence: [], loaded: false })
  useEffect(() => {
    const session = new TripSession(tripId, me, { url: syncUrl(location), token, online: navigator.onLine })
    let loaded = false
    let frame = 0
    let rememberedTitle: string | undefined
    const refresh = (): void => {
      cancelAnimationFrame(frame)
      frame = requestAnimationFrame(() => {
        const { trip } = readTrip(session.doc)
        // Written to the device's list when the title is new, not on every change.
        if (trip !== null && trip.meta.title !== rememberedTitle) {
          rememberedTitle = trip.meta.title
          rememberTrip({ id: tripId, title: trip.meta.title, ...(token ? { token } : {}) })
        }
        setView({ session, trip, status: session.status(), presence: session.presence(), loaded })
      })
    }
    session.doc.on('update', refresh)
    const unsubscribe = session.subscribe(refresh)
    void session.loaded.then(() => { loaded = true; refresh() })
    refresh()
    return () => {
      cancelAnimationFrame(frame)
      unsubscribe()
      session.doc.off('update', refresh)
      session.destroy()
    }
  }, [tripId, token, me])
  return view
}
