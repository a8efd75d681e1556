// Bad input costs only the connection that sent it: each hostile frame closes its sender with a
// clear code and reason, is counted, and an honest pair of clients in the same room keeps
// syncing, with the stored document intact.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import WebSocket from 'ws'
import * as Y from 'yjs'
import {
  startServer, connectClient, closeClients, waitFor, fetchDoc, rawSocket, updateFrame, metric, sleep
} from './helpers.mjs'

const LIMIT = 64 * 1024
let server, a, b
let honestEdits = 0
let bulkSent = 0

before(async () => {
  server = await startServer({
    env: {
      CARAVAN_MAX_MESSAGE_BYTES: String(LIMIT),
      CARAVAN_OUTBOX_FRAMES: '16',
      CARAVAN_PING_SECS: '1',
      CARAVAN_DEAD_AFTER_SECS: '3'
    }
  })
  a = await connectClient(server, 'hostile')
  b = await connectClient(server, 'hostile')
})
after(async () => {
  closeClients(a, b)
  await server.stop()
  server.cleanup()
})

/** An honest edit by a, seen by b. */
async function honestClientsStillSync () {
  honestEdits++
  a.doc.getArray('honest').push([honestEdits])
  await waitFor(() => b.doc.getArray('honest').length === honestEdits, { what: 'honest edit relayed' })
}

const cases = [
  { name: 'bytes that are not a y-protocols message', frame: Buffer.from([0xde, 0xad, 0xbe, 0xef]), code: 1002, reason: /malformed/, kind: 'malformed_message' },
  { name: 'JSON sent as a binary frame', frame: Buffer.from('{"type":"update"}'), code: 1003, reason: /unknown message type 123/, kind: 'unknown_message_type' },
  { name: 'a truncated varint', frame: Buffer.from([0x80]), code: 1002, reason: /malformed/, kind: 'malformed_message' },
  { name: 'a message cut short', frame: Buffer.from([0, 2, 100, 1, 2]), code: 1002, reason: /malformed/, kind: 'malformed_message' },
  { name: 'an update that does not decode', frame: Buffer.from([0, 2, 6, 1, 0xff, 0xff, 0xff, 0xff, 0x0f]), code: 1007, reason: /invalid update/, kind: 'invalid_update' },
  // yrs' decoder panics on this update: the server must refuse it like any other bad update.
  { name: 'an update that makes the decoder panic', frame: Buffer.from([0, 2, 36, 1, 1, 201, 198, 195, 242, 136, 250, 249, 101, 13, 136, 201, 198, 195, 242, 136, 250, 249, 7, 12, 1, 125, 42, 1, 201, 198, 195, 242, 136, 250, 249, 7, 1, 2, 3]), code: 1007, reason: /invalid update/, kind: 'invalid_update' },
  { name: 'an empty frame', frame: Buffer.alloc(0), code: 1002, reason: /empty frame/, kind: 'empty_frame' },
  { name: 'a non-existent message type', frame: Buffer.from([57, 0]), code: 1003, reason: /unknown message type 57/, kind: 'unknown_message_type' },
  { name: 'an oversized frame', frame: Buffer.alloc(LIMIT + 1024, 7), code: 1009, reason: /too big/, kind: 'message_too_big' },
  { name: 'a text frame', text: 'hello', code: 1003, reason: /text frames/, kind: 'text_frame' },
  // Far over the limit: refused by the WebSocket layer before it is read whole, so the close
  // may arrive as a reset (1006).
  { name: 'a huge frame', frame: Buffer.alloc(LIMIT * 3, 7), code: [1009, 1006], reason: /too big|^$/, kind: 'message_too_big' }
]

for (const c of cases) {
  test(`${c.name}: closes only that connection, with ${[c.code].flat().join(' or ')}`, async () => {
    const errorsBefore = await metric(server, `caravan_errors_total{kind="${c.kind}"}`)
    const bad = await rawSocket(server, 'hostile')
    bad.ws.send(c.text ?? c.frame)
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the server never closed the connection')), 10000).unref())
    const { code, reason } = await Promise.race([bad.closed, timeout])
    if (Array.isArray(c.code)) assert.ok(c.code.includes(code), `close code ${code} for ${c.name}`)
    else assert.equal(code, c.code, `close code for ${c.name} (reason: ${reason})`)
    assert.match(reason, c.reason)
    assert.equal(await metric(server, `caravan_errors_total{kind="${c.kind}"}`), errorsBefore + 1)
    await honestClientsStillSync()
  })
}

