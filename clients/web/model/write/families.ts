// Writing families and their members (shared maps: concurrent additions are all kept).

import * as Y from 'yjs'
import { MAX_FAMILIES, MAX_MEMBERS, type Member, type Family } from '../types.js'
import { TOO_MANY_FAMILIES, check, familyProblem, idProblem, memberProblem, refuse } from '../validate.js'
import { roots, metaOf } from './document.js'

/** Adds a family with its members (a shared map, so concurrent additions are all kept). */
export function addFamily (doc: Y.Doc, id: string, family: Family, origin: string): void {
  refuse(idProblem(id) ?? familyProblem(family))
  const { families } = roots(doc)
  metaOf(doc)
  check(!families.has(id), `family ${id} exists already`)
  check(families.size < MAX_FAMILIES, TOO_MANY_FAMILIES)
  doc.transact(() => {
    const f = new Y.Map<unknown>()
    f.set('name', family.name)
    f.set('color', family.color ?? '')
    const members = new Y.Map<Member>()
    for (const [mid, m] of Object.entries(family.members ?? {})) members.set(mid, { ageGroup: 'adult', dietary: [], ...m })
    f.set('members', members)
    f.set('preferences', { interests: [], pace: 'moderate', budgetLevel: 'medium', ...family.preferences })
    families.set(id, f)
  }, origin)
}

/** Adds a member to a family. */
export function addMember (doc: Y.Doc, familyId: string, id: string, member: Member, origin: string): void {
  refuse(idProblem(id) ?? memberProblem(member))
  const family = roots(doc).families.get(familyId)
  check(family instanceof Y.Map, `there is no family ${familyId}`)
  const members = family!.get('members') as Y.Map<Member>
  check(!members.has(id), `member ${id} exists already`)
  check(members.size < MAX_MEMBERS, `a family has at most ${MAX_MEMBERS} members`)
  doc.transact(() => members.set(id, { ageGroup: 'adult', dietary: [], ...member }), origin)
}
