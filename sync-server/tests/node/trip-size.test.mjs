// The trip size limit measures the trip, not the history of its edits: a stock y-websocket
// client that replaces a 100 KB text 700 times (about 70 MB of updates, more than the default
// 64 MiB limit, the document itself never above 100 KB) keeps every edit, against a real
// `caravan serve` with its default limits; once unloaded, the trip is stored at its real size.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, connectClient, closeClients, waitFor, fetchDoc } from './helpers.mjs'

const REWRITES = 700
const TEXT_BYTES = 100 * 1024
const DEFAULT_MAX_DOC_BYTES = 64 * 1024 * 1024
const COMPACT_AFTER_LOG_BYTES = 4 * 1024 * 1024
let server

before(async () => { server = await startServer({ env: { CARAVAN_UNLOAD_AFTER_SECS: '1' } }) })
after(async () => {
  await server.stop()
  server.cleanup()
})

/** 100 KB of text that differs with `n`. */
function version (n) {
  const line = `version ${n} of the packing list: boots, rain jackets, snacks, maps. `
  return line.repeat(Math.ceil(TEXT_BYTES / line.length)).slice(0, TEXT_BYTES)
}

test(`a 100 KB text rewritten ${REWRITES} times stays under the default size limit`, async () => {
  assert.ok(REWRITES * TEXT_BYTES > DEFAULT_MAX_DOC_BYTES, 'the edits together must exceed the limit')
  const client = await connectClient(server, 'packing-list')
  try {
    await rewrite(client)
  } finally {
    closeClients(client)
  }
  // Once nobody is connected the trip unloads and compacts: what is stored is its real size.
  const trip = await waitFor(async () => {
    const trip = (await listing()).find((t) => t.id === 'packing-list')
    return trip.logLen === 0 && trip.connections === 0 && trip
  }, { timeoutMs: 20000, what: 'the trip compacted after unloading' })
  assert.ok(trip.storedBytes < 4 * TEXT_BYTES, `the store holds ${trip.storedBytes} bytes`)
  assert.ok(trip.bytes < 4 * TEXT_BYTES, `the trip counts ${trip.bytes} bytes`)
})

async function listing () {
  return (await fetch(`${server.http}/api/trips`)).json()
}

/** Replaces the text `REWRITES` times and checks what the server kept. */
async function rewrite (client) {
  const closes = []
  client.provider.on('connection-close', (event) => { if (event) closes.push(`${event.code} ${event.reason}`) })
  const text = client.doc.getText('notes')
  let sent = 0
  client.doc.on('update', (update, origin) => { if (origin !== client.provider) sent += update.length })
  for (let n = 1; n <= REWRITES; n++) {
    client.doc.transact(() => {
      text.delete(0, text.length)
      text.insert(0, version(n))
    })
    // Let the socket drain now and then, as a person's edits would.
    if (n % 20 === 0) {
      await waitFor(() => client.provider.ws?.bufferedAmount === 0, { timeoutMs: 30000, what: 'socket drained' })
    }
  }
  assert.ok(sent > DEFAULT_MAX_DOC_BYTES, `only ${sent} bytes of updates were sent`)
  const last = version(REWRITES)
  await waitFor(async () => (await fetchDoc(server, 'packing-list'))?.getText('notes').toString() === last, {
    timeoutMs: 120000,
    what: 'the last version stored'
  })
  assert.deepEqual(closes, [], 'the server closed the client')
  // While it is open, the limit counts the size last measured (compacted) plus what came since,
  // which a log-bytes compaction keeps near `--compact-after-log-bytes` (4 MiB), far from 64 MiB
  // (the slack: the trip itself, and the updates logged while a compaction runs: a writer
  // waits once the log not yet folded passes twice the threshold, `Room::compaction_behind`).
  const trip = (await listing()).find((t) => t.id === 'packing-list')
  assert.ok(trip.bytes < 2 * COMPACT_AFTER_LOG_BYTES + 1024 * 1024, `the trip counts ${trip.bytes} bytes`)
  assert.ok(trip.storedBytes < 16 * 1024 * 1024, `the store holds ${trip.storedBytes} bytes`)
}
