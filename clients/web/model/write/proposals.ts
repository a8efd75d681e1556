// Deciding on proposals the way any client can: the assistant then applies an accepted one.

import * as Y from 'yjs'
import { check } from '../validate.js'
import { roots } from './document.js'

/** Accepts a pending proposal the way any client can: the assistant then applies it. */
export function acceptProposal (doc: Y.Doc, id: string, by: string, origin: string): void {
  const p = roots(doc).proposals.get(id)
  check(p instanceof Y.Map, `there is no proposal ${id}`)
  check(p!.get('status') === 'pending', `proposal ${id} is ${p!.get('status')}, not pending`)
  doc.transact(() => { p!.set('status', 'accepted'); p!.set('decidedBy', by) }, origin)
}

/** Rejects a pending proposal. */
export function rejectProposal (doc: Y.Doc, id: string, by: string, origin: string): void {
  const p = roots(doc).proposals.get(id)
  check(p instanceof Y.Map, `there is no proposal ${id}`)
  check(p!.get('status') === 'pending', `proposal ${id} is ${p!.get('status')}, not pending`)
  doc.transact(() => { p!.set('status', 'rejected'); p!.set('decidedBy', by) }, origin)
}
