// The app's screens by route (app/route.ts): the trips on this device, or one trip. Someone
// new is asked their name first, also when they arrive by an invitation link.

import { useEffect, useState } from 'react'
import { Home } from './components/Home'
import { TripScreen } from './components/TripScreen'
import { loadMe } from './device'
import type { Me } from './sync'
import { parseRoute, type Route } from './route'

export function App () {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash))
  const [me, setMe] = useState<Me | undefined>(() => loadMe())
  useEffect(() => {
    const onHash = (): void => setRoute(parseRoute(location.hash))
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [])
  if (route.trip !== undefined && me !== undefined) {
    // Keyed by trip and token: another token is another session, and nothing of the old one
    // may show.
    return <TripScreen key={`${route.trip}?${route.token ?? ''}`} tripId={route.trip} token={route.token} me={me} />
  }
  return <Home me={me} onMe={setMe} joining={route.trip} />
}
