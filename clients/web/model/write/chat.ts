// Writing the chat: messages appended.

import * as Y from 'yjs'
import { type ChatMessage } from '../types.js'
import { ID, check } from '../validate.js'
import { roots, metaOf } from './document.js'

/** Posts a chat message. */
export function postChat (doc: Y.Doc, message: ChatMessage, origin: string): void {
  check(ID.test(message.id), `${message.id} is not a valid id`)
  check(message.text.trim() !== '', 'chat message must not be empty')
  metaOf(doc)
  doc.transact(() => roots(doc).chat.push([{ mentions: [], ...message }]), origin)
}
