// Writing the trip's meta: a trip created in an empty document.

import * as Y from 'yjs'
import { type Meta } from '../types.js'
import { isDate, check, money } from '../validate.js'
import { roots } from './document.js'

/** Creates the trip's meta in an empty document. */
export function createTrip (doc: Y.Doc, meta: Meta, origin: string): void {
  check(meta.title.trim() !== '', 'title must not be empty')
  check(isDate(meta.startDate) && isDate(meta.endDate), 'dates are YYYY-MM-DD')
  check(meta.endDate >= meta.startDate, `the end date ${meta.endDate} is before the start date ${meta.startDate}`)
  check(/^[A-Z]{3}$/.test(meta.currency), `${meta.currency} is not an ISO 4217 code`)
  check(meta.budget === undefined || money(meta.budget), 'budget must be a non-negative integer (minor units)')
  doc.transact(() => {
    const m = roots(doc).meta
    check(m.size === 0, 'this document already holds a trip')
    for (const [k, v] of Object.entries({ schemaVersion: 1, destination: '', budget: 0, status: 'planning', ...meta })) m.set(k, v)
  }, origin)
}
