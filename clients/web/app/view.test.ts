// The view logic (app/view.ts, app/route.ts): what the screens show, from trips built for
// each case, with the edge cases a family's data will have.
import { describe, expect, it } from 'vitest'
import type { Activity, Poll, Trip } from '../model/trip'
import { isTripId, parseRoute, routeFromLink, tripHash } from './route'
import {
  conflicts, describeProposal, formatMoney, initials, itinerary, newId, planProblems, pollTally,
  pollWinner, saveLabel, saveState, tripDates
} from './view'

function trip (activities: Record<string, Activity>, extra: Partial<Trip> = {}): Trip {
  return {
    meta: { title: 'T', startDate: '2027-07-10', endDate: '2027-07-12', timezone: 'Europe/Paris', currency: 'EUR' },
    families: {
      a: { name: 'Adeyemi', members: { ngozi: { name: 'Ngozi' }, tunde: { name: 'Tunde' } } },
      b: { name: 'Berg', members: { lena: { name: 'Lena' } } }
    },
    activities, days: { '2027-07-11': { title: 'Lake day' } }, polls: {}, proposals: {}, chat: [],
    ...extra
  }
}

describe('save state', () => {
  it('says refused first: the server will not be retried', () => {
    expect(saveState({ refused: true, online: false, connected: false, synced: false, unsavedChanges: true })).toBe('refused')
    expect(saveLabel('refused', true)).toBe('Refused by the server')
  })
  it('says offline first, then connecting, saving, saved', () => {
    expect(saveState({ online: false, connected: true, synced: true, unsavedChanges: false })).toBe('offline')
    expect(saveState({ online: true, connected: false, synced: false, unsavedChanges: false })).toBe('connecting')
    expect(saveState({ online: true, connected: true, synced: false, unsavedChanges: false })).toBe('connecting')
    expect(saveState({ online: true, connected: true, synced: true, unsavedChanges: true })).toBe('saving')
    expect(saveState({ online: true, connected: true, synced: true, unsavedChanges: false })).toBe('saved')
  })
  it('tells an offline user that their changes are kept', () => {
    expect(saveLabel('offline', true)).toBe('Offline: changes kept on this device')
    expect(saveLabel('offline', false)).toBe('Offline')
    expect(saveLabel('saved', false)).toBe('All changes saved')
  })
})

describe('itinerary', () => {
  it('lists every day of the trip in order, activities by time, then order, then id', () => {
    const { days } = itinerary(trip({
      late: { title: 'Dinner', date: '2027-07-11', start: '19:00' },
      early: { title: 'Swim', date: '2027-07-11', start: '08:00' },
      untimed: { title: 'Shopping', date: '2027-07-11' },
      tieB: { title: 'B', date: '2027-07-12', start: '10:00', order: 2 },
      tieA: { title: 'A', date: '2027-07-12', start: '10:00', order: 1 }
    }))
    expect(days.map((d) => d.date)).toEqual(['2027-07-10', '2027-07-11', '2027-07-12'])
    expect(days[1].title).toBe('Lake day')
    expect(days[1].entries.map((e) => e.id)).toEqual(['early', 'late', 'untimed'])
    expect(days[2].entries.map((e) => e.id)).toEqual(['tieA', 'tieB'])
    expect(days[0].entries).toEqual([])
  })
  it('puts ideas, and activities dated outside the trip, with the ideas', () => {
    const { days, ideas } = itinerary(trip({
      idea: { title: 'Zoo' },
      stray: { title: 'After the trip', date: '2027-08-01' },
      planned: { title: 'Swim', date: '2027-07-10' }
    }))
    expect(ideas.map((e) => e.id)).toEqual(['stray', 'idea'])
    expect(days.flatMap((d) => d.entries).map((e) => e.id)).toEqual(['planned'])
  })
  it('survives malformed and absurd trip dates', () => {
    expect(tripDates('not a date', '2027-07-12')).toEqual([])
    expect(tripDates('2027-07-12', '2027-07-10')).toEqual([])
    expect(tripDates('2000-01-01', '2100-01-01')).toHaveLength(366)
  })
})

