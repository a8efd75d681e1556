// Stock yjs / y-websocket clients against a real caravan process.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import {
  startServer, connectClient, closeClients, waitFor, waitForSync, fetchDoc, rawSocket,
  updateFrame, savedQuestion, parseSaved, metric, sleep
} from './helpers.mjs'

let server
before(async () => {
  server = await startServer({ env: { CARAVAN_AWARENESS_TIMEOUT_SECS: '2' } })
})
after(async () => {
  await server.stop()
  server.cleanup()
})

test('two clients converge on concurrent edits to maps, arrays and text', async () => {
  const a = await connectClient(server, 'converge')
  const b = await connectClient(server, 'converge')
  // Concurrent: both edit before seeing each other's changes.
  a.doc.transact(() => {
    a.doc.getMap('meta').set('title', 'Alps 2027')
    a.doc.getArray('chat').push(['from a'])
    a.doc.getText('notes').insert(0, 'Hello ')
  })
  b.doc.transact(() => {
    b.doc.getMap('meta').set('destination', 'Chamonix')
    b.doc.getArray('chat').push(['from b'])
    b.doc.getText('notes').insert(0, 'World')
  })
  await waitFor(() => a.doc.getArray('chat').length === 2 && b.doc.getArray('chat').length === 2, { what: 'arrays' })
  await waitFor(() => a.doc.getText('notes').toString() === b.doc.getText('notes').toString() &&
    a.doc.getText('notes').length === 11, { what: 'text' })
  assert.deepEqual(a.doc.getMap('meta').toJSON(), { title: 'Alps 2027', destination: 'Chamonix' })
  assert.deepEqual(b.doc.getMap('meta').toJSON(), a.doc.getMap('meta').toJSON())
  assert.deepEqual(a.doc.getArray('chat').toArray().sort(), ['from a', 'from b'])
  assert.deepEqual(Y.encodeStateVector(a.doc), Y.encodeStateVector(b.doc))
  closeClients(a, b)
})

test('a late joiner receives the whole state', async () => {
  const a = await connectClient(server, 'late')
  for (let i = 0; i < 50; i++) a.doc.getArray('items').push([i])
  a.doc.getMap('meta').set('title', 'Late')
  await waitFor(async () => (await fetchDoc(server, 'late'))?.getArray('items').length === 50, { what: 'server has it' })
  const c = await connectClient(server, 'late')
  assert.equal(c.doc.getArray('items').length, 50)
  assert.equal(c.doc.getMap('meta').get('title'), 'Late')
  closeClients(a, c)
})

test('awareness appears at the other client and disappears when it disconnects', async () => {
  const a = await connectClient(server, 'presence')
  const b = await connectClient(server, 'presence')
  a.provider.awareness.setLocalStateField('user', { name: 'Alice', color: '#f00' })
  const aliceId = a.doc.clientID
  await waitFor(() => b.provider.awareness.getStates().get(aliceId)?.user?.name === 'Alice', { what: 'alice at b' })
  // A newcomer gets current states on connect.
  const c = await connectClient(server, 'presence')
  await waitFor(() => c.provider.awareness.getStates().get(aliceId)?.user?.name === 'Alice', { what: 'alice at c' })
  // Closing the socket without a goodbye: the server must remove the state for the others.
  a.provider.shouldConnect = false
  a.provider.ws.terminate()
  await waitFor(() => !b.provider.awareness.getStates().has(aliceId), { what: 'alice gone at b' })
  await waitFor(() => !c.provider.awareness.getStates().has(aliceId), { what: 'alice gone at c' })
  closeClients(a, b, c)
})

