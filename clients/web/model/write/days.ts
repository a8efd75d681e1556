// Writing days: a day's title (its notes are a shared text).

import * as Y from 'yjs'
import { withinTrip } from '../validate.js'
import { roots, metaOf } from './document.js'

/** Sets a day's title. */
export function setDayTitle (doc: Y.Doc, date: string, title: string, origin: string): void {
  withinTrip(metaOf(doc), date)
  const { days } = roots(doc)
  doc.transact(() => {
    let day = days.get(date)
    if (!(day instanceof Y.Map)) {
      day = new Y.Map<unknown>()
      day.set('notes', new Y.Text(''))
      days.set(date, day)
    }
    day.set('title', title)
  }, origin)
}
