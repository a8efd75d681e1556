// The trip event feed (Server-Sent Events at /api/events): opened when the first person
// joins, changed on every stored update, closed when the last one leaves; a late subscriber
// first hears which trips are open.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, connectClient, closeClients, waitFor } from './helpers.mjs'

let server
before(async () => { server = await startServer() })
after(async () => {
  await server.stop()
  server.cleanup()
})

/** Subscribes to the feed; `events` fills as they arrive. */
async function subscribe () {
  const controller = new AbortController()
  const res = await fetch(`${server.http}/api/events`, { signal: controller.signal })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type'), /text\/event-stream/)
  const events = []
  const decoder = new TextDecoder()
  let buffer = ''
  ;(async () => {
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true })
        let end
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = block.split('\n').find((l) => l.startsWith('data:'))
          if (data) events.push(JSON.parse(data.slice(5)))
        }
      }
    } catch {}
  })()
  return { events, close: () => controller.abort() }
}

const about = (events, trip) => events.filter((e) => e.trip === trip).map((e) => e.type)

test('opened, changed and closed, once each where they belong', async () => {
  const feed = await subscribe()
  const a = await connectClient(server, 'feed-trip')
  await waitFor(() => about(feed.events, 'feed-trip').includes('opened'), { what: 'opened' })
  const b = await connectClient(server, 'feed-trip')
  a.doc.getArray('chat').push(['@assistant plan day 2'])
  await waitFor(() => about(feed.events, 'feed-trip').includes('changed'), { what: 'changed' })
  closeClients(a)
  await waitFor(async () => (await (await fetch(`${server.http}/api/trips`)).json()).find((t) => t.id === 'feed-trip')?.connections === 1)
  assert.ok(!about(feed.events, 'feed-trip').includes('closed'), 'b is still there')
  closeClients(b)
  await waitFor(() => about(feed.events, 'feed-trip').includes('closed'), { what: 'closed' })
  const types = about(feed.events, 'feed-trip')
  assert.equal(types.filter((t) => t === 'opened').length, 1, types.join())
  assert.equal(types.filter((t) => t === 'closed').length, 1, types.join())
  assert.equal(types[0], 'opened')
  assert.equal(types.at(-1), 'closed')
  feed.close()
})

test('a late subscriber first hears which trips are open', async () => {
  const a = await connectClient(server, 'already-open')
  const feed = await subscribe()
  await waitFor(() => about(feed.events, 'already-open').includes('opened'), { what: 'snapshot' })
  // REST changes count too.
  const other = (await import('yjs'))
  const d = new other.Doc()
  d.getMap('meta').set('title', 'via REST')
  await fetch(`${server.http}/api/trips/already-open/update`, { method: 'POST', body: other.encodeStateAsUpdate(d) })
  await waitFor(() => about(feed.events, 'already-open').includes('changed'), { what: 'changed by REST' })
  closeClients(a)
  feed.close()
})
