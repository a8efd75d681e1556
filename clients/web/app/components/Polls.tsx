// Polls: open one, vote, and watch the results come in (live first choices, and who leads
// family by family, by the same tally as the one the server records when the poll closes).

import { useState, type FormEvent } from 'react'
import type * as Y from 'yjs'
import { addPollOption, closePoll, openPoll, vote, type Poll, type Trip } from '../../model/trip'
import { tally as familyTally } from '../../model/tally'
import { newId, pollTally, pollWinner } from '../view'
import { useAction } from '../useAction'

function PollCard ({ trip, doc, id, poll, memberId, onPickMember }: { trip: Trip, doc: Y.Doc, id: string, poll: Poll, memberId?: string, onPickMember: () => void }) {
  const [error, act] = useAction()
  const [option, setOption] = useState('')
  const tally = pollTally(trip, poll)
  const total = tally.reduce((n, t) => n + t.votes, 0)
  const mine = memberId !== undefined ? poll.votes[memberId] : undefined
  const myChoice = Array.isArray(mine) ? mine[0] : mine
  const winner = pollWinner(poll)
  const leading = poll.status === 'open' ? familyTally(trip, poll).winner : null
  const add = (e: FormEvent): void => {
    e.preventDefault()
    if (act(() => addPollOption(doc, id, newId('o'), { label: option }, 'app'))) setOption('')
  }
  return (
    <li className="card poll" aria-label={poll.question} data-poll={id}>
      <h3>{poll.question} <small className={`poll-status ${poll.status}`}>{poll.status}</small></h3>
      {winner !== undefined ? <p className="winner">Chosen: <strong>{winner}</strong></p> : null}
      {leading !== null && winner === undefined
        ? <p className="leading">Leading, family by family: <strong>{poll.options[leading]?.label ?? leading}</strong></p>
        : null}
      <ul className="options">
        {tally.map((t) => (
          <li key={t.id} className={myChoice === t.id ? 'option mine' : 'option'}>
            <div className="bar" style={{ width: total > 0 ? `${(100 * t.votes) / total}%` : '0%' }} aria-hidden="true" />
            <span className="label">{t.label}{t.aiGenerated ? <span className="chip assistant">✦ suggested</span> : null}</span>
            <span className="votes" aria-label={`${t.votes} votes for ${t.label}`}>{t.votes}</span>
            {poll.status === 'open'
              ? <button type="button" aria-label={`Vote for ${t.label}`} aria-pressed={myChoice === t.id}
                  onClick={() => memberId === undefined ? onPickMember() : act(() => vote(doc, id, memberId, poll.kind === 'ranked' ? [t.id] : t.id, 'app'))}>
                  {myChoice === t.id ? 'Your vote' : 'Vote'}
                </button>
              : null}
            {t.voters.length > 0 ? <span className="voters">{t.voters.join(', ')}</span> : null}
          </li>
        ))}
      </ul>
      {poll.status === 'open'
        ? (
          <div className="row">
            <form onSubmit={add} className="inline-form" aria-label={`Add an option to ${poll.question}`}>
              <input aria-label="New option" value={option} onChange={(e) => setOption(e.target.value)} required maxLength={200} placeholder="Another idea" />
              <button type="submit">Add option</button>
            </form>
            <button type="button" onClick={() => act(() => closePoll(doc, id, 'app'))}>Close the poll</button>
          </div>
          )
        : null}
      {memberId === undefined && poll.status === 'open' ? <p className="muted">To vote, say which member you are under Families.</p> : null}
      {error !== '' ? <p role="alert" className="error">{error}</p> : null}
    </li>
  )
}

export function Polls ({ trip, doc, memberId, onPickMember }: { trip: Trip, doc: Y.Doc, memberId?: string, onPickMember: () => void }) {
  const [question, setQuestion] = useState('')
  const [options, setOptions] = useState('')
  const [wantsOptions, setWantsOptions] = useState(false)
  const [error, act] = useAction()
  const create = (e: FormEvent): void => {
    e.preventDefault()
    const labels = options.split(',').map((o) => o.trim()).filter(Boolean)
    const opened = act(() => openPoll(doc, newId('poll'), {
      question, kind: 'single', createdBy: memberId ?? '', wantsOptions,
      options: Object.fromEntries(labels.map((label, i) => [`o${i + 1}`, { label }]))
    }, 'app'))
    if (opened) { setQuestion(''); setOptions('') }
  }
  const polls = Object.entries(trip.polls).sort(([, a], [, b]) => Number(a.status !== 'open') - Number(b.status !== 'open'))
  return (
    <div className="polls">
      <ul className="poll-list">
        {polls.map(([id, poll]) => <PollCard key={id} trip={trip} doc={doc} id={id} poll={poll} memberId={memberId} onPickMember={onPickMember} />)}
      </ul>
      {polls.length === 0 ? <p className="muted">No polls yet.</p> : null}
      <form className="card" onSubmit={create} aria-label="New poll">
        <h3>Ask the families</h3>
        <label>Question <input aria-label="Poll question" value={question} onChange={(e) => setQuestion(e.target.value)} required maxLength={200} placeholder="Which day for the lake?" /></label>
        <label>Options, separated by commas <input aria-label="Poll options" value={options} onChange={(e) => setOptions(e.target.value)} placeholder="Tuesday, Wednesday" /></label>
        <label className="check"><input type="checkbox" checked={wantsOptions} onChange={(e) => setWantsOptions(e.target.checked)} /> Ask the assistant for options too</label>
        <button type="submit">Open the poll</button>
        {error !== '' ? <p role="alert" className="error">{error}</p> : null}
      </form>
    </div>
  )
}
