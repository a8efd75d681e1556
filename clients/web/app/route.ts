// Where the app is, from the address's hash: `#/` the trips on this device, `#/trip/ID` one
// trip (with `?token=` when the server wants one). A trip's address is its invitation link.
// The id is percent-encoded in the hash, so any id the server accepts has an address.

/** A place in the app. */
export interface Route { trip?: string, token?: string }

/** Longest trip id the server accepts, in UTF-8 bytes (`persistence/src/trip_id.rs`). */
export const MAX_TRIP_ID_BYTES = 256

/**
 * Whether the server accepts `id` as a trip id: 1 to 256 UTF-8 bytes, no control character
 * (Unicode category Cc, as Rust's `char::is_control`), and not `*` (a token's "every trip").
 */
export function isTripId (id: string): boolean {
  const bytes = new TextEncoder().encode(id).length
  return bytes >= 1 && bytes <= MAX_TRIP_ID_BYTES && !/\p{Cc}/u.test(id) && id !== '*'
}

/** The hash of a trip's address: `#/trip/ID` (ID percent-encoded), with its token if any. */
export function tripHash (id: string, token?: string): string {
  const query = token !== undefined && token !== '' ? `?token=${encodeURIComponent(token)}` : ''
  return `#/trip/${encodeURIComponent(id)}${query}`
}

/** Reads `#/trip/ID?token=T`; anything else (or an invalid id) is the home screen. */
export function parseRoute (hash: string): Route {
  const m = /^#\/trip\/([^?]+)(?:\?(.*))?$/.exec(hash)
  if (m === null) return {}
  let trip: string
  try {
    trip = decodeURIComponent(m[1])
  } catch {
    return {}
  }
  if (!isTripId(trip)) return {}
  const token = new URLSearchParams(m[2] ?? '').get('token') ?? undefined
  return token !== undefined && token !== '' ? { trip, token } : { trip }
}

/**
 * The trip a pasted text names: a trip link (anything ending in `#/trip/ID...`), or a bare id
 * with no white space in it (a sentence pasted by mistake is not taken for a trip's name).
 */
export function routeFromLink (text: string): Route {
  const link = text.trim()
  const at = link.indexOf('#/trip/')
  if (at >= 0) return parseRoute(link.slice(at))
  if (/\s/u.test(link) || !isTripId(link)) return {}
  return { trip: link }
}
