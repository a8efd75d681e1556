// What the server promises about saving: a clean stop keeps everything, a crash (SIGKILL)
// keeps every update acknowledged as saved, idle trips unload and compact.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import {
  startServer, connectClient, closeClients, waitFor, waitForSync, fetchDoc, rawSocket,
  updateFrame, savedQuestion, parseSaved, metric, sleep, tempDataDir
} from './helpers.mjs'

test('the document is intact after a clean restart, and clients reconnect to it', async () => {
  const dataDir = tempDataDir()
  let server = await startServer({ dataDir })
  const a = await connectClient(server, 'restart')
  a.doc.getMap('meta').set('title', 'Survives')
  for (let i = 0; i < 30; i++) a.doc.getArray('chat').push([`m${i}`])
  a.doc.getText('notes').insert(0, 'pack sunscreen')
  await waitFor(async () => (await fetchDoc(server, 'restart'))?.getArray('chat').length === 30, { what: 'stored' })

  const { code } = await server.stop('SIGTERM')
  assert.equal(code, 0, 'clean exit')
  assert.match(server.output(), /everything is saved/)

  server = await startServer({ dataDir, port: server.port })
  // The stock client reconnects by itself and stays in sync.
  await waitFor(() => a.provider.wsconnected, { timeoutMs: 10000, what: 'reconnect' })
  const b = await connectClient(server, 'restart')
  assert.equal(b.doc.getMap('meta').get('title'), 'Survives')
  assert.equal(b.doc.getArray('chat').length, 30)
  assert.equal(b.doc.getText('notes').toString(), 'pack sunscreen')
  // Shutdown compacted the log into a snapshot.
  const listed = (await (await fetch(`${server.http}/api/trips`)).json()).find((t) => t.id === 'restart')
  assert.equal(listed.logLen, 0, JSON.stringify(listed))
  b.doc.getArray('chat').push(['after restart'])
  await waitFor(() => a.doc.getArray('chat').length === 31, { what: 'live after restart' })
  closeClients(a, b)
  await server.stop()
  server.cleanup()
})

test('after SIGKILL, every update acknowledged as saved is there', async () => {
  const dataDir = tempDataDir()
  let server = await startServer({ dataDir })
  const acked = new Set()
  // Two rounds of writing and killing, on the same trip.
  for (let round = 0; round < 2; round++) {
    const sockets = []
    const runs = []
    let stop = false
    for (let w = 0; w < 3; w++) {
      const raw = await rawSocket(server, 'crash')
      sockets.push(raw)
      const doc = new Y.Doc()
      // One array per writer: writers that never see each other appending at one spot of one
      // array is YATA's worst case (quadratic to integrate), not what this test is about.
      const log = doc.getArray(`log-${w}`)
      const name = (i) => `${round}-${w}-${i}`
      // Each question number n stands for "my first n items".
      let ackedHere = 0
      raw.ws.on('message', (data) => {
        const n = parseSaved(new Uint8Array(data))
        if (n !== null) {
          for (let i = ackedHere; i < n; i++) acked.add(name(i))
          ackedHere = Math.max(ackedHere, n)
        }
      })
      runs.push((async () => {
        let i = 0
        while (!stop && raw.ws.readyState === 1) {
          // Like a real client, keep a bounded number of changes unconfirmed.
          if (i - ackedHere > 100) {
            await sleep(1)
            continue
          }
          const before = Y.encodeStateVector(doc)
          log.push([name(i)])
          i++
          raw.ws.send(updateFrame(Y.encodeStateAsUpdate(doc, before)))
          raw.ws.send(savedQuestion(i))
          if (i % 20 === 0) await sleep(0)
        }
      })())
    }
    const target = acked.size + 500 + Math.floor(Math.random() * 1500)
    await waitFor(() => acked.size >= target, { timeoutMs: 20000, what: 'acknowledgements' })
    const { signal } = await server.stop('SIGKILL')
    stop = true
    await Promise.all(runs)
    assert.equal(signal, 'SIGKILL')
    const ackedAtCrash = new Set(acked)

    server = await startServer({ dataDir, port: server.port })
    const doc = await fetchDoc(server, 'crash')
    const present = new Set([0, 1, 2].flatMap((w) => doc.getArray(`log-${w}`).toArray()))
    const lost = [...ackedAtCrash].filter((item) => !present.has(item))
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged updates lost of ${ackedAtCrash.size}`)
    console.log(`crash round ${round}: ${ackedAtCrash.size} acknowledged in all, ${present.size} present after restart`)
    for (const s of sockets) s.ws.terminate()
  }
  await server.stop()
  server.cleanup()
})

test('idle trips are unloaded and compacted, and load again intact', async () => {
  const server = await startServer({ env: { CARAVAN_UNLOAD_AFTER_SECS: '1' } })
  const a = await connectClient(server, 'idle')
  for (let i = 0; i < 20; i++) a.doc.getArray('items').push([i])
  await waitFor(async () => (await fetchDoc(server, 'idle'))?.getArray('items').length === 20)
  closeClients(a)
  await waitFor(async () => (await metric(server, 'caravan_doc_unloads_total')) >= 1, { timeoutMs: 8000, what: 'unload' })
  await waitFor(async () => {
    const t = (await (await fetch(`${server.http}/api/trips`)).json()).find((t) => t.id === 'idle')
    return t && t.logLen === 0
  }, { what: 'compacted on unload' })
  const b = await connectClient(server, 'idle')
  assert.deepEqual(b.doc.getArray('items').toArray(), [...Array(20).keys()])
  closeClients(b)
  await server.stop()
  server.cleanup()
})

test('a long log is compacted past the threshold while clients keep editing', async () => {
  const server = await startServer({ env: { CARAVAN_COMPACT_AFTER_UPDATES: '50' } })
  const a = await connectClient(server, 'long-log')
  const b = await connectClient(server, 'long-log')
  for (let i = 0; i < 180; i++) {
    a.doc.getText('notes').insert(a.doc.getText('notes').length, `${i} `)
    if (i % 20 === 0) await sleep(5)
  }
  await waitFor(() => b.doc.getText('notes').length === a.doc.getText('notes').length, { what: 'b caught up' })
  await waitFor(async () => (await metric(server, 'caravan_compactions_total')) >= 2, { what: 'compactions' })
  const stored = await fetchDoc(server, 'long-log')
  assert.equal(stored.getText('notes').toString(), a.doc.getText('notes').toString())
  closeClients(a, b)
  await server.stop()
  // And from disk alone, after a restart.
  const again = await startServer({ dataDir: server.dataDir })
  assert.equal((await fetchDoc(again, 'long-log')).getText('notes').toString(), a.doc.getText('notes').toString())
  await again.stop()
  again.cleanup()
})

test('SIGINT stops cleanly too, after saving', async () => {
  const server = await startServer()
  const a = await connectClient(server, 'sigint')
  a.provider.shouldConnect = false
  const closed = new Promise((resolve) => a.provider.ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })))
  a.doc.getMap('meta').set('title', 'Ctrl-C')
  await waitFor(async () => (await fetchDoc(server, 'sigint'))?.getMap('meta').get('title') === 'Ctrl-C')
  const { code } = await server.stop('SIGINT')
  assert.equal(code, 0)
  // Connected clients are told why.
  assert.deepEqual(await closed, { code: 1001, reason: 'the server is shutting down' })
  const again = await startServer({ dataDir: server.dataDir })
  assert.equal((await fetchDoc(again, 'sigint')).getMap('meta').get('title'), 'Ctrl-C')
  closeClients(a)
  await again.stop()
  again.cleanup()
})
