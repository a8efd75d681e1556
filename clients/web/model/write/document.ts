// What every write shares: the document's roots, and its trip's meta (a write to a document
// that holds no trip is refused). Each write is one transaction with an origin.

import * as Y from 'yjs'
import { type Meta, type ChatMessage } from '../types.js'
import { check } from '../validate.js'

export function roots (doc: Y.Doc) {
  return {
    meta: doc.getMap('meta'),
    families: doc.getMap<Y.Map<unknown>>('families'),
    activities: doc.getMap<Y.Map<unknown>>('activities'),
    days: doc.getMap<Y.Map<unknown>>('days'),
    polls: doc.getMap<Y.Map<unknown>>('polls'),
    proposals: doc.getMap<Y.Map<unknown>>('proposals'),
    chat: doc.getArray<ChatMessage>('chat')
  }
}

export function metaOf (doc: Y.Doc): Meta {
  const meta = roots(doc).meta
  check(meta.size > 0, 'this document holds no trip: create it first')
  return meta.toJSON() as Meta
}
