// One trip: the header (title, who is here, save state), then a tab per part of the plan.

import { useState } from 'react'
import { knownTrip, rememberTrip } from '../device'
import type { Me } from '../sync'
import { useTrip } from '../useTrip'
import { tripHash } from '../route'
import { conflicts } from '../view'
import { StatusBar } from './StatusBar'
import { Itinerary } from './Itinerary'
import { Polls } from './Polls'
import { Proposals } from './Proposals'
import { Chat } from './Chat'
import { Families } from './Families'

const TABS = ['Plan', 'Polls', 'Assistant', 'Chat', 'Families'] as const
type Tab = typeof TABS[number]

export function TripScreen ({ tripId, token, me }: { tripId: string, token?: string, me: Me }) {
  const view = useTrip(tripId, me, token)
  const [tab, setTab] = useState<Tab>('Plan')
  const [memberId, setMemberIdState] = useState<string | undefined>(() => knownTrip(tripId)?.memberId)
  const setMemberId = (id: string): void => { rememberTrip({ id: tripId, memberId: id }); setMemberIdState(id) }
  const { trip, session } = view
  const pending = trip === null ? 0 : Object.values(trip.proposals).filter((p) => p.status === 'pending').length
  const openPolls = trip === null ? 0 : Object.values(trip.polls).filter((p) => p.status === 'open').length

  return (
    <div className="trip">
      <header className="trip-header">
        <a href="#/" className="back" aria-label="All trips">‹</a>
        <h1>{trip?.meta.title ?? (view.status.refused !== undefined ? 'This trip could not be opened' : 'Loading the trip…')}</h1>
        <StatusBar status={view.status} presence={view.presence} />
      </header>
      {trip === null || session === undefined
        ? (
          <main className="empty">
            {view.status.refused !== undefined
              ? <p role="alert" className="error">The server refused this trip: {view.status.refused}</p>
              : <p>{view.loaded && view.status.save === 'offline' ? 'This trip is not on this device yet; connect to the internet to open it.' : 'Loading the trip…'}</p>}
          </main>
          )
        : (
          <>
            <nav className="tabs" role="tablist" aria-label="Parts of the trip">
              {TABS.map((t) => (
                <button key={t} role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
                  {t}
                  {t === 'Assistant' && pending > 0 ? <span className="badge" aria-label={`${pending} pending`}>{pending}</span> : null}
                  {t === 'Polls' && openPolls > 0 ? <span className="badge" aria-label={`${openPolls} open`}>{openPolls}</span> : null}
                </button>
              ))}
            </nav>
            <main className="tab-panel" role="tabpanel" aria-label={tab}>
              {tab === 'Plan' ? <Itinerary trip={trip} doc={session.doc} conflicts={conflicts(trip)} me={me} /> : null}
              {tab === 'Polls' ? <Polls trip={trip} doc={session.doc} memberId={memberId} onPickMember={() => setTab('Families')} /> : null}
              {tab === 'Assistant' ? <Proposals trip={trip} doc={session.doc} decider={memberId ?? me.name} /> : null}
              {tab === 'Chat' ? <Chat trip={trip} doc={session.doc} me={me} memberId={memberId} /> : null}
              {tab === 'Families' ? <Families trip={trip} doc={session.doc} memberId={memberId} onPickMember={setMemberId} tripLink={`${location.origin}/${tripHash(tripId, token)}`} /> : null}
            </main>
          </>
          )}
    </div>
  )
}