test('awareness not renewed expires after the timeout', async () => {
  const b = await connectClient(server, 'expiry')
  const raw = await rawSocket(server, 'expiry')
  // Announce a state once, by hand, and never renew it.
  const { Awareness, encodeAwarenessUpdate } = await import('y-protocols/awareness')
  const ghostDoc = new Y.Doc()
  const ghost = new Awareness(ghostDoc)
  ghost.setLocalState({ user: { name: 'Ghost' } })
  clearInterval(ghost._checkInterval)
  const { createEncoder, writeVarUint, writeVarUint8Array, toUint8Array } = await import('lib0/encoding')
  const enc = createEncoder()
  writeVarUint(enc, 1)
  writeVarUint8Array(enc, encodeAwarenessUpdate(ghost, [ghostDoc.clientID]))
  raw.ws.send(toUint8Array(enc))
  await waitFor(() => b.provider.awareness.getStates().get(ghostDoc.clientID)?.user?.name === 'Ghost', { what: 'ghost seen' })
  // The server timeout is 2 s (sweeps every 2 s); the ghost's socket stays open.
  const seenAt = Date.now()
  await waitFor(() => !b.provider.awareness.getStates().has(ghostDoc.clientID), { timeoutMs: 8000, what: 'ghost expired' })
  assert.ok(Date.now() - seenAt >= 1000, 'not removed before its time')
  assert.equal(raw.ws.readyState, 1, 'the connection itself stays open')
  raw.ws.close()
  closeClients(b)
})

test('a client that edits while disconnected merges on reconnect', async () => {
  const a = await connectClient(server, 'offline')
  const b = await connectClient(server, 'offline')
  a.doc.getMap('meta').set('title', 'Before')
  await waitFor(() => b.doc.getMap('meta').get('title') === 'Before', { what: 'first edit' })
  a.provider.disconnect()
  a.doc.getArray('chat').push(['written offline'])
  a.doc.getText('notes').insert(0, 'offline text')
  b.doc.getArray('chat').push(['written online'])
  await sleep(200)
  assert.equal(b.doc.getArray('chat').length, 1, 'the offline edit has not leaked')
  a.provider.connect()
  await waitForSync(a.provider)
  await waitFor(() => a.doc.getArray('chat').length === 2 && b.doc.getArray('chat').length === 2, { what: 'merge' })
  await waitFor(() => b.doc.getText('notes').toString() === 'offline text', { what: 'text merge' })
  assert.deepEqual(a.doc.getArray('chat').toArray(), b.doc.getArray('chat').toArray())
  closeClients(a, b)
})

