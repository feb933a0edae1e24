/**
 * The console API's shapes: aliases of the app's own OpenAPI description.
 *
 * `openapi.d.ts` is generated (`npm run gen:api`, part of `npm run build`) from `console/openapi.json`,
 * which the set-up writes with `python -m app.openapi_dump`. Nothing here copies a field by hand,
 * so a field renamed on the server fails `vue-tsc`. Only what the description cannot say is written
 * here: the error body (the app's handlers, not in the description) and the live stream's events
 * (SSE, not in the description), both built from the generated shapes.
 */

import type { components, operations, paths } from './openapi'

export type { components, operations, paths }
type Schemas = components['schemas']

// --- codes the API declares as enums -----------------------------------------------------------

export type Role = Schemas['Profile']['role']
export type Presence = Schemas['PresenceIn']['presence']
export type Channel = NonNullable<Schemas['EscalationCreate']['channel']>
/** knowledge/constants.py; the API declares them where it takes a domain (EscalationCreate) */
export type DomainCode = NonNullable<Schemas['EscalationCreate']['domain']>
export type EscalationStatus = NonNullable<
  NonNullable<operations['list_escalations_api_escalations_get']['parameters']['query']>['status']
>
export type Outcome = Schemas['EscalationClose']['outcome']

// --- auth ------------------------------------------------------------------------------------

export type LoginRequest = Schemas['LoginIn']
export type LoginResponse = Schemas['LoginOut']
/** `GET /api/auth/profile`: who is logged in to the console (`/api/auth/me` is only {username, role}) */
export type Profile = Schemas['Profile']
export type PasswordChange = Schemas['PasswordChange']
/** `POST /api/console/stream-ticket`: a one-use reference to the login, for `EventSource` */
export type StreamTicket = Schemas['Ticket']

// --- experts ---------------------------------------------------------------------------------

export type Expert = Schemas['ExpertPublic']
export type ExpertList = Schemas['ExpertList']
export type PresenceIn = Schemas['PresenceIn']
export type DomainsIn = Schemas['DomainsIn']

// --- escalations and consultations -----------------------------------------------------------

export type EscalationPublic = Schemas['EscalationPublic']
export type EscalationList = Schemas['EscalationList']
export type HandOver = Schemas['HandOver']
export type CloseRequest = Schemas['EscalationClose']

export type TranscriptLine = Schemas['TranscriptLine']
export type Sender = TranscriptLine['sender']
export type Delivery = Schemas['Delivery']
export type DeliveryState = Delivery['state']
export type MessageCreate = Schemas['ReplyIn']
export type SendMode = NonNullable<MessageCreate['mode']>
export type NoteCreate = Schemas['NoteIn']

export type Consultation = Schemas['ConsultationView']
export type NeedSummary = Schemas['NeedSummary']
export type CustomerCard = Schemas['CustomerCard']
export type DemandCard = Schemas['DemandCard']
export type ComplaintCard = Schemas['ComplaintCard']
export type ChatWindow = Schemas['Window']
export type Suggestion = Schemas['Suggestion']
export type Suggestions = Schemas['Suggestions']

/** `GET …/demand-draft` and `POST …/demand`: the contact mobile may stay masked, the desk fills it in */
export type DemandDraft = Schemas['DemandDraft']
export type ServiceMode = NonNullable<DemandDraft['service_mode']>
export type DemandPublic = Schemas['DemandPublic']
export type KnowledgeDraftIn = Schemas['KnowledgeDraftIn']
export type KnowledgeDraftPublic = Schemas['KnowledgeDraftPublic']

// --- canned replies --------------------------------------------------------------------------

export type CannedReply = Schemas['CannedReplyPublic']
export type CannedReplyList = Schemas['CannedReplyList']
export type CannedReplyCreate = Schemas['CannedReplyCreate']
export type CannedScope = CannedReply['scope']

// --- not in the OpenAPI description ----------------------------------------------------------

/**
 * Every refusal: `{"detail": {"code": "...", "message": "中文说明"}}` (desk/errors_http.py; a 422
 * adds `errors: [{field, message}]`). FastAPI's own default (`detail` as a string or a list) is
 * still read, for routes outside the desk.
 */
export interface ErrorBody {
  detail:
    | { code: string; message: string; errors?: { field: string; message: string }[] }
    | string
    | Schemas['ValidationError'][]
}

/** SSE `message`: a transcript line (or a private note) of a conversation the console watches */
export interface LiveMessage {
  conversation_id: string
  /** null when the conversation has no open escalation any more */
  escalation_id: number | null
  message: TranscriptLine
}

/** SSE `delivery`: a sent line's delivery state changed */
export interface LiveDelivery {
  conversation_id: string
  message_id: TranscriptLine['id']
  delivery: Delivery
}

/** SSE `presence`: an expert went online or away */
export interface LivePresence {
  username: Expert['username']
  presence: Presence
}

/** The live stream's events by name (`event:`); each carries a cursor in `id:`. */
export interface LiveEvents {
  escalation: EscalationPublic
  message: LiveMessage
  delivery: LiveDelivery
  presence: LivePresence
}
