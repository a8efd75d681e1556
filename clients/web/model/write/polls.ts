// Writing polls: opened, options added, votes (one per member), closed.

import * as Y from 'yjs'
import { type Member, type PollOption, type Vote } from '../types.js'
import { ID, check } from '../validate.js'
import { roots, metaOf } from './document.js'

/** A poll to open: the question, its kind and its first options. */
export interface NewPoll {
  question: string
  kind?: 'single' | 'ranked'
  options: Record<string, PollOption>
  closesAt?: string
  createdBy?: string
  wantsOptions?: boolean
}

/** Opens a poll (options and votes are shared maps, so concurrent votes are all kept). */
export function openPoll (doc: Y.Doc, id: string, poll: NewPoll, origin: string): void {
  check(ID.test(id), `${id} is not a valid id`)
  check(poll.question.trim() !== '' && poll.question.length <= 200, 'a question needs 1 to 200 characters')
  for (const [oid, option] of Object.entries(poll.options)) {
    check(ID.test(oid), `${oid} is not a valid option id`)
    check(option.label.trim() !== '' && option.label.length <= 200, 'an option label needs 1 to 200 characters')
  }
  metaOf(doc)
  const { polls } = roots(doc)
  check(!polls.has(id), `poll ${id} exists already`)
  doc.transact(() => {
    const p = new Y.Map<unknown>()
    p.set('question', poll.question)
    p.set('kind', poll.kind ?? 'single')
    const options = new Y.Map<PollOption>()
    for (const [oid, option] of Object.entries(poll.options)) options.set(oid, { details: '', aiGenerated: false, ...option })
    p.set('options', options)
    p.set('votes', new Y.Map<Vote>())
    p.set('status', 'open')
    p.set('createdBy', poll.createdBy ?? '')
    p.set('wantsOptions', poll.wantsOptions ?? false)
    if (poll.closesAt !== undefined) p.set('closesAt', poll.closesAt)
    polls.set(id, p)
  }, origin)
}

/** Adds an option to an open poll. */
export function addPollOption (doc: Y.Doc, pollId: string, id: string, option: PollOption, origin: string): void {
  check(ID.test(id), `${id} is not a valid option id`)
  check(option.label.trim() !== '' && option.label.length <= 200, 'an option label needs 1 to 200 characters')
  const poll = roots(doc).polls.get(pollId)
  check(poll instanceof Y.Map, `there is no poll ${pollId}`)
  check(poll!.get('status') === 'open', `poll ${pollId} is not open`)
  const options = poll!.get('options') as Y.Map<PollOption>
  check(!options.has(id), `option ${id} exists already`)
  doc.transact(() => options.set(id, { details: '', aiGenerated: false, ...option }), origin)
}

/** Votes on an open poll, as member `voter`. */
export function vote (doc: Y.Doc, pollId: string, voter: string, choice: Vote, origin: string): void {
  const poll = roots(doc).polls.get(pollId)
  check(poll instanceof Y.Map, `there is no poll ${pollId}`)
  check(poll!.get('status') === 'open', `poll ${pollId} is not open`)
  const isMember = [...roots(doc).families.values()].some((f) => (f.get('members') as Y.Map<Member>)?.has(voter))
  check(isMember, `there is no member ${voter}`)
  const ranked = poll!.get('kind') === 'ranked'
  check(ranked === Array.isArray(choice), ranked ? 'rank the options, best first' : 'vote for one option')
  const options = poll!.get('options') as Y.Map<PollOption>
  const chosen = Array.isArray(choice) ? choice : [choice]
  check(chosen.length > 0 && new Set(chosen).size === chosen.length, 'a ranking must name each option at most once, and at least one')
  for (const o of chosen) check(options.has(o), `poll ${pollId} has no option ${o}`)
  doc.transact(() => (poll!.get('votes') as Y.Map<Vote>).set(voter, choice), origin)
}

/** Closes an open poll: the assistant then tallies it (family by family) and records the result. */
export function closePoll (doc: Y.Doc, pollId: string, origin: string): void {
  const poll = roots(doc).polls.get(pollId)
  check(poll instanceof Y.Map, `there is no poll ${pollId}`)
  check(poll!.get('status') === 'open', `poll ${pollId} is not open`)
  doc.transact(() => poll!.set('status', 'closed'), origin)
}
