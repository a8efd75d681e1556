// Chat with the families and the assistant (mention @assistant to ask it something).

import { useState, type FormEvent } from 'react'
import type * as Y from 'yjs'
import { postChat, type Trip } from '../../model/trip'
import type { Me } from '../sync'
import { memberNames, newId } from '../view'
import { useAction } from '../useAction'

export function Chat ({ trip, doc, me, memberId }: { trip: Trip, doc: Y.Doc, me: Me, memberId?: string }) {
  const [text, setText] = useState('')
  const [error, act] = useAction()
  const names = memberNames(trip)
  const send = (e: FormEvent): void => {
    e.preventDefault()
    const sent = act(() => postChat(doc, {
      id: newId('c'), author: memberId ?? me.name, text, at: new Date().toISOString(),
      mentions: /@assistant\b/i.test(text) ? ['assistant'] : []
    }, 'app'))
    if (sent) setText('')
  }
  return (
    <div className="chat">
      <ol className="messages" aria-label="Messages">
        {trip.chat.map((m) => (
          <li key={m.id} className={m.author === 'assistant' ? 'message assistant' : m.author === memberId || m.author === me.name ? 'message mine' : 'message'}>
            <span className="author">{m.author === 'assistant' ? '✦ Assistant' : names.get(m.author) ?? m.author}</span>
            <span className="text">{m.text}</span>
            <time dateTime={m.at}>{new Date(m.at).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}</time>
          </li>
        ))}
      </ol>
      <form className="chat-form" onSubmit={send} aria-label="Send a message">
        <input aria-label="Message" value={text} onChange={(e) => setText(e.target.value)} required maxLength={10_000} placeholder="Message, or @assistant …" />
        <button type="submit">Send</button>
      </form>
      {error !== '' ? <p role="alert" className="error">{error}</p> : null}
    </div>
  )
}
