// Families and their members; which member you are (for voting); the link that invites others.

import { useState, type FormEvent } from 'react'
import type * as Y from 'yjs'
import { addFamily, addMember, type Trip } from '../../model/trip'
import { newId } from '../view'
import { useAction } from '../useAction'

export function Families ({ trip, doc, memberId, onPickMember, tripLink }: { trip: Trip, doc: Y.Doc, memberId?: string, onPickMember: (id: string) => void, tripLink: string }) {
  const [error, act] = useAction()
  const [family, setFamily] = useState('')
  const [member, setMember] = useState<Record<string, string>>({})
  const newFamily = (e: FormEvent): void => {
    e.preventDefault()
    if (act(() => addFamily(doc, newId('f'), { name: family }, 'app'))) setFamily('')
  }
  const newMember = (familyId: string) => (e: FormEvent): void => {
    e.preventDefault()
    if (act(() => addMember(doc, familyId, newId('m'), { name: member[familyId] ?? '' }, 'app'))) setMember({ ...member, [familyId]: '' })
  }
  return (
    <div className="families">
      <section className="card invite">
        <h3>Invite the others</h3>
        <p>Send them this link:</p>
        <input aria-label="Trip link to share" readOnly value={tripLink} onFocus={(e) => e.target.select()} />
        {navigator.share !== undefined ? <button type="button" onClick={() => { void navigator.share({ title: trip.meta.title, url: tripLink }) }}>Share</button> : null}
      </section>
      {error !== '' ? <p role="alert" className="error">{error}</p> : null}
      {Object.entries(trip.families).map(([fid, f]) => (
        <section key={fid} className="card family" aria-label={f.name} style={{ borderLeftColor: f.color || '#999' }}>
          <h3>{f.name}</h3>
          <ul className="members">
            {Object.entries(f.members ?? {}).map(([mid, m]) => (
              <li key={mid}>
                <span>{m.name}{m.ageGroup && m.ageGroup !== 'adult' ? ` (${m.ageGroup})` : ''}</span>
                {memberId === mid
                  ? <strong className="chip you">you</strong>
                  : <button type="button" onClick={() => onPickMember(mid)} aria-label={`I am ${m.name}`}>This is me</button>}
              </li>
            ))}
          </ul>
          <form className="inline-form" onSubmit={newMember(fid)} aria-label={`Add a member to ${f.name}`}>
            <input aria-label={`New member of ${f.name}`} value={member[fid] ?? ''} onChange={(e) => setMember({ ...member, [fid]: e.target.value })} required maxLength={200} placeholder="Name" />
            <button type="submit">Add member</button>
          </form>
        </section>
      ))}
      <form className="card" onSubmit={newFamily} aria-label="Add a family">
        <h3>Another family</h3>
        <input aria-label="Family name" value={family} onChange={(e) => setFamily(e.target.value)} required maxLength={200} placeholder="The Okafors" />
        <button type="submit">Add family</button>
      </form>
    </div>
  )
}
