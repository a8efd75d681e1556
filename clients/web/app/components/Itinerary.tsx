// The itinerary day by day, with each family's activities and the problems in the plan marked
// where they are, then the ideas not yet scheduled. Activities are added, edited, moved
// (between days and times) and removed here.

import { useState, type FormEvent } from 'react'
import type * as Y from 'yjs'
import { addActivity, removeActivity, scheduleActivity, unscheduleActivity, updateActivity, type Activity, type Trip } from '../../model/trip'
import type { Me } from '../sync'
import { useAction } from '../useAction'
import { clock, familiesOf, formatMoney, itinerary, minutes, newId, planProblems, tripDates, type Entry } from '../view'

interface Props { trip: Trip, doc: Y.Doc, conflicts: Map<string, string[]>, me: Me }

function FamilyChips ({ trip, activity }: { trip: Trip, activity: Activity }) {
  const ids = activity.families ?? []
  if (ids.length === 0) return <span className="chip everyone">Everyone</span>
  return <>{familiesOf(trip, activity).map((f) => <span key={f} className="chip" style={{ borderColor: trip.families[f]?.color || '#999' }}>{trip.families[f]?.name ?? f}</span>)}</>
}

function MoveForm ({ trip, entry, onDone, run }: { trip: Trip, entry: EntryWithDoc, onDone: () => void, run: (f: () => void) => boolean }) {
  const dates = tripDates(trip.meta.startDate, trip.meta.endDate)
  const [date, setDate] = useState(entry.activity.date ?? dates[0] ?? '')
  const [start, setStart] = useState(entry.activity.start ?? '')
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (run(() => scheduleActivity(entry.doc, entry.id, date, 'app', start || undefined))) onDone()
  }
  return (
    <form className="inline-form" onSubmit={submit} aria-label={`Move ${entry.activity.title}`}>
      <label>Day <select aria-label="Day" value={date} onChange={(e) => setDate(e.target.value)}>{dates.map((d) => <option key={d} value={d}>{d}</option>)}</select></label>
      <label>Time <input aria-label="Time" type="time" value={start} onChange={(e) => setStart(e.target.value)} /></label>
      <button type="submit">Move here</button>
      <button type="button" onClick={onDone}>Cancel</button>
    </form>
  )
}

function EditForm ({ entry, onDone, run }: { entry: EntryWithDoc, onDone: () => void, run: (f: () => void) => boolean }) {
  const a = entry.activity
  const [title, setTitle] = useState(a.title)
  const [duration, setDuration] = useState(String(a.durationMin ?? 60))
  const [cost, setCost] = useState(((a.cost ?? 0) / 100).toFixed(2))
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (run(() => updateActivity(entry.doc, entry.id, { title, durationMin: Number(duration), cost: Math.round(Number(cost) * 100) }, 'app'))) onDone()
  }
  return (
    <form className="inline-form" onSubmit={submit} aria-label={`Edit ${a.title}`}>
      <label>Title <input aria-label="Title" value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={200} /></label>
      <label>Minutes <input aria-label="Duration in minutes" type="number" min={1} max={1440} value={duration} onChange={(e) => setDuration(e.target.value)} /></label>
      <label>Cost <input aria-label="Cost" type="number" min={0} step="0.01" value={cost} onChange={(e) => setCost(e.target.value)} /></label>
      <button type="submit">Save</button>
      <button type="button" onClick={onDone}>Cancel</button>
    </form>
  )
}

type EntryWithDoc = Entry & { doc: Y.Doc }

