// Every problem of a whole trip, not just the first: the twin of doc-model's `validate_trip`
// (what `POST /api/trips` and `caravan import` refuse, with every reason), by the rules of
// validate.ts, in the same order and words; the cases of conformance/validation/ hold them
// together.

import { sortedEntries as sorted } from './order.js'
import { MAX_FAMILIES, type Trip, type Vote } from './types.js'
import {
  MAX_NAME_CHARS, MAX_TEXT_CHARS, TOO_MANY_FAMILIES, activityProblem, familyProblem, idProblem, metaProblem,
  nameProblem, textProblem, withinTripProblem, type Problem
} from './validate.js'

/** One reason a trip is refused: where (`activities.a1`), and what is wrong. */
export interface Invalid { path: string, error: string }

/** Every problem of `trip`. */
export function validateTrip (trip: Trip): Invalid[] {
  const problems: Invalid[] = []
  const note = (path: string, problem: Problem): void => {
    if (problem !== undefined) problems.push({ path, error: problem })
  }
  note('meta', metaProblem(trip.meta))
  const families = sorted(trip.families)
  if (families.length > MAX_FAMILIES) note('families', TOO_MANY_FAMILIES)
  for (const [id, family] of families) {
    note(`families.${id}`, idProblem(id))
    note(`families.${id}`, familyProblem(family))
  }
  for (const [id, activity] of sorted(trip.activities)) {
    const path = `activities.${id}`
    note(path, idProblem(id))
    note(path, activityProblem(activity, trip.meta))
    for (const family of activity.families ?? []) {
      if (!Object.hasOwn(trip.families ?? {}, family)) note(path, `there is no family ${JSON.stringify(family)}`)
    }
  }
  for (const [date, day] of sorted(trip.days)) {
    const path = `days.${date}`
    note(path, withinTripProblem(date, trip.meta))
    note(path, textProblem('day title', day.title ?? '', MAX_NAME_CHARS))
    note(path, textProblem('day notes', day.notes ?? '', MAX_TEXT_CHARS))
  }
  const isMember = (m: string): boolean => families.some(([, f]) => Object.hasOwn(f.members ?? {}, m))
  for (const [id, poll] of sorted(trip.polls)) {
    const path = `polls.${id}`
    note(path, idProblem(id))
    note(path, nameProblem('question', poll.question))
    for (const [optionId, option] of sorted(poll.options)) {
      note(`${path}.options.${optionId}`, idProblem(optionId))
      note(`${path}.options.${optionId}`, nameProblem('option label', option.label))
    }
    for (const [voter, vote] of sorted<Vote>(poll.votes)) {
      const vpath = `${path}.votes.${voter}`
      if (!isMember(voter)) note(vpath, `there is no member ${JSON.stringify(voter)}`)
      for (const option of Array.isArray(vote) ? vote : [vote]) {
        if (!Object.hasOwn(poll.options, option)) note(vpath, `poll ${JSON.stringify(id)} has no option ${JSON.stringify(option)}`)
      }
    }
  }
  for (const [id, proposal] of sorted(trip.proposals)) {
    const path = `proposals.${id}`
    note(path, idProblem(id))
    note(path, nameProblem('proposal author', proposal.author))
    note(path, nameProblem('proposal summary', proposal.summary))
  }
  ;(trip.chat ?? []).forEach((message, i) => {
    const path = `chat.${i}`
    note(path, idProblem(message.id))
    note(path, nameProblem('chat author', message.author))
    note(path, textProblem('chat message', message.text, MAX_TEXT_CHARS))
  })
  return problems
}
