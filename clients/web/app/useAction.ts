// How every screen runs a write to the trip: the model validates first and throws a
// `TripError` with a reason; the screen shows that reason until the next write succeeds.

import { useState } from 'react'

/** `[error, run]`: `run(write)` carries out the write and says whether it succeeded; `error`
 * is the reason the last one failed, or ''. */
export function useAction (): [string, (write: () => void) => boolean] {
  const [error, setError] = useState('')
  const run = (write: () => void): boolean => {
    try {
      write()
      setError('')
      return true
    } catch (e) {
      setError((e as Error).message)
      return false
    }
  }
  return [error, run]
}
