// A trip open on this device: its Yjs document kept in the browser (y-indexeddb), synced with
// the server (y-websocket), with who is here (awareness) and whether every change is saved
// (Caravan's "saved" acknowledgement, docs/protocol.md).

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { IndexeddbPersistence } from 'y-indexeddb'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { saveState, type SaveState, type Presence } from './view'

/** The message type of Caravan's "saved" question and answer. */
export const MESSAGE_SAVED = 102

/** Who uses this device, shown to the others. */
export interface Me { name: string, color: string, memberId?: string }

/** What the screens need to know about the connection. */
export interface SessionStatus {
  save: SaveState
  /** Changes made here that the server has not acknowledged as saved. */
  unsaved: boolean
  /** Set when the server refused the connection for good (bad token, trip deleted). */
  refused?: string
}

/** The server's WebSocket base, `ws(s)://host/sync`, from the page's own address. */
export function syncUrl (location: Location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${scheme}//${location.host}/sync`
}

/** The name of a trip's store in the browser (IndexedDB). */
export function localStoreName (tripId: string): string {
  return `caravan-trip-${tripId}`
}

/** One trip, open: document, local store, connection, presence and save state. */
export class TripSession {
  readonly doc = new Y.Doc()
  readonly local: IndexeddbPersistence
  readonly provider: WebsocketProvider
  /** Resolves once the trip is read from this device's store (it may be empty). */
  readonly loaded: Promise<void>
  private asked = 0
  private answered = 0
  private online: boolean
  private listeners = new Set<() => void>()
  private refused?: string
  private probing = false
  private readonly onOnline = (): void => {
    this.online = true
    if (this.refused === undefined) this.provider.connect()
    this.changed()
  }
  private readonly onOffline = (): void => { this.online = false; this.provider.disconnect(); this.changed() }

  constructor (readonly tripId: string, me: Me, private readonly options: { url: string, token?: string, online?: boolean }) {
    this.online = options.online ?? true
    this.local = new IndexeddbPersistence(localStoreName(tripId), this.doc)
    this.loaded = this.local.whenSynced.then(() => undefined)
    // y-websocket puts the room name into the URL as it is: encoded, a name holding '/', '?',
    // '#' or '%' reaches the server whole (it decodes the path).
    this.provider = new WebsocketProvider(options.url, encodeURIComponent(tripId), this.doc, {
      connect: this.online,
      params: options.token ? { token: options.token } : {},
      // Tabs of one browser share changes through the server, so each tab's save state is
      // its own.
      disableBc: true
    })
    this.provider.messageHandlers[MESSAGE_SAVED] = (_encoder, decoder) => {
      const body = decoding.createDecoder(decoding.readVarUint8Array(decoder))
      this.answered = Math.max(this.answered, decoding.readVarUint(body))
      this.changed()
    }
    this.provider.awareness.setLocalStateField('user', { name: me.name, color: me.color, memberId: me.memberId })
    this.doc.on('update', (_update: Uint8Array, origin: unknown) => {
      // Changes made here (not received from the server, not read from the local store).
      if (origin !== this.provider && origin !== this.local) this.askSaved()
    })
    this.provider.on('sync', (synced: boolean) => {
      // After a reconnection the changes made offline went out with the sync: ask whether
      // they are saved.
      // Changes read from this device's store may never have reached the server either.
      if (synced) this.askSaved()
      this.changed()
    })
    this.provider.on('status', () => this.changed())
    this.provider.on('closed', (event: { code: number, reason: string }) => {
      this.refused = event.reason || `closed with code ${event.code}`
      this.changed()
    })
    // A server that refuses a token does so before the WebSocket opens, and a browser shows
    // that only as a failed connection: ask the REST API, which says why.
    this.provider.on('connection-error', () => { void this.explainFailure() })
    this.provider.awareness.on('change', () => this.changed())
    if (typeof window !== 'undefined') {
      window.addEventListener('online', this.onOnline)
      window.addEventListener('offline', this.onOffline)
    }
  }

  /** After a failed connection: asks `GET /api/trips/ID` with the same token whether the
   * server refuses it (401, 403), and if so stops retrying and says why. Anything else (the
   * server down, the network gone, a trip not there yet) keeps the provider retrying. */
  private async explainFailure (): Promise<void> {
    if (this.probing || this.refused !== undefined || !this.online) return
    this.probing = true
    try {
      const http = this.options.url.replace(/^ws/, 'http').replace(/\/sync$/, '')
      const answer = await fetch(`${http}/api/trips/${encodeURIComponent(this.tripId)}`, {
        headers: this.options.token ? { Authorization: `Bearer ${this.options.token}` } : {}
      })
      if (answer.status === 401 || answer.status === 403) {
        const body = await answer.json().catch(() => ({})) as { error?: string }
        this.refused = body.error ?? `the server answered ${answer.status}`
        this.provider.disconnect()
        this.changed()
      }
    } catch {
      // No answer at all: the provider keeps retrying.
    } finally {
      this.probing = false
    }
  }

  /** Asks the server to say when everything sent so far is on disk. */
  private askSaved (): void {
    this.asked += 1
    this.changed()
    const ws = this.provider.ws
    if (!this.provider.wsconnected || ws === null || ws.readyState !== 1) return
    const body = encoding.createEncoder()
    encoding.writeVarUint(body, this.asked)
    const message = encoding.createEncoder()
    encoding.writeVarUint(message, MESSAGE_SAVED)
    encoding.writeVarUint8Array(message, encoding.toUint8Array(body))
    ws.send(encoding.toUint8Array(message))
  }

  /** The connection and save state, for the status bar. */
  status (): SessionStatus {
    return {
      save: saveState({
        refused: this.refused !== undefined,
        online: this.online,
        connected: this.provider.wsconnected,
        synced: this.provider.synced,
        unsavedChanges: this.asked > this.answered
      }),
      unsaved: this.asked > this.answered,
      refused: this.refused
    }
  }

  /** Everyone here now, this device first. */
  presence (): Presence[] {
    const mine = this.doc.clientID
    const people: Presence[] = []
    this.provider.awareness.getStates().forEach((state, clientId) => {
      const user = (state as { user?: { name?: string, color?: string, isAssistant?: boolean } }).user
      if (user?.name === undefined) return
      people.push({ clientId, name: user.name, color: user.color ?? '#888888', isAssistant: user.isAssistant === true, isMe: clientId === mine })
    })
    return people.sort((a, b) => Number(b.isMe) - Number(a.isMe) || a.name.localeCompare(b.name))
  }

  /** Calls `listener` whenever the status or presence may have changed; returns the unsubscribe. */
  subscribe (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private changed (): void {
    for (const listener of this.listeners) listener()
  }

  /** Closes the connection and the local store (the data stays on the device). */
  destroy (): void {
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this.onOnline)
      window.removeEventListener('offline', this.onOffline)
    }
    this.provider.destroy()
    void this.local.destroy()
    this.doc.destroy()
  }
}
