// Trips as JSON: the sample trip, creating a trip from JSON (and refusing invalid ones with
// every reason), reading the JSON view, and `caravan export` / `caravan import`.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startServer, connectClient, closeClients, tempDataDir, CARAVAN_BIN } from './helpers.mjs'

let server
before(async () => { server = await startServer() })
after(async () => {
  await server.stop()
  server.cleanup()
})

const post = (path, body) => fetch(`${server.http}${path}`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body)
})

test('the sample trip is created on request and syncs to a stock client', async () => {
  const res = await post('/api/trips/sample', '')
  assert.equal(res.status, 201)
  const { id } = await res.json()
  const view = await (await fetch(`${server.http}/api/trips/${id}`)).json()
  assert.equal(view.meta.title, 'Summer in the Alps')
  assert.equal(Object.keys(view.families).length, 3)
  assert.ok(Object.values(view.activities).some((a) => !a.date), 'ideas')
  // A stock Yjs client sees the same trip, in the documented shape.
  const c = await connectClient(server, id)
  assert.equal(c.doc.getMap('meta').get('title'), 'Summer in the Alps')
  assert.equal(c.doc.getMap('families').get('martins').get('members').get('lea').name, 'Léa')
  assert.equal(c.doc.getMap('activities').get('aiguille').get('notes').toString(), 'Book early; take warm clothes.')
  assert.equal(c.doc.getMap('polls').get('last-dinner').get('status'), 'open')
  closeClients(c)
})

test('a trip posted as JSON reads back the same', async () => {
  const trip = {
    meta: { title: 'Weekend', startDate: '2027-05-01', endDate: '2027-05-02', timezone: 'Europe/Berlin', currency: 'EUR', budget: 20000 },
    families: { a: { name: 'A', members: { ann: { name: 'Ann', ageGroup: 'adult' } } } },
    activities: { zoo: { title: 'Zoo', date: '2027-05-01', start: '10:00', durationMin: 120, cost: 1500, costPer: 'person' } }
  }
  const res = await post('/api/trips', trip)
  assert.equal(res.status, 201)
  const { id } = await res.json()
  const view = await (await fetch(`${server.http}/api/trips/${id}`)).json()
  assert.equal(view.meta.title, 'Weekend')
  assert.equal(view.activities.zoo.start, '10:00')
  assert.equal(view.families.a.members.ann.name, 'Ann')
  const listed = (await (await fetch(`${server.http}/api/trips`)).json()).map((t) => t.id)
  assert.ok(listed.includes(id))
})

test('an invalid trip is refused with every reason', async () => {
  const res = await post('/api/trips', {
    meta: { title: '', startDate: '2027-05-02', endDate: '2027-05-01', timezone: 'Nowhere/Land', currency: 'EUR' },
    activities: { x: { title: 'X', date: '2030-01-01' } }
  })
  assert.equal(res.status, 400)
  const body = await res.json()
  assert.match(body.error, /not valid/)
  const paths = body.reasons.map((r) => r.path)
  assert.ok(paths.includes('meta'), JSON.stringify(body))
  assert.ok(paths.includes('activities.x'), JSON.stringify(body))
  // Not JSON, or not a trip at all.
  assert.equal((await post('/api/trips', '{nope')).status, 400)
  assert.equal((await post('/api/trips', { hello: 1 })).status, 400)
  assert.equal((await fetch(`${server.http}/api/trips/nosuchtrip`)).status, 404)
})

test('caravan import and export move a trip in and out of a stopped server', async () => {
  const dataDir = tempDataDir()
  const db = join(dataDir, 'db')
  const sample = await (await fetch(`${server.http}/api/trips/${(await (await post('/api/trips/sample', '')).json()).id}`)).json()
  const file = join(dataDir, 'trip.json')
  writeFileSync(file, JSON.stringify(sample))
  const id = execFileSync(CARAVAN_BIN, ['import', '--data', db, '--file', file, '--id', 'imported'], { encoding: 'utf8' }).trim()
  assert.equal(id, 'imported')
  const exported = JSON.parse(execFileSync(CARAVAN_BIN, ['export', '--data', db, '--trip', 'imported'], { encoding: 'utf8' }))
  assert.deepEqual(exported, sample)
  // A second import under the same id is refused.
  assert.throws(() => execFileSync(CARAVAN_BIN, ['import', '--data', db, '--file', file, '--id', 'imported'], { stdio: 'pipe' }), /exists already/)
  // And the server serves it.
  const other = await startServer({ dataDir })
  assert.deepEqual(await (await fetch(`${other.http}/api/trips/imported`)).json(), sample)
  await other.stop()
  other.cleanup()
})
