// The assistant's proposals: what each would change, in words, to accept or reject. Accepting
// marks it accepted; the assistant applies it (or marks it stale if the plan moved since).

import type * as Y from 'yjs'
import { acceptProposal, rejectProposal, type Trip } from '../../model/trip'
import { describeProposal } from '../view'
import { useAction } from '../useAction'

/** Requests the assistant understands with no language model (docs/assistant.md, "What it
 * understands"); its help reply points here. */
export const ASSISTANT_EXAMPLES = [
  'plan day 2', 'what should we do on Sunday?', 'plan the rest of the trip', 'is anything wrong with our plan?',
  'move the cable car to day 3', 'remove the museum', 'suggest options for the dinner poll',
  'how much have we spent?', 'how much does each family pay?', 'what are we doing tomorrow?',
  'we have a rainy day on day 4, any indoor ideas?', 'please summarize the trip'
]

export function Proposals ({ trip, doc, decider }: { trip: Trip, doc: Y.Doc, decider: string }) {
  const [error, act] = useAction()
  const proposals = Object.entries(trip.proposals)
    .sort(([, a], [, b]) => Number(a.status !== 'pending') - Number(b.status !== 'pending') || b.createdAt.localeCompare(a.createdAt))
  return (
    <div className="proposals">
      <details className="assistant-examples" id="assistant-examples">
        <summary>What to ask the assistant in the chat</summary>
        <ul aria-label="Examples for the assistant">
          {ASSISTANT_EXAMPLES.map((e) => <li key={e}>“@assistant {e}”</li>)}
        </ul>
      </details>
      {error !== '' ? <p role="alert" className="error">{error}</p> : null}
      {proposals.length === 0 ? <p className="muted">No proposals yet.</p> : null}
      <ul className="proposal-list">
        {proposals.map(([id, p]) => (
          <li key={id} className={`card proposal ${p.status}`} aria-label={p.summary} data-proposal={id}>
            <h3>{p.author === 'assistant' ? '✦ ' : ''}{p.summary} <small className="proposal-status">{p.status}</small></h3>
            {p.rationale ? <p className="rationale">{p.rationale}</p> : null}
            <ul className="changes" aria-label="What it would change">
              {describeProposal(trip, p).map((line, i) => <li key={i}>{line}</li>)}
            </ul>
            {p.reason ? <p className="muted">{p.reason}</p> : null}
            {p.status === 'pending'
              ? (
                <div className="actions">
                  <button type="button" onClick={() => act(() => acceptProposal(doc, id, decider, 'app'))} aria-label={`Accept ${p.summary}`}>Accept</button>
                  <button type="button" onClick={() => act(() => rejectProposal(doc, id, decider, 'app'))} aria-label={`Reject ${p.summary}`}>Reject</button>
                </div>
                )
              : null}
          </li>
        ))}
      </ul>
    </div>
  )
}
