// Sockets that start an HTTP request and never finish it cannot hold the server: thousands of
// half-sent requests against a real `caravan serve` are all closed once the header-read timeout
// passes, an honest request is answered while they are held, and a client that trickles its
// headers one byte at a time is closed by the same deadline.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { readFileSync } from 'node:fs'
import { startServer, waitFor, sleep } from './helpers.mjs'

const HEADER_TIMEOUT_SECS = 2
let server

/** This process's open-file limit, for a socket count both ends can hold. */
function openFileLimit () {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
  return Number(line.split(/\s+/)[3])
}
const SOCKETS = Math.min(3000, Math.floor(openFileLimit() / 3))

before(async () => {
  server = await startServer({ env: { CARAVAN_HEADER_READ_TIMEOUT_SECS: String(HEADER_TIMEOUT_SECS) } })
})
after(async () => {
  await server.stop()
  server.cleanup()
})

/** A socket that sends the start of a request and one header, then nothing. */
function halfSentRequest () {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1')
    const held = { socket, closedAt: null }
    socket.on('close', () => { held.closedAt = Date.now() })
    socket.on('error', () => {})
    socket.once('connect', () => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: caravan\r\n')
      resolve(held)
    })
    socket.once('error', reject)
  })
}

test(`${SOCKETS} half-sent requests are closed by the header-read timeout, and honest ones are answered meanwhile`, async () => {
  assert.ok(SOCKETS >= 1000, `this machine's open-file limit allows only ${SOCKETS} sockets`)
  const started = Date.now()
  const held = []
  for (let i = 0; i < SOCKETS; i += 100) {
    held.push(...await Promise.all(Array.from({ length: Math.min(100, SOCKETS - i) }, halfSentRequest)))
  }
  const opened = Date.now()
  // While they are all held, the server still answers.
  const res = await fetch(`${server.http}/healthz`)
  assert.equal(res.status, 200)
  // None is closed before its deadline (the timeout is what closes them, not a refusal).
  const early = held.filter((h) => h.closedAt !== null && h.closedAt - started < (HEADER_TIMEOUT_SECS * 1000) / 2)
  assert.equal(early.length, 0, 'half-sent requests were closed before their deadline')
  await waitFor(() => held.every((h) => h.closedAt !== null), {
    timeoutMs: HEADER_TIMEOUT_SECS * 1000 + (opened - started) + 8000,
    what: `all ${SOCKETS} half-sent requests closed`
  })
  const res2 = await fetch(`${server.http}/healthz`)
  assert.equal(res2.status, 200)
})

test('a request whose headers trickle in a byte at a time is closed by the same deadline', async () => {
  const socket = net.connect(server.port, '127.0.0.1')
  let closedAt = null
  socket.on('close', () => { closedAt = Date.now() })
  socket.on('error', () => {})
  await new Promise((resolve) => socket.once('connect', resolve))
  const started = Date.now()
  const request = 'GET /healthz HTTP/1.1\r\nHost: caravan\r\nX-Slow: ' + 'a'.repeat(1000)
  for (let i = 0; i < request.length && closedAt === null; i++) {
    socket.write(request[i])
    await sleep(200)
  }
  assert.notEqual(closedAt, null, 'the trickling request was never closed')
  const heldFor = (closedAt - started) / 1000
  assert.ok(heldFor < HEADER_TIMEOUT_SECS + 3, `held for ${heldFor} s`)
})
