// Where the app is, from the address's hash: `#/` the trips on this device, `#/trip/ID` one
// trip (with `?token=` when the server wants one). A trip's address is its invitation link.

/** A place in the app. */
export interface Route { trip?: string, token?: string }

/** Reads `#/trip/ID?token=T`; anything else (or an invalid id) is the home screen. */
export function parseRoute (hash: string): Route {
  const m = /^#\/trip\/([A-Za-z0-9_-]{1,64})(?:\?(.*))?$/.exec(hash)
  if (m === null) return {}
  const token = new URLSearchParams(m[2] ?? '').get('token') ?? undefined
  return token !== undefined && token !== '' ? { trip: m[1], token } : { trip: m[1] }
}
