// The first screen: who you are, the trips on this device, a new trip, the sample trip, and
// joining a trip by its link.

import { useState, type FormEvent } from 'react'
import * as Y from 'yjs'
import { knownTrips, rememberTrip, saveMe } from '../device'
import { newId } from '../view'
import { IndexeddbPersistence } from 'y-indexeddb'
import { localStoreName, type Me } from '../sync'
import { addFamily, createTrip } from '../../model/trip'
import { writeSampleTrip } from '../sample'
import { routeFromLink, tripHash } from '../route'

/** Creates a trip in this device's store, then opens it: the trip screen sends it to the
 * server when it connects, so a trip can be started offline too. */
async function startTrip (write: (doc: Y.Doc, memberId: string) => void, title: string): Promise<void> {
  const id = newId('trip')
  const memberId = newId('m')
  const doc = new Y.Doc()
  const local = new IndexeddbPersistence(localStoreName(id), doc)
  await local.whenSynced
  write(doc, memberId)
  rememberTrip({ id, title, memberId })
  // Closing the store waits for its pending writes.
  await local.destroy()
  doc.destroy()
  location.hash = tripHash(id)
}

export function Home ({ me, onMe, joining }: { me?: Me, onMe: (me: Me) => void, joining?: string }) {
  const [name, setName] = useState(me?.name ?? '')
  const [link, setLink] = useState('')
  const [error, setError] = useState('')
  const trips = knownTrips()

  const submitName = (e: FormEvent): void => {
    e.preventDefault()
    if (name.trim() !== '') onMe(saveMe(name))
  }
  const join = (e: FormEvent): void => {
    e.preventDefault()
    const route = routeFromLink(link)
    if (route.trip === undefined) { setError('That is not a trip link.'); return }
    location.hash = tripHash(route.trip, route.token)
  }
  const [title, setTitle] = useState('')
  const [start, setStart] = useState('')
  const [end, setEnd] = useState('')
  const create = (e: FormEvent): void => {
    e.preventDefault()
    if (me === undefined) return
    setError('')
    startTrip((doc, memberId) => {
      createTrip(doc, { title, startDate: start, endDate: end, timezone: Intl.DateTimeFormat().resolvedOptions().timeZone, currency: 'EUR' }, 'app')
      addFamily(doc, 'mine', { name: `${me.name}'s family`, members: { [memberId]: { name: me.name } } }, 'app')
    }, title).catch((err: Error) => setError(err.message))
  }

  return (
    <main className="home">
      <header className="brand"><img src="/icon.svg" alt="" width="40" height="40" /><h1>Caravan</h1></header>
      {me === undefined
        ? (
          <form onSubmit={submitName} className="card">
            <h2>Welcome</h2>
            <p>{joining !== undefined ? 'You were invited to a trip. ' : ''}What should the others call you?</p>
            <label>Your name <input aria-label="Your name" value={name} onChange={(e) => setName(e.target.value)} maxLength={60} required autoFocus /></label>
            <button type="submit">Continue</button>
          </form>
          )
        : (
          <>
            <section className="card">
              <h2>Your trips on this device</h2>
              {trips.length === 0 ? <p className="muted">None yet.</p> : null}
              <ul className="trip-list">
                {trips.map((t) => <li key={t.id}><a href={tripHash(t.id)}>{t.title}</a></li>)}
              </ul>
              <button type="button" onClick={() => { startTrip((doc, memberId) => writeSampleTrip(doc, { name: me.name, memberId }, 'app'), 'Summer in the Alps').catch((err: Error) => setError(err.message)) }}>Open the sample trip</button>
            </section>
            <form className="card" onSubmit={create}>
              <h2>New trip</h2>
              <label>Trip name <input aria-label="Trip name" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} required /></label>
              <div className="row">
                <label>From <input aria-label="First day" type="date" value={start} onChange={(e) => setStart(e.target.value)} required /></label>
                <label>To <input aria-label="Last day" type="date" value={end} onChange={(e) => setEnd(e.target.value)} required /></label>
              </div>
              <button type="submit">Create the trip</button>
            </form>
            <form className="card" onSubmit={join}>
              <h2>Join a trip</h2>
              <label>Trip link <input aria-label="Trip link" value={link} onChange={(e) => setLink(e.target.value)} placeholder="https://…/#/trip/…" /></label>
              <button type="submit">Join</button>
            </form>
          </>
          )}
      {error !== '' ? <p role="alert" className="error">{error}</p> : null}
    </main>
  )
}
