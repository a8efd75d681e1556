// The order the trip's rules go through ids in (docs/schema.md: "code unit by code unit", as
// the Rust model's sorted maps do), written once for conflicts, tally and validation.

/** Compares two ids code unit by code unit. */
export function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The keys of `record`, in id order. */
export function sortedKeys<T> (record: Record<string, T> | undefined): string[] {
  return Object.keys(record ?? {}).sort(compare)
}

/** The entries of `record`, in id order. */
export function sortedEntries<T> (record: Record<string, T> | undefined): Array<[string, T]> {
  return Object.entries(record ?? {}).sort(([a], [b]) => compare(a, b))
}
