// A trip written by the Rust model (through a running caravan) is read by the TypeScript
// helpers, edited there, and read back by the Rust model with the same meaning.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import * as trip from '../dist/trip.js'
import { detectConflicts } from '../dist/conflicts.js'
import { startCaravan } from './caravan.mjs'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
let server, http

async function waitFor (check, what, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

before(async () => {
  server = await startCaravan(['--no-assistant'])
  http = server.url
})

after(async () => {
  await server.stop()
})

async function rustView (id) {
  const res = await fetch(`${http}/api/trips/${id}`)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-caravan-skipped'), '0', 'the Rust model reads every field')
  return res.json()
}

test('Rust writes, TypeScript reads and edits, Rust reads the same meaning', async () => {
  // Written by the Rust model: the sample trip plus a pending proposal.
  const sample = await rustView((await (await fetch(`${http}/api/trips/sample`, { method: 'POST' })).json()).id)
  const start = sample.meta.startDate
  const secondDay = new Date(Date.parse(start + 'T00:00:00Z') + 86400000).toISOString().slice(0, 10)
  sample.proposals = {
    p1: {
      author: 'assistant',
      summary: 'Museum on day 2',
      rationale: 'It fits before lunch',
      ops: [{ op: 'scheduleActivity', id: 'alpine-museum', date: secondDay, start: '10:00', expect: {} }],
      status: 'pending',
      createdAt: '2027-06-01T10:00:00Z'
    }
  }
  const created = await fetch(`${http}/api/trips`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sample) })
  assert.equal(created.status, 201, await created.clone().text())
  const { id } = await created.json()
  const fromRust = await rustView(id)

  // Read by the TypeScript helpers through a stock y-websocket client.
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(`ws://${http.slice(7)}/sync`, id, doc, { WebSocketPolyfill: WebSocket, disableBc: true })
  await waitFor(() => provider.synced, 'sync')
  const read = trip.readTrip(doc)
  assert.deepEqual(read.skipped, [])
  // The view lists the trip's conflicts, found by the Rust rules: the TypeScript ones find
  // the same in the same trip.
  assert.deepEqual({ ...read.trip, conflicts: detectConflicts(read.trip) }, fromRust, 'TypeScript reads exactly what Rust wrote')

  // Edited in TypeScript.
  trip.scheduleActivity(doc, 'mer-de-glace', secondDay, 'ts', '14:00', 120)
  trip.addMember(doc, 'okafors', 'obi', { name: 'Obi', ageGroup: 'teen' }, 'ts')
  trip.addActivity(doc, 'crepes', { title: 'Crêpes', kind: 'meal', date: start, start: '16:00', durationMin: 45, cost: 800, costPer: 'person', notes: 'the one by the river' }, 'ts')
  trip.setDayTitle(doc, start, 'Arrival', 'ts')
  trip.vote(doc, 'last-dinner', 'claire', 'fondue', 'ts')
  trip.acceptProposal(doc, 'p1', 'ngozi', 'ts')
  trip.postChat(doc, { id: 'ts1', author: 'ngozi', text: 'Sounds great', at: '2027-06-02T08:00:00Z' }, 'ts')
  assert.throws(() => trip.scheduleActivity(doc, 'crepes', '1999-01-01', 'ts'), /outside the trip/)
  assert.throws(() => trip.vote(doc, 'last-dinner', 'claire', 'caviar', 'ts'), /no option caviar/)

  // Read back by the Rust model: the same meaning.
  const edited = trip.readTrip(doc).trip
  const expected = { ...edited, conflicts: detectConflicts(edited) }
  const back = await waitFor(async () => {
    const view = await rustView(id)
    return view.chat.length === expected.chat.length && view.proposals.p1.status === 'accepted' ? view : null
  }, 'the edits to reach the server')
  assert.deepEqual(back, expected)
  assert.equal(back.activities['mer-de-glace'].date, secondDay)
  assert.equal(back.activities['mer-de-glace'].start, '14:00')
  assert.equal(back.families.okafors.members.obi.ageGroup, 'teen')
  assert.equal(back.activities.crepes.notes, 'the one by the river')
  assert.equal(back.days[start].title, 'Arrival')
  assert.equal(back.polls['last-dinner'].votes.claire, 'fondue')
  assert.equal(back.proposals.p1.status, 'accepted')
  assert.equal(back.proposals.p1.decidedBy, 'ngozi')
  provider.destroy()
  provider.awareness.destroy()
})

test('TypeScript reads a hostile document without throwing', () => {
  const doc = new Y.Doc()
  doc.getMap('meta').set('title', 'x')
  doc.getMap('meta').set('startDate', 'not a date')
  doc.getMap('activities').set('a', 'just a string')
  const bad = new Y.Map()
  doc.getMap('activities').set('b', bad)
  bad.set('title', 5)
  bad.set('start', '25:00')
  doc.getArray('chat').push(['nope'])
  doc.getMap('stranger').set('x', 1)
  const { trip: t, skipped } = trip.readTrip(doc)
  const paths = skipped.map((s) => s.path)
  for (const p of ['meta.startDate', 'activities.a', 'activities.b.title', 'activities.b.start', 'chat.0', 'stranger']) {
    assert.ok(paths.includes(p), `${p} in ${paths}`)
  }
  assert.equal(t.meta.title, 'x')
})

test('a chat message whose time is epoch milliseconds (Date.now()) is read by both models', async () => {
  const at = Date.UTC(2027, 0, 2, 10, 0, 0)
  const doc = new Y.Doc()
  doc.getMap('meta').set('title', 'Forgiving')
  doc.getMap('meta').set('startDate', '2027-01-01')
  doc.getMap('meta').set('endDate', '2027-01-05')
  // What the obvious JavaScript writes: a plain object, `at: Date.now()`.
  doc.getArray('chat').push([{ id: 'm1', author: 'ana', text: '@assistant plan day 2', at, mentions: ['assistant'] }])
  // A field of the wrong type costs that field only.
  doc.getArray('chat').push([{ id: 'm2', author: 'ben', text: 'hi', at: '2027-01-02T11:00:00Z', mentions: 'everyone' }])
  const read = trip.readTrip(doc)
  assert.equal(read.trip.chat.length, 2)
  assert.equal(read.trip.chat[0].at, '2027-01-02T10:00:00.000Z')
  assert.deepEqual(read.skipped.map((s) => s.path), ['chat.1.mentions'])

  const id = 'forgiving-chat'
  const provider = new WebsocketProvider(`ws://${http.slice(7)}/sync`, id, doc, { WebSocketPolyfill: WebSocket, disableBc: true })
  await waitFor(() => provider.synced, 'synced')
  const res = await waitFor(async () => {
    const r = await fetch(`${http}/api/trips/${id}`)
    return r.status === 200 ? r : null
  }, 'the trip on the server')
  const view = await res.json()
  assert.equal(view.chat.length, 2, JSON.stringify(view.chat))
  assert.equal(Date.parse(view.chat[0].at), at)
  assert.equal(res.headers.get('x-caravan-skipped'), '1', 'only the mistyped mentions are skipped')
  provider.destroy()
  provider.awareness.destroy()
})
