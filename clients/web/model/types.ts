// The trip's types (docs/schema.md), the twin of doc-model/src/types.rs: what a trip holds.

export const ROOTS = ['meta', 'families', 'activities', 'days', 'polls', 'proposals', 'chat'] as const

export const MAX_FAMILIES = 6

export const MAX_MEMBERS = 12

export type AgeGroup = 'adult' | 'teen' | 'child' | 'infant'

export type ActivityKind = 'sight' | 'meal' | 'transport' | 'lodging' | 'activity'

export type CostPer = 'group' | 'family' | 'person'

export type PollStatus = 'open' | 'closed' | 'finalized'

export type ProposalStatus = 'pending' | 'accepted' | 'rejected' | 'applied' | 'stale'

export interface Meta {
  schemaVersion?: number
  title: string
  destination?: string
  startDate: string
  endDate: string
  timezone: string
  currency: string
  budget?: number
  status?: 'planning' | 'booked' | 'ongoing' | 'completed' | 'archived'
}

export interface Member { name: string, ageGroup?: AgeGroup, dietary?: string[], mobility?: string }

export interface Preferences { interests?: string[], pace?: 'relaxed' | 'moderate' | 'packed', budgetLevel?: 'low' | 'medium' | 'high' }

export interface Family { name: string, color?: string, members?: Record<string, Member>, preferences?: Preferences }

export interface Location { name: string, lat: number, lng: number, address?: string }

export interface Activity {
  title: string
  kind?: ActivityKind
  date?: string
  start?: string
  durationMin?: number
  location?: Location
  openingHours?: { opens: string, closes: string }
  cost?: number
  costPer?: CostPer
  families?: string[]
  booking?: { status: string, ref?: string }
  notes?: string
  createdBy?: string
  order?: number
}

export interface Day { title?: string, notes?: string }

export interface PollOption { label: string, details?: string, aiGenerated?: boolean, activity?: string }

export type Vote = string | string[]

export interface Poll {
  question: string
  kind?: 'single' | 'ranked'
  options: Record<string, PollOption>
  votes: Record<string, Vote>
  status: PollStatus
  closesAt?: string
  createdBy?: string
  wantsOptions?: boolean
  result?: unknown
}

export interface Proposal {
  author: string
  summary: string
  rationale?: string
  ops: Array<Record<string, unknown>>
  status: ProposalStatus
  decidedBy?: string
  createdAt: string
  reason?: string
  about?: string
}

export interface ChatMessage { id: string, author: string, text: string, at: string, mentions?: string[], replyTo?: string }

export interface Trip {
  meta: Meta
  families: Record<string, Family>
  activities: Record<string, Activity>
  days: Record<string, Day>
  polls: Record<string, Poll>
  proposals: Record<string, Proposal>
  chat: ChatMessage[]
}

export interface Skipped { path: string, reason: string }

/** Why a write was refused. */
export class TripError extends Error {}
