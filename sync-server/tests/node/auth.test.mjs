// Tokens with the stock y-websocket client: tokens minted by `POST /api/tokens` (admin key)
// and by `caravan token`, passed as y-websocket's `params`. A viewer syncs and sees presence;
// its edit is answered with the y-protocols "permission denied" message, which y-websocket
// reports, and the edit reaches neither the other client nor the store.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import { CARAVAN_BIN, startServer, connectClient, closeClients, waitFor, sleep, mintToken } from './helpers.mjs'

const SECRET = 'a node test secret, long enough for HS256 signing'
const ADMIN_KEY = 'node-admin-key'
let server

before(async () => {
  server = await startServer({ env: { CARAVAN_JWT_SECRET: SECRET, CARAVAN_ADMIN_KEY: ADMIN_KEY } })
})
after(async () => {
  await server.stop()
  server.cleanup()
})

function mintOverRest (body, key = ADMIN_KEY) {
  return mintToken(server, body, key)
}

function mintWithCli (trip, role, sub) {
  return execFileSync(CARAVAN_BIN, ['token', '--trip', trip, '--role', role, '--sub', sub, '--ttl', '10m'], {
    env: { ...process.env, CARAVAN_JWT_SECRET: SECRET }
  }).toString().trim()
}

/** The trip as stored, read over REST with `token`. */
async function storedDoc (trip, token) {
  const res = await fetch(`${server.http}/api/trips/${trip}/update`, { headers: { authorization: `Bearer ${token}` } })
  assert.equal(res.status, 200)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()))
  return doc
}

test('a stock y-websocket viewer syncs, sees presence, and its edit is refused and goes nowhere', async () => {
  const minted = await mintOverRest({ trip: 'family', role: 'editor', sub: 'mum' })
  assert.equal(minted.status, 201)
  const editorToken = minted.body.token
  const viewerToken = mintWithCli('family', 'viewer', 'grandpa')

  const editor = await connectClient(server, 'family', new Y.Doc(), { params: { token: editorToken } })
  editor.doc.getText('notes').insert(0, 'pack sunscreen')
  editor.provider.awareness.setLocalStateField('user', { name: 'Mum' })

  const warnings = []
  const warn = console.warn
  console.warn = (...args) => { warnings.push(args.join(' ')) }
  let viewer
  try {
    viewer = await connectClient(server, 'family', new Y.Doc(), { params: { token: viewerToken } })
    await waitFor(() => viewer.doc.getText('notes').toString() === 'pack sunscreen', { what: 'the viewer syncs' })
    await waitFor(() => [...viewer.provider.awareness.getStates().values()].some((s) => s.user?.name === 'Mum'), { what: 'presence at the viewer' })

    viewer.doc.getText('notes').insert(0, 'VIEWER WAS HERE ')
    await waitFor(() => warnings.some((w) => w.includes('Permission denied')), { what: 'permission denied reported' })
  } finally {
    console.warn = warn
  }
  assert.match(warnings.find((w) => w.includes('Permission denied')), /may only read/)

  // The editor's next change reaches the viewer; the viewer's never reached the editor.
  editor.doc.getText('notes').insert(0, 'and hats, ')
  await waitFor(() => viewer.doc.getText('notes').toString().includes('and hats'), { what: 'editor edit at viewer' })
  await sleep(200)
  assert.equal(editor.doc.getText('notes').toString(), 'and hats, pack sunscreen')
  const stored = await storedDoc('family', viewerToken)
  assert.equal(stored.getText('notes').toString(), 'and hats, pack sunscreen')
  closeClients(editor, viewer)
})

test('a bad token never syncs and the admin routes need the admin key', async () => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(server.ws, 'family', doc, { WebSocketPolyfill: WebSocket, disableBc: true, params: { token: 'not-a-token' } })
  await sleep(1500)
  assert.equal(provider.synced, false)
  assert.equal(doc.getText('notes').toString(), '')
  provider.destroy()
  provider.awareness.destroy()

  const noKey = await mintOverRest({ trip: 'family', role: 'owner', sub: 'x' }, 'wrong-key')
  assert.equal(noKey.status, 403)
  const list = await fetch(`${server.http}/api/trips`)
  assert.equal(list.status, 401)
  const listed = await fetch(`${server.http}/api/trips`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
  assert.equal(listed.status, 200)
  assert.ok((await listed.json()).some((t) => t.id === 'family'))
})
