/**
 * The console API's shapes, hand-written from docs/console-api.md.
 *
 * The app's OpenAPI description is not produced yet; once the set-up writes `console/openapi.json`,
 * `npm run gen:api` generates `openapi.d.ts` beside this file and these aliases should point at its
 * `components["schemas"]` so that a renamed field fails the build.
 */

export type Role = 'expert' | 'staff' | 'admin'
export type Presence = 'online' | 'away'
export type Channel = 'web' | 'wechat'
export type DomainCode =
  | 'metrology'
  | 'standardization'
  | 'certification'
  | 'testing'
  | 'quality'
  | 'ip'
  | 'other'

/** `{"detail": {"code": "...", "message": "中文说明"}}` */
export interface ErrorBody {
  detail: { code: string; message: string } | string | { msg: string }[]
}

// --- auth -----------------------------------------------------------------------------------

export interface LoginRequest {
  username: string
  password: string
}

export interface LoginResponse {
  token: string
  expires_at: string
  role: Role
  username: string
  display_name: string
  must_change_password: boolean
}

export interface Me {
  username: string
  display_name: string
  role: Role
  must_change_password: boolean
  domains: DomainCode[]
  presence: Presence
}

export interface PasswordChange {
  current_password: string
  new_password: string
}

export interface StreamTicket {
  ticket: string
  expires_at: string
}

// --- experts --------------------------------------------------------------------------------

export interface Expert {
  username: string
  display_name: string
  domains: DomainCode[]
  presence: Presence
  active_consultations: number
}

export interface ItemList<T> {
  items: T[]
}

// --- escalations ----------------------------------------------------------------------------

export type EscalationStatus = 'waiting' | 'claimed' | 'closed'
export type Outcome = 'answered' | 'demand_opened' | 'complaint_opened' | 'no_reply'

export interface EscalationPublic {
  id: number
  conversation_id: string
  channel: Channel
  reason: string
  reason_label: string
  summary: string
  status: EscalationStatus
  status_label: string
  expert: string | null
  expert_name: string | null
  domain: DomainCode | null
  domain_label: string | null
  enterprise: string | null
  offered_to: string[]
  created_at: string
  claimed_at: string | null
  closed_at: string | null
  waiting_minutes: number
  outcome: Outcome | null
  outcome_label: string | null
  last_message_at: string | null
}

export interface HandOver {
  expert: string
  note: string
}

export interface CloseRequest {
  outcome: Outcome
  note: string
}

export type Sender = 'user' | 'bot' | 'expert' | 'system' | 'note'
export type DeliveryState = 'sent' | 'queued' | 'failed' | 'pending'
export type SendMode = 'send' | 'queue' | 'template'

export interface Delivery {
  state: DeliveryState
  errcode: number | null
  errmsg: string | null
  mode: SendMode | string
}

export interface TranscriptLine {
  id: number | string
  sender: Sender
  text: string
  created_at: string
  author: string | null
  author_name: string | null
  delivery: Delivery | null
}

export interface NeedSummary {
  domain: DomainCode | string | null
  product: string | null
  place: string | null
  urgency: string | null
  contact_masked: string | null
  text: string | null
}

export interface CustomerCard {
  id: number
  name: string
  kind: string
  credit_code_masked: string | null
  verification: string
  verification_label: string
  consent: boolean
}

export interface DemandCard {
  number: string
  status: string
  status_label: string
  service_title: string | null
  respond_by: string | null
  recommend_by: string | null
  overdue: boolean
}

export interface ComplaintCard {
  number: string
  status: string
  status_label: string
  institution: string | null
  deadline: string | null
  overdue: boolean
}

export interface ChatWindow {
  channel: Channel
  free_text: boolean
  reason: string | null
  remaining: number | null
  until: string | null
  template_available: boolean
}

export interface Consultation {
  escalation: EscalationPublic
  transcript: TranscriptLine[]
  need_summary: NeedSummary | null
  customer: CustomerCard | null
  demands: DemandCard[]
  complaints: ComplaintCard[]
  window: ChatWindow
}

export interface Suggestion {
  id: string
  kind: string
  title: string
  text: string
  score: number
}

export interface Suggestions {
  query: string
  results: Suggestion[]
}

export interface MessageCreate {
  text: string
  mode: SendMode
  client_id: string
}

export interface NoteCreate {
  text: string
}

/** `GET …/demand-draft` answers the demand fields; the console edits the known ones and sends all back. */
export interface DemandDraft {
  need_text?: string
  product?: string
  place?: string
  contact_name?: string
  contact_mobile?: string
  quantity?: string | null
  wanted_date?: string | null
  service_mode?: '送样' | '上门' | '预约' | '均可' | null
  company_name?: string | null
  credit_code?: string | null
  [field: string]: unknown
}

export interface DemandCreated {
  number: string
  [field: string]: unknown
}

export interface KnowledgeDraftCreate {
  question: string
  answer: string
}

export interface KnowledgeDraftCreated {
  id: number | string
  status: 'draft'
}

// --- canned replies -------------------------------------------------------------------------

export interface CannedReply {
  id: number
  shortcut: string
  title: string
  text: string
  scope: 'shared' | 'personal'
  owner: string | null
}

// --- live stream events ---------------------------------------------------------------------

export interface MessageEvent {
  conversation_id: string
  escalation_id: number
  message: TranscriptLine
}

export interface DeliveryEvent {
  conversation_id: string
  message_id: number | string
  delivery: Delivery
}

export interface PresenceEvent {
  username: string
  presence: Presence
}

export interface LiveEvents {
  escalation: EscalationPublic
  message: MessageEvent
  delivery: DeliveryEvent
  presence: PresenceEvent
}