describe('conflicts', () => {
  it('marks overlaps only between activities that share a family', () => {
    const found = conflicts(trip({
      museum: { title: 'Museum', date: '2027-07-10', start: '10:00', durationMin: 120, families: ['a'] },
      zoo: { title: 'Zoo', date: '2027-07-10', start: '11:00', durationMin: 60, families: ['b'] },
      lunch: { title: 'Lunch', date: '2027-07-10', start: '11:30', durationMin: 60 }
    }))
    // Lunch is for everyone (no families listed): it overlaps both.
    expect(found.get('museum')).toEqual(['Museum and Lunch overlap on 2027-07-10 (Adeyemi)'])
    expect(found.get('zoo')).toEqual(['Zoo and Lunch overlap on 2027-07-10 (Berg)'])
    expect(found.get('lunch')).toHaveLength(2)
  })
  it('does not mark back-to-back activities, untimed ones, or ones on other days', () => {
    const found = conflicts(trip({
      one: { title: 'One', date: '2027-07-10', start: '10:00', durationMin: 60 },
      two: { title: 'Two', date: '2027-07-10', start: '11:00', durationMin: 60 },
      free: { title: 'Free', date: '2027-07-10' },
      other: { title: 'Other', date: '2027-07-11', start: '10:30' }
    }))
    expect(found.size).toBe(0)
  })
  it('marks visits outside opening hours and activities past midnight', () => {
    const found = conflicts(trip({
      castle: { title: 'Castle', date: '2027-07-10', start: '16:00', durationMin: 120, openingHours: { opens: '09:00', closes: '17:00' } },
      party: { title: 'Party', date: '2027-07-11', start: '23:00', durationMin: 120 }
    }))
    expect(found.get('castle')).toEqual(['Castle is outside opening hours (09:00–17:00)'])
    expect(found.get('party')).toEqual(['Party runs past midnight'])
  })
  it('keeps the trip over budget off the cards, for the top of the plan', () => {
    const over = trip({ hotel: { title: 'Hotel', date: '2027-07-10', cost: 20000 } }, {
      meta: { title: 'T', startDate: '2027-07-10', endDate: '2027-07-12', timezone: 'Europe/Paris', currency: 'EUR', budget: 10000 }
    })
    expect(planProblems(over)).toEqual(['the plan costs 200.00 EUR, over the budget of 100.00 EUR'])
    expect(conflicts(over).get('hotel')).toEqual(['2027-07-10 costs 200.00 EUR, more than 1.5 times its share of the budget (33.33 EUR)'])
  })
})

describe('polls', () => {
  const poll = (votes: Poll['votes'], kind: Poll['kind'] = 'single'): Poll => ({
    question: 'Where?', kind, status: 'open', votes,
    options: { lake: { label: 'Lake' }, town: { label: 'Town', aiGenerated: true } }
  })
  it('counts first choices with the voters\' names, most votes first', () => {
    const tally = pollTally(trip({}), poll({ ngozi: 'town', tunde: 'town', lena: 'lake' }))
    expect(tally.map((t) => [t.label, t.votes])).toEqual([['Town', 2], ['Lake', 1]])
    expect(tally[0].voters).toEqual(['Ngozi', 'Tunde'])
    expect(tally[0].aiGenerated).toBe(true)
  })
  it('counts a ranking by its first choice and ignores votes for options that do not exist', () => {
    const tally = pollTally(trip({}), poll({ ngozi: ['lake', 'town'], lena: 'gone', tunde: [] }, 'ranked'))
    expect(tally.map((t) => [t.id, t.votes])).toEqual([['lake', 1], ['town', 0]])
  })
  it('names the winner the server recorded, by label', () => {
    expect(pollWinner({ ...poll({}), status: 'closed', result: { winner: 'town' } })).toBe('Town')
    expect(pollWinner(poll({}))).toBeUndefined()
  })
})

