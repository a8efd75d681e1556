// Component tests: the screens rendered to HTML (react-dom/server, no browser), checked for
// what a person (or a screen reader) would find in them.
import { describe, expect, it } from 'vitest'
import { renderToStaticMarkup } from 'react-dom/server'
import * as Y from 'yjs'
import { StatusBar } from './components/StatusBar'
import { Itinerary } from './components/Itinerary'
import { Proposals } from './components/Proposals'
import { Polls } from './components/Polls'
import type { Trip } from '../model/trip'
import { conflicts } from './view'

const trip: Trip = {
  meta: { title: 'T', startDate: '2027-07-10', endDate: '2027-07-11', timezone: 'Europe/Paris', currency: 'EUR' },
  families: { a: { name: 'Adeyemi', members: { ngozi: { name: 'Ngozi' } } } },
  activities: {
    museum: { title: 'Museum', date: '2027-07-10', start: '10:00', durationMin: 120 },
    lunch: { title: 'Lunch', date: '2027-07-10', start: '11:00', durationMin: 60, cost: 4500 },
    kites: { title: 'Kites' }
  },
  days: {},
  polls: {},
  proposals: {
    p1: { author: 'assistant', summary: 'Schedule kites', status: 'pending', createdAt: '2027-01-02T00:00:00Z', ops: [{ op: 'scheduleActivity', id: 'kites', date: '2027-07-11', start: '15:00' }] },
    p2: { author: 'assistant', summary: 'Old idea', status: 'rejected', createdAt: '2027-01-01T00:00:00Z', ops: [{ op: 'removeActivity', id: 'lunch' }] }
  },
  chat: []
}

describe('StatusBar', () => {
  it('marks the assistant as such and says the save state', () => {
    const html = renderToStaticMarkup(<StatusBar status={{ save: 'offline', unsaved: true }} presence={[
      { clientId: 1, name: 'Ngozi', color: '#f00', isAssistant: false, isMe: true },
      { clientId: 2, name: 'Caravan assistant', color: '#0f0', isAssistant: true, isMe: false }
    ]} />)
    expect(html).toContain('aria-label="Ngozi (you)"')
    expect(html).toContain('aria-label="Caravan assistant (assistant)"')
    expect(html).toContain('Offline: changes kept on this device')
    expect(html).toContain('data-state="offline"')
  })
})

describe('Itinerary', () => {
  const html = renderToStaticMarkup(<Itinerary trip={trip} doc={new Y.Doc()} conflicts={conflicts(trip)} me={{ name: 'Ngozi', color: '#f00' }} />)
  it('marks the conflict on both activities concerned', () => {
    expect(html).toContain('aria-label="Problems with Museum"')
    expect(html).toContain('aria-label="Problems with Lunch"')
    expect(html).toContain('Museum and Lunch overlap on 2027-07-10')
  })
  it('lists each day, times, costs in the trip currency, and the ideas apart', () => {
    expect(html).toContain('aria-label="Day 1, 2027-07-10"')
    expect(html).toContain('aria-label="Day 2, 2027-07-11"')
    expect(html).toContain('10:00–12:00')
    expect(html).toContain('€45.00')
    const ideas = html.slice(html.indexOf('aria-label="Ideas"'))
    expect(ideas).toContain('aria-label="Kites"')
    expect(ideas).not.toContain('aria-label="Museum"')
  })
})

describe('Proposals', () => {
  const html = renderToStaticMarkup(<Proposals trip={trip} doc={new Y.Doc()} decider="ngozi" />)
  it('says what each proposal would change, and offers a decision only on pending ones', () => {
    expect(html).toContain('Schedule “Kites” on 2027-07-11 at 15:00')
    expect(html).toContain('Remove “Lunch”')
    expect(html).toContain('aria-label="Accept Schedule kites"')
    expect(html).not.toContain('aria-label="Accept Old idea"')
    // Pending first.
    expect(html.indexOf('Schedule kites')).toBeLessThan(html.indexOf('Old idea'))
  })
})

describe('Polls', () => {
  it('says who leads family by family, not by the count of votes', () => {
    const families: Trip['families'] = {
      big: { name: 'Big', members: { a1: { name: 'A1' }, a2: { name: 'A2' }, a3: { name: 'A3' } } },
      one: { name: 'One', members: { b1: { name: 'B1' } } },
      two: { name: 'Two', members: { c1: { name: 'C1' } } }
    }
    const poll = {
      question: 'Dinner?', kind: 'single' as const, status: 'open' as const,
      options: { fondue: { label: 'Fondue' }, picnic: { label: 'Picnic' } },
      votes: { a1: 'fondue', a2: 'fondue', a3: 'fondue', b1: 'picnic', c1: 'picnic' }
    }
    const html = renderToStaticMarkup(<Polls trip={{ ...trip, families, polls: { p: poll } }} doc={new Y.Doc()} onPickMember={() => {}} />)
    // Three votes for fondue, two for picnic; but two families of three chose picnic.
    expect(html).toContain('aria-label="3 votes for Fondue"')
    expect(html).toContain('Leading, family by family: <strong>Picnic</strong>')
  })
})

describe('Assistant tab', () => {
  it('lists requests the assistant understands', () => {
    const html = renderToStaticMarkup(<Proposals trip={trip} doc={new Y.Doc()} decider='ngozi' />)
    expect(html).toContain('aria-label="Examples for the assistant"')
    expect(html).toContain('“@assistant how much does each family pay?”')
  })
})
