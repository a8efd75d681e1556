// Writing the trip's meta: a trip created in an empty document.

import * as Y from 'yjs'
import { type Meta } from '../types.js'
import { check, isDate, metaProblem, money, refuse } from '../validate.js'
import { roots } from './document.js'

/** Creates the trip's meta in an empty document. */
export function createTrip (doc: Y.Doc, meta: Meta, origin: string): void {
  check(typeof meta.title === 'string', 'title must not be empty')
  check(isDate(meta.startDate) && isDate(meta.endDate), 'dates are YYYY-MM-DD')
  check(meta.budget === undefined || money(meta.budget), 'budget must be a non-negative integer (minor units)')
  refuse(metaProblem(meta))
  doc.transact(() => {
    const m = roots(doc).meta
    check(m.size === 0, 'this document already holds a trip')
    for (const [k, v] of Object.entries({ schemaVersion: 1, destination: '', budget: 0, status: 'planning', ...meta })) m.set(k, v)
  }, origin)
}
