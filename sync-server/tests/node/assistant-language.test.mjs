// The assistant's language end to end: `caravan serve` with its assistant and no language
// model, a stock y-websocket client writing chat messages as any Yjs app would (a plain
// object pushed to the `chat` array). Each request gets its kind of answer: a proposal, poll
// options, or a chat answer whose figures match the trip's own.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { startServer, connectClient, closeClients, waitFor } from './helpers.mjs'

let server
before(async () => { server = await startServer({ assistant: true }) })
after(async () => {
  await server.stop()
  server.cleanup()
})

/** The assistant's reply to message `id`, once it is there. */
function replyTo (doc, id) {
  return waitFor(() => doc.getArray('chat').toArray().find((m) => m.author === 'assistant' && m.replyTo === id)?.text,
    { timeoutMs: 10_000, what: `the assistant's reply to ${id}` })
}

/** What the trip's plan costs, as docs/schema.md counts it (per group, family or person). */
function planCost (view) {
  const families = Object.keys(view.families)
  let total = 0
  for (const a of Object.values(view.activities)) {
    if (!a.date) continue
    const taking = a.families.length > 0 ? a.families.filter((f) => families.includes(f)) : families
    const people = taking.reduce((n, f) => n + Math.max(Object.keys(view.families[f].members).length, 1), 0)
    total += a.cost * (a.costPer === 'person' ? Math.max(people, 1) : a.costPer === 'family' ? Math.max(taking.length, 1) : 1)
  }
  return total
}

const euros = (minor) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')} EUR`

test('each request of a family gets its kind of answer, with the trip\'s own figures', async () => {
  const { id } = await (await fetch(`${server.http}/api/trips/sample`, { method: 'POST' })).json()
  const c = await connectClient(server, id)
  const chat = c.doc.getArray('chat')
  const ask = (mid, text) => chat.push([{ id: mid, author: 'claire', text, at: new Date().toISOString(), mentions: ['assistant'] }])

  // A poll as a stock client opens one: no options yet, and none asked for.
  const poll = new Y.Map()
  c.doc.transact(() => {
    for (const [k, v] of Object.entries({ question: 'What do we visit on the last day?', kind: 'single', status: 'open', createdBy: 'claire', wantsOptions: false })) poll.set(k, v)
    poll.set('options', new Y.Map())
    poll.set('votes', new Y.Map())
    c.doc.getMap('polls').set('visit', poll)
  })
  ask('budget', '@assistant how much have we spent so far? 💶')
  ask('on', '@assistant what are we doing on day 2?')
  ask('move', '@assistant please move the cable car to day 3')
  ask('options', '@assistant can you suggest options for the visit poll?')
  ask('again', '@assistant move the cable car to day 3')

  const view = await (await fetch(`${server.http}/api/trips/${id}`)).json()
  const spent = planCost(view)
  const budget = await replyTo(c.doc, 'budget')
  assert.ok(budget.includes(euros(spent)) && budget.includes(euros(view.meta.budget - spent)), budget)
  const on = await replyTo(c.doc, 'on')
  assert.match(on, /08:30 Aiguille du Midi cable car, 12:30 Lunch at the Chalet/)

  // The move is a pending proposal with that op; asked again, no second one.
  await replyTo(c.doc, 'move')
  const again = await replyTo(c.doc, 'again')
  assert.match(again, /already proposed/)
  const proposals = [...c.doc.getMap('proposals').values()].map((p) => p.toJSON())
  const moves = proposals.filter((p) => p.about === 'chat:move')
  assert.equal(moves.length, 1)
  assert.equal(moves[0].ops[0].op, 'scheduleActivity')
  assert.equal(moves[0].ops[0].id, 'aiguille')
  assert.equal(moves[0].ops[0].date, view.activities['lac-blanc'].date, 'day 3')
  assert.equal(proposals.filter((p) => p.about === 'chat:again').length, 0)

  // The poll named gets options from the trip's own ideas.
  await replyTo(c.doc, 'options')
  const options = c.doc.getMap('polls').get('visit').get('options').toJSON()
  assert.ok(Object.values(options).some((o) => o.aiGenerated), JSON.stringify(options))
  closeClients(c)
})
