// The trip document (docs/schema.md) over yjs: typed reads and writes, the TypeScript twin of
// the Rust crate `doc_model`, a file per part as there. Both read and write the same Yjs
// shape; the cross-language test (test/cross-language.test.mjs) holds them to it, and the
// shared cases of conformance/ hold the rules (conflicts.ts, tally.ts) together.

export * from './types.js'
export { readTrip } from './read.js'
export { validateTrip, type Invalid } from './valid_trip.js'
export * from './write/meta.js'
export * from './write/families.js'
export * from './write/activities.js'
export * from './write/days.js'
export * from './write/polls.js'
export * from './write/proposals.js'
export * from './write/chat.js'