function ActivityCard ({ trip, entry, problems, run }: { trip: Trip, entry: EntryWithDoc, problems: string[], run: (f: () => void) => boolean }) {
  const [mode, setMode] = useState<'view' | 'move' | 'edit'>('view')
  const a = entry.activity
  const start = minutes(a.start)
  return (
    <li className={`activity ${problems.length > 0 ? 'has-conflict' : ''}`} data-activity={entry.id} aria-label={a.title}>
      <div className="activity-main">
        <span className="time">{start !== undefined ? `${a.start}–${clock(Math.min(start + (a.durationMin ?? 60), 1440))}` : a.date !== undefined ? 'Any time' : ''}</span>
        <strong className="title">{a.title}</strong>
        <FamilyChips trip={trip} activity={a} />
        {a.cost ? <span className="cost">{formatMoney(a.cost, trip.meta.currency)}{a.costPer && a.costPer !== 'group' ? ` per ${a.costPer}` : ''}</span> : null}
        {a.createdBy === 'assistant' ? <span className="chip assistant">✦ assistant</span> : null}
      </div>
      {problems.length > 0
        ? <ul className="conflicts" aria-label={`Problems with ${a.title}`}>{problems.map((p) => <li key={p}>⚠ {p}</li>)}</ul>
        : null}
      {mode === 'move' ? <MoveForm trip={trip} entry={entry} run={run} onDone={() => setMode('view')} /> : null}
      {mode === 'edit' ? <EditForm entry={entry} run={run} onDone={() => setMode('view')} /> : null}
      {mode === 'view'
        ? (
          <div className="actions">
            <button type="button" onClick={() => setMode('edit')} aria-label={`Edit ${a.title}`}>Edit</button>
            <button type="button" onClick={() => setMode('move')} aria-label={`${a.date ? 'Move' : 'Schedule'} ${a.title}`}>{a.date ? 'Move' : 'Schedule'}</button>
            {a.date ? <button type="button" onClick={() => run(() => unscheduleActivity(entry.doc, entry.id, 'app'))} aria-label={`Make ${a.title} an idea`}>To ideas</button> : null}
            <button type="button" className="danger" onClick={() => { if (confirm(`Remove “${a.title}”?`)) run(() => removeActivity(entry.doc, entry.id, 'app')) }} aria-label={`Remove ${a.title}`}>Remove</button>
          </div>
          )
        : null}
    </li>
  )
}

function AddActivity ({ trip, doc, me, run }: { trip: Trip, doc: Y.Doc, me: Me, run: (f: () => void) => boolean }) {
  const dates = tripDates(trip.meta.startDate, trip.meta.endDate)
  const [title, setTitle] = useState('')
  const [date, setDate] = useState('')
  const [start, setStart] = useState('')
  const [duration, setDuration] = useState('60')
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    const activity: Activity = { title, durationMin: Number(duration), createdBy: me.name, ...(date ? { date } : {}), ...(date && start ? { start } : {}) }
    if (run(() => addActivity(doc, newId('a'), activity, 'app'))) { setTitle(''); setStart('') }
  }
  return (
    <form className="card add-activity" onSubmit={submit} aria-label="Add an activity">
      <h3>Add an activity</h3>
      <label>What <input aria-label="Activity title" value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={200} placeholder="Boat trip on the lake" /></label>
      <div className="row">
        <label>Day <select aria-label="Activity day" value={date} onChange={(e) => setDate(e.target.value)}>
          <option value="">An idea (no day yet)</option>
          {dates.map((d) => <option key={d} value={d}>{d}</option>)}
        </select></label>
        <label>Time <input aria-label="Activity time" type="time" value={start} onChange={(e) => setStart(e.target.value)} disabled={!date} /></label>
        <label>Minutes <input aria-label="Activity minutes" type="number" min={1} max={1440} value={duration} onChange={(e) => setDuration(e.target.value)} /></label>
      </div>
      <button type="submit">Add</button>
    </form>
  )
}

export function Itinerary ({ trip, doc, conflicts, me }: Props) {
  const [error, run] = useAction()
  const { days, ideas } = itinerary(trip)
  const problems = planProblems(trip)
  const withDoc = (e: Entry): EntryWithDoc => ({ ...e, doc })
  return (
    <div className="itinerary">
      {error !== '' ? <p role="alert" className="error">{error}</p> : null}
      {problems.length > 0
        ? <ul className="conflicts" aria-label="Problems with the plan">{problems.map((p) => <li key={p}>⚠ {p}</li>)}</ul>
        : null}
      {days.map((day, i) => (
        <section key={day.date} className="day" aria-label={`Day ${i + 1}, ${day.date}`}>
          <h2>Day {i + 1} <small>{new Date(day.date + 'T12:00:00Z').toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' })}</small>{day.title ? ` · ${day.title}` : ''}</h2>
          {day.entries.length === 0 ? <p className="muted">Nothing planned yet.</p> : null}
          <ul className="activities">
            {day.entries.map((e) => <ActivityCard key={e.id} trip={trip} entry={withDoc(e)} problems={conflicts.get(e.id) ?? []} run={run} />)}
          </ul>
        </section>
      ))}
      <section className="ideas" aria-label="Ideas">
        <h2>Ideas, not yet scheduled</h2>
        {ideas.length === 0 ? <p className="muted">No ideas yet.</p> : null}
        <ul className="activities">
          {ideas.map((e) => <ActivityCard key={e.id} trip={trip} entry={withDoc(e)} problems={conflicts.get(e.id) ?? []} run={run} />)}
        </ul>
      </section>
      <AddActivity trip={trip} doc={doc} me={me} run={run} />
    </div>
  )
}
