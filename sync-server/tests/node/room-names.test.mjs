// Any room name a stock client uses: y-websocket puts the room name in the URL as it is
// (`@y/websocket-server` accepts anything), so `trip@home:été` and `org/team/plans` must sync,
// be stored, survive a restart and be listed as they are. Control characters are refused (400).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { startServer, connectClient, closeClients, waitFor, tempDataDir } from './helpers.mjs'

const NAMES = ['trip@home:été', 'team:plans', 'famille-été', 'org/team/plans', '東京 🗼']

test('room names stock clients use sync, are stored, survive a restart and are listed as they are', async () => {
  const dataDir = tempDataDir()
  let server = await startServer({ dataDir })
  for (const name of NAMES) {
    const a = await connectClient(server, name)
    const b = await connectClient(server, name)
    a.doc.getText('notes').insert(0, `notes of ${name}`)
    await waitFor(() => b.doc.getText('notes').toString() === `notes of ${name}`, { what: `sync in ${name}` })
    closeClients(a, b)
  }
  await server.stop()
  server = await startServer({ dataDir })
  for (const name of NAMES) {
    const c = await connectClient(server, name, new Y.Doc())
    await waitFor(() => c.doc.getText('notes').toString() === `notes of ${name}`, { what: `${name} after a restart` })
    closeClients(c)
  }
  const listed = await (await fetch(`${server.http}/api/trips`)).json()
  for (const name of NAMES) {
    assert.ok(listed.some((t) => t.id === name), `${name} listed: ${JSON.stringify(listed)}`)
  }
  // Over REST too, with the name percent-encoded.
  const res = await fetch(`${server.http}/api/trips/${encodeURIComponent('org/team/plans')}/update`)
  assert.equal(res.status, 200)
  const bad = await fetch(`${server.http}/api/trips/${encodeURIComponent('tab\there')}/update`)
  assert.equal(bad.status, 400)
  await server.stop()
  server.cleanup()
})
