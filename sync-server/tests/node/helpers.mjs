// Shared helpers of the node tests: start and stop a real `caravan` process, connect real
// y-websocket clients, speak the raw protocol with lib0 where a test needs to misbehave.

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, createWriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'

const here = dirname(fileURLToPath(import.meta.url))
export const CARAVAN_BIN = process.env.CARAVAN_BIN ?? resolve(here, '../../../target/debug/caravan')
export const MSG_SAVED = 102

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor (check, { timeoutMs = 5000, what = 'condition' } = {}) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

export function tempDataDir () {
  return mkdtempSync(join(tmpdir(), 'caravan-test-'))
}

/**
 * Starts `caravan serve` on `port` (0: any free port) with `dataDir`, waits until it answers,
 * and returns a handle to it.
 */
export async function startServer ({ dataDir = tempDataDir(), port = 0, env = {}, assistant = false } = {}) {
  const logPath = join(dataDir, `server-${Date.now()}.log`)
  const log = createWriteStream(logPath)
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--data', join(dataDir, 'db')]
  if (!assistant) args.push('--no-assistant')
  const proc = spawn(CARAVAN_BIN, args, {
    env: { ...process.env, RUST_LOG: 'info', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })))
  const address = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      log.write(chunk)
      output += chunk.toString()
      const match = /listen=(127\.0\.0\.1:\d+)/.exec(output.replace(/\x1b\[[0-9;]*m/g, ''))
      if (match) resolve(match[1])
    }
    proc.stdout.on('data', onData)
    proc.stderr.on('data', onData)
    exited.then(({ code, signal }) => reject(new Error(`caravan exited early (${code ?? signal}):\n${output}`)))
    const timer = setTimeout(() => reject(new Error(`caravan did not start:\n${output}`)), 15000)
    timer.unref()
  })
  const http = `http://${address}`
  await waitFor(async () => (await fetch(`${http}/healthz`).catch(() => null))?.ok, { what: 'healthz' })
  return {
    dataDir,
    address,
    port: Number(address.split(':')[1]),
    http,
    ws: `ws://${address}/sync`,
    proc,
    exited,
    output: () => output,
    /** Stops with `signal` (SIGTERM: clean stop) and waits for the exit. */
    async stop (signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      const result = await exited
      log.end()
      return result
    },
    cleanup () {
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

/**
 * A stock y-websocket client on `trip`; resolves once it has synced. BroadcastChannel is off:
 * clients in one process would otherwise sync with each other without the server.
 */
export async function connectClient (server, trip, doc = new Y.Doc(), options = {}) {
  const provider = new WebsocketProvider(server.ws, trip, doc, { WebSocketPolyfill: WebSocket, disableBc: true, ...options })
  if (options.connect !== false) await waitForSync(provider)
  return { doc, provider }
}

export function waitForSync (provider, timeoutMs = 5000) {
  if (provider.synced) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('client did not sync')), timeoutMs)
    provider.on('sync', function onSync (synced) {
      if (synced) {
        clearTimeout(timer)
        provider.off('sync', onSync)
        resolve()
      }
    })
  })
}

export function closeClients (...clients) {
  for (const c of clients) {
    c.provider.destroy()
    c.provider.awareness.destroy()
    c.doc.destroy()
  }
}

/** A raw WebSocket to a trip, collecting what the server sends and how it closes. */
export async function rawSocket (server, trip) {
  const ws = new WebSocket(`${server.ws}/${trip}`)
  ws.binaryType = 'nodebuffer'
  const received = []
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  ws.on('message', (data) => received.push(new Uint8Array(data)))
  ws.on('error', () => {})
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  return { ws, received, closed }
}

/** `[0, 2, update]`. */
export function updateFrame (update) {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, 0)
  syncProtocol.writeUpdate(enc, update)
  return encoding.toUint8Array(enc)
}

/** `[102, len, n]`: "tell me when all I sent is saved". */
export function savedQuestion (n) {
  const body = encoding.createEncoder()
  encoding.writeVarUint(body, n)
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, MSG_SAVED)
  encoding.writeVarUint8Array(enc, encoding.toUint8Array(body))
  return encoding.toUint8Array(enc)
}

/** The number in a `saved` answer, or null if `frame` is something else. */
export function parseSaved (frame) {
  const dec = decoding.createDecoder(frame)
  if (decoding.readVarUint(dec) !== MSG_SAVED) return null
  return decoding.readVarUint(decoding.createDecoder(decoding.readVarUint8Array(dec)))
}

/** The trip's whole state from the REST API, applied to a fresh doc (null on 404). */
export async function fetchDoc (server, trip) {
  const res = await fetch(`${server.http}/api/trips/${trip}/update`)
  if (res.status === 404) return null
  if (!res.ok) throw new Error(`GET update: ${res.status}`)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()))
  return doc
}

/** `POST /api/tokens` with `body` and the admin `key`: `{status, body}`. */
export async function mintToken (server, body, key) {
  const res = await fetch(`${server.http}/api/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  return { status: res.status, body: await res.json() }
}

/** The value of a counter in /metrics (0 when absent). */
export async function metric (server, name) {
  const text = await (await fetch(`${server.http}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(name + ' '))
  return line ? Number(line.split(' ')[1]) : 0
}