test('an invalid trip id in a path is a 400', async () => {
  // Any UTF-8 name a stock client uses is a trip id; control characters, more than 256 bytes
  // and `*` (a token's "every trip") are not.
  for (const path of ['/sync/bad%09id', '/sync/a%00b', '/sync/%7F', `/sync/${'x'.repeat(257)}`, `/sync/${'%C3%A9'.repeat(129)}`, '/sync/*', '/api/trips/a%0Ab/update']) {
    const res = await fetch(`${server.http}${path}`)
    assert.equal(res.status, 400, path)
    assert.match((await res.json()).error, /invalid trip id/)
  }
  // And a stock client gets an error, not a room.
  const ws = new WebSocket(`${server.ws}/not%0Avalid`)
  const status = await new Promise((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode)))
  assert.equal(status, 400)
})

test('a reader that never drains its socket is closed, not waited for', async () => {
  // A raw TCP client that upgrades, then stops reading: its socket buffers fill up.
  const slow = net.connect(server.port, '127.0.0.1')
  await new Promise((resolve) => slow.once('connect', resolve))
  slow.write('GET /sync/hostile HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
  await new Promise((resolve) => slow.once('data', resolve))
  slow.pause()
  let slowClosed = false
  slow.on('close', () => { slowClosed = true })
  slow.on('error', () => {})

  const before = await metric(server, 'caravan_errors_total{kind="slow_consumer"}')
  const dropped = async () => (await metric(server, 'caravan_errors_total{kind="slow_consumer"}')) === before + 1
  // Send 1 MB batches of edits until the server gives up on the slow reader: the kernel's
  // socket buffers absorb the first several MB (at most 200 MB are sent).
  const writer = await rawSocket(server, 'hostile')
  const doc = new Y.Doc()
  const chunk = 'x'.repeat(32 * 1024)
  let sent = 0
  while (!(await dropped()) && sent < 32 * 200) {
    for (let i = 0; i < 32; i++, sent++) {
      const sv = Y.encodeStateVector(doc)
      doc.getArray('bulk').push([chunk + sent])
      writer.ws.send(updateFrame(Y.encodeStateAsUpdate(doc, sv)))
    }
    await waitFor(() => writer.ws.bufferedAmount === 0, { what: 'writer drained' })
    await sleep(20)
  }
  await waitFor(dropped, { timeoutMs: 5000, what: 'the slow reader to be dropped' })
  // The honest reader got everything and keeps syncing.
  bulkSent = sent
  await waitFor(() => b.doc.getArray('bulk').length === sent, { timeoutMs: 20000, what: 'honest reader caught up' })
  await honestClientsStillSync()
  // Once it reads again, the slow client finds its connection closed.
  slow.resume()
  await waitFor(() => slowClosed, { timeoutMs: 10000, what: 'slow socket closed' })
  writer.ws.close()
})

test('a connection that answers no ping is dropped as dead', async () => {
  const before = await metric(server, 'caravan_errors_total{kind="dead_connection"}')
  const mute = net.connect(server.port, '127.0.0.1')
  await new Promise((resolve) => mute.once('connect', resolve))
  mute.write('GET /sync/hostile HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
  // It reads (and discards) what comes, but never answers: no pong, nothing.
  mute.on('data', () => {})
  const closed = new Promise((resolve) => mute.on('close', resolve))
  mute.on('error', () => {})
  const started = Date.now()
  await closed
  assert.ok(Date.now() - started >= 2000, 'not before the dead-after time')
  assert.equal(await metric(server, 'caravan_errors_total{kind="dead_connection"}'), before + 1)
  await honestClientsStillSync()
})

test('after all that, the stored document holds every honest edit', async () => {
  const stored = await fetchDoc(server, 'hostile')
  assert.deepEqual(stored.getArray('honest').toArray(), a.doc.getArray('honest').toArray())
  assert.equal(stored.getArray('bulk').length, bulkSent)
  // And from disk alone, after a restart.
  closeClients(a, b)
  await server.stop()
  server = await startServer({ dataDir: server.dataDir })
  const reloaded = await fetchDoc(server, 'hostile')
  assert.deepEqual(reloaded.getArray('honest').toArray(), [...Array(honestEdits).keys()].map((i) => i + 1))
  a = await connectClient(server, 'hostile')
  b = await connectClient(server, 'hostile')
})