describe('proposals', () => {
  it('says in words what each operation would change', () => {
    const t = trip({ museum: { title: 'Museum' } }, { polls: { dinner: { question: 'Dinner?', status: 'open', options: {}, votes: {} } } })
    const lines = describeProposal(t, {
      author: 'assistant', summary: 's', status: 'pending', createdAt: '2027-01-01T00:00:00Z',
      ops: [
        { op: 'scheduleActivity', id: 'museum', date: '2027-07-11', start: '09:30', durationMin: 90 },
        { op: 'addActivity', id: 'boat', activity: { title: 'Boat trip', date: '2027-07-12' } },
        { op: 'addActivity', id: 'kite', activity: { title: 'Kites' } },
        { op: 'unscheduleActivity', id: 'museum' },
        { op: 'removeActivity', id: 'gone' },
        { op: 'setDayTitle', date: '2027-07-11', title: 'Culture day' },
        { op: 'addPollOption', poll: 'dinner', id: 'fondue', option: { label: 'Fondue' } },
        { op: 'teleport' }
      ]
    })
    expect(lines).toEqual([
      'Schedule “Museum” on 2027-07-11 at 09:30 for 90 min',
      'Add “Boat trip” on 2027-07-12',
      'Add “Kites” as an idea',
      'Make “Museum” an idea again',
      'Remove “gone”',
      'Call 2027-07-11 “Culture day”',
      'Add “Fondue” to the poll “Dinner?”',
      'teleport (not shown by this version of the app)'
    ])
  })
})

describe('small things', () => {
  it('formats money in minor units, also for an unknown currency', () => {
    expect(formatMoney(7500, 'EUR')).toBe('€75.00')
    expect(formatMoney(1234, 'XXZ')).toMatch(/12\.34/)
  })
  it('makes initials from any name', () => {
    expect(initials('Ngozi Adeyemi')).toBe('NA')
    expect(initials('Lena')).toBe('LE')
    expect(initials('  ')).toBe('?')
  })
  it('makes ids the server accepts', () => {
    for (let i = 0; i < 100; i++) expect(newId('trip')).toMatch(/^trip-[a-z0-9]{12}$/)
  })
  it('reads trip links and refuses anything else', () => {
    expect(parseRoute('#/trip/trip-abc')).toEqual({ trip: 'trip-abc' })
    expect(parseRoute('#/trip/x?token=eyJ.a.b')).toEqual({ trip: 'x', token: 'eyJ.a.b' })
    expect(parseRoute('#/trip/' + 'a'.repeat(257))).toEqual({})
    expect(parseRoute('#/trip/' + 'é'.repeat(129))).toEqual({})
    expect(parseRoute('#/trip/' + 'é'.repeat(128))).toEqual({ trip: 'é'.repeat(128) })
    expect(parseRoute('#/trip/%2A')).toEqual({})
    expect(parseRoute('#/trip/a%0Ab')).toEqual({})
    expect(parseRoute('#/trip/%E0%A4%A')).toEqual({})
    expect(parseRoute('')).toEqual({})
  })
  it('opens any trip id the server accepts, from its own link', () => {
    for (const id of ['okafor.lake-2027', 'family/trip', 'ana@home', 'famille-été', 'a.b@c/d-é', '../../etc', 'x?y#z']) {
      expect(parseRoute(tripHash(id))).toEqual({ trip: id })
      expect(parseRoute(tripHash(id, 'eyJ.a.b'))).toEqual({ trip: id, token: 'eyJ.a.b' })
      expect(routeFromLink(`https://caravan.example/${tripHash(id)}`)).toEqual({ trip: id })
    }
    expect(isTripId('*')).toBe(false)
    expect(isTripId('')).toBe(false)
    expect(routeFromLink('okafor.lake-2027')).toEqual({ trip: 'okafor.lake-2027' })
    expect(routeFromLink('this is not a link')).toEqual({})
  })
})