test('the REST API reads, writes live, lists and deletes trips', async () => {
  const a = await connectClient(server, 'rest-trip')
  a.doc.getMap('meta').set('title', 'By socket')
  await waitFor(async () => (await fetchDoc(server, 'rest-trip'))?.getMap('meta').get('title') === 'By socket', { what: 'stored' })

  // POST an update made elsewhere: it reaches the connected client live.
  const other = new Y.Doc()
  Y.applyUpdate(other, Y.encodeStateAsUpdate(a.doc))
  const sv = Y.encodeStateVector(other)
  const baseUpdate = Y.encodeStateAsUpdate(other)
  other.getArray('chat').push(['by rest'])
  const res = await fetch(`${server.http}/api/trips/rest-trip/update`, {
    method: 'POST', body: Y.encodeStateAsUpdate(other, sv), headers: { 'content-type': 'application/octet-stream' }
  })
  assert.equal(res.status, 200)
  assert.equal((await res.json()).saved, true)
  await waitFor(() => a.doc.getArray('chat').get(0) === 'by rest', { what: 'REST update live' })

  // ?sv= answers only what that state vector lacks.
  const diffRes = await fetch(`${server.http}/api/trips/rest-trip/update?sv=${encodeURIComponent(Buffer.from(sv).toString('base64'))}`)
  assert.equal(diffRes.status, 200)
  const diff = new Uint8Array(await diffRes.arrayBuffer())
  const full = new Uint8Array(await (await fetch(`${server.http}/api/trips/rest-trip/update`)).arrayBuffer())
  assert.ok(diff.length < full.length, `diff ${diff.length} < full ${full.length}`)
  // Applied on top of the state it was asked for, the diff gives the whole trip.
  const rebuilt = new Y.Doc()
  Y.applyUpdate(rebuilt, baseUpdate)
  Y.applyUpdate(rebuilt, diff)
  assert.equal(rebuilt.getArray('chat').get(0), 'by rest')
  assert.equal(rebuilt.getMap('meta').get('title'), 'By socket')

  // Listing.
  const list = await (await fetch(`${server.http}/api/trips`)).json()
  const entry = list.find((t) => t.id === 'rest-trip')
  assert.ok(entry, JSON.stringify(list))
  assert.ok(entry.bytes > 0 && entry.updatedAt > Date.now() - 60_000 && entry.connections === 1, JSON.stringify(entry))

  // Bad requests.
  assert.equal((await fetch(`${server.http}/api/trips/rest-trip/update`, { method: 'POST', body: new Uint8Array([9, 9, 9]) })).status, 400)
  assert.equal((await fetch(`${server.http}/api/trips/rest-trip/update?sv=%%%`)).status, 400)
  assert.equal((await fetch(`${server.http}/api/trips/no-such-trip/update`)).status, 404)
  assert.equal((await fetch(`${server.http}/api/trips/bad%09id/update`)).status, 400)
  assert.equal((await fetch(`${server.http}/api/trips/${'x'.repeat(257)}/update`)).status, 400)

  // Delete: the connection is closed with a reason, the trip is gone.
  a.provider.shouldConnect = false
  const closed = new Promise((resolve) => a.provider.ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })))
  assert.equal((await fetch(`${server.http}/api/trips/rest-trip`, { method: 'DELETE' })).status, 204)
  const { code, reason } = await closed
  assert.equal(code, 4404)
  assert.match(reason, /deleted/)
  assert.equal(await fetchDoc(server, 'rest-trip'), null)
  assert.equal((await fetch(`${server.http}/api/trips/rest-trip`, { method: 'DELETE' })).status, 404)
  closeClients(a)
})

test('a client that asks is told when its updates are saved', async () => {
  const raw = await rawSocket(server, 'saved-ack')
  const doc = new Y.Doc()
  const updates = []
  doc.on('update', (u) => updates.push(u))
  for (let i = 0; i < 20; i++) doc.getArray('log').push([i])
  for (const u of updates) raw.ws.send(updateFrame(u))
  raw.ws.send(savedQuestion(7))
  const answer = await waitFor(() => raw.received.map(parseSaved).find((n) => n !== null), { what: 'saved answer' })
  assert.equal(answer, 7)
  // Once acknowledged, it is in the store.
  assert.equal((await fetchDoc(server, 'saved-ack')).getArray('log').length, 20)
  // The flush latency is measured.
  assert.ok(await metric(server, 'caravan_persist_flush_seconds_count') >= 1)
  raw.ws.close()
})

test('health and readiness answer', async () => {
  const health = await fetch(`${server.http}/healthz`)
  assert.equal(health.status, 200)
  const ready = await fetch(`${server.http}/readyz`)
  assert.equal(ready.status, 200)
  assert.match(await ready.text(), /ready/)
})

test('metrics count connections, rooms and updates', async () => {
  const a = await connectClient(server, 'metrics')
  const b = await connectClient(server, 'metrics')
  const before = await metric(server, 'caravan_updates_out_total')
  a.doc.getArray('x').push([1])
  await waitFor(() => b.doc.getArray('x').length === 1)
  assert.ok(await metric(server, 'caravan_connections') >= 2)
  assert.ok(await metric(server, 'caravan_docs_loaded') >= 1)
  assert.ok(await metric(server, 'caravan_updates_out_total') >= before + 1)
  assert.ok(await metric(server, 'caravan_bytes_in_total') > 0)
  closeClients(a, b)
})
