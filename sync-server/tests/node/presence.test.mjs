// Presence that cannot be forged, with stock y-websocket clients: a raw connection's awareness
// update for someone else's client id (with a higher clock) changes nothing honest clients see,
// and the person's own later updates still show; a state that is not JSON never reaches a stock
// client (it would throw in JSON.parse and end this process); an editor cannot present itself
// as the assistant; and with tokens, each presence carries the verified `sub` and family.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { startServer, connectClient, closeClients, waitFor, rawSocket, metric, sleep, mintToken } from './helpers.mjs'

const SECRET = 'a node test secret for presence, long enough for HS256'
const ADMIN_KEY = 'presence-admin-key'
let server

before(async () => {
  server = await startServer({ env: { CARAVAN_JWT_SECRET: SECRET, CARAVAN_ADMIN_KEY: ADMIN_KEY } })
})
after(async () => {
  await server.stop()
  server.cleanup()
})

async function token (trip, role, sub, family) {
  const minted = await mintToken(server, { trip, role, sub, family }, ADMIN_KEY)
  assert.equal(minted.status, 201)
  return minted.body.token
}

/** `[1, update]` with one entry: `client`, `clock` and the raw `json` (which need not be JSON). */
function awarenessFrame (client, clock, json) {
  const update = encoding.createEncoder()
  encoding.writeVarUint(update, 1)
  encoding.writeVarUint(update, client)
  encoding.writeVarUint(update, clock)
  encoding.writeVarString(update, json)
  const frame = encoding.createEncoder()
  encoding.writeVarUint(frame, 1)
  encoding.writeVarUint8Array(frame, encoding.toUint8Array(update))
  return encoding.toUint8Array(frame)
}

async function rawWith (trip, tok) {
  return rawSocket(server, `${trip}?token=${tok}`)
}

const nameAt = (client, id) => client.provider.awareness.getStates().get(id)?.user?.name

test('a forged presence (another id, a higher clock) changes nothing, and its owner can still update it', async () => {
  const trip = 'forgery'
  const alice = await connectClient(server, trip, new Y.Doc(), { params: { token: await token(trip, 'editor', 'alice') } })
  const bob = await connectClient(server, trip, new Y.Doc(), { params: { token: await token(trip, 'editor', 'bob') } })
  alice.provider.awareness.setLocalStateField('user', { name: 'Alice' })
  const aliceId = alice.doc.clientID
  await waitFor(() => nameAt(bob, aliceId) === 'Alice', { what: 'alice at bob' })

  const before = await metric(server, 'caravan_errors_total{kind="presence_not_yours"}')
  const mallory = await rawWith(trip, await token(trip, 'editor', 'mallory'))
  mallory.ws.send(awarenessFrame(aliceId, 1000, JSON.stringify({ user: { name: 'Mallory' } })))
  mallory.ws.send(awarenessFrame(aliceId, 1001, 'null'))
  await waitFor(async () => (await metric(server, 'caravan_errors_total{kind="presence_not_yours"}')) >= before + 2, { what: 'refusals counted' })
  await sleep(200)
  assert.equal(nameAt(bob, aliceId), 'Alice')
  // Mallory was told (the y-protocols permission-denied message, type 2).
  assert.ok(mallory.received.some((m) => m[0] === 2), 'the forger was told')

  // Alice's own next update (a clock far below Mallory's) still reaches Bob.
  alice.provider.awareness.setLocalStateField('user', { name: 'Alice again' })
  await waitFor(() => nameAt(bob, aliceId) === 'Alice again', { what: 'alice updated at bob' })
  // Bob sees who Alice is, as the server verified it.
  assert.equal(bob.provider.awareness.getStates().get(aliceId).verified.sub, 'alice')
  mallory.ws.close()
  closeClients(alice, bob)
})

test('a presence state that is not JSON never reaches a stock client', async () => {
  const trip = 'not-json'
  const tok = await token(trip, 'editor', 'ann')
  const a = await connectClient(server, trip, new Y.Doc(), { params: { token: tok } })
  const b = await connectClient(server, trip, new Y.Doc(), { params: { token: await token(trip, 'editor', 'ben') } })
  const before = await metric(server, 'caravan_errors_total{kind="presence_not_json"}')
  const raw = await rawWith(trip, await token(trip, 'editor', 'eve'))
  // If this reached a or b, y-protocols' JSON.parse would throw in the socket's message
  // handler and end this test process.
  raw.ws.send(awarenessFrame(424242, 1, '{not json'))
  await waitFor(async () => (await metric(server, 'caravan_errors_total{kind="presence_not_json"}')) > before, { what: 'refusal counted' })
  assert.equal(a.provider.awareness.getStates().has(424242), false)
  // And the room goes on.
  a.doc.getArray('x').push([1])
  await waitFor(() => b.doc.getArray('x').length === 1, { what: 'edit relayed' })
  raw.ws.close()
  closeClients(a, b)
})

test('an editor cannot present itself as the assistant; the assistant can', async () => {
  const trip = 'fake-assistant'
  const watcher = await connectClient(server, trip, new Y.Doc(), { params: { token: await token(trip, 'viewer', 'gran') } })
  const impostor = await connectClient(server, trip, new Y.Doc(), { params: { token: await token(trip, 'editor', 'teen') } })
  const before = await metric(server, 'caravan_errors_total{kind="presence_fake_assistant"}')
  impostor.provider.awareness.setLocalStateField('user', { name: 'Assistant', isAssistant: true })
  await waitFor(async () => (await metric(server, 'caravan_errors_total{kind="presence_fake_assistant"}')) > before, { what: 'refusal counted' })
  await sleep(200)
  assert.equal(nameAt(watcher, impostor.doc.clientID), undefined)

  const assistant = await connectClient(server, trip, new Y.Doc(), { params: { token: await token(trip, 'assistant', 'assistant') } })
  assistant.provider.awareness.setLocalStateField('user', { name: 'Assistant', isAssistant: true })
  await waitFor(() => nameAt(watcher, assistant.doc.clientID) === 'Assistant', { what: 'the real assistant at the watcher' })
  assert.equal(watcher.provider.awareness.getStates().get(assistant.doc.clientID).verified.role, 'assistant')
  closeClients(watcher, impostor, assistant)
})
