/** The console's one API client: a typed function per route of docs/console-api.md. */

import { request } from './client'
import type {
  CannedReply,
  CloseRequest,
  Consultation,
  DemandCreated,
  DemandDraft,
  DomainCode,
  EscalationPublic,
  EscalationStatus,
  Expert,
  HandOver,
  ItemList,
  KnowledgeDraftCreate,
  KnowledgeDraftCreated,
  LoginRequest,
  LoginResponse,
  Me,
  MessageCreate,
  PasswordChange,
  Presence,
  StreamTicket,
  Suggestions,
  TranscriptLine,
} from './types'

export * from './client'
export type * from './types'

const esc = (id: number) => `/api/escalations/${encodeURIComponent(String(id))}`

export const authApi = {
  login: (body: LoginRequest) =>
    request<LoginResponse>('POST', '/api/auth/login', { body, auth: false }),
  logout: () => request<void>('POST', '/api/auth/logout'),
  me: () => request<Me>('GET', '/api/auth/me'),
  changePassword: (body: PasswordChange) => request<void>('POST', '/api/auth/password', { body }),
}

export const liveApi = {
  ticket: () => request<StreamTicket>('POST', '/api/console/stream-ticket'),
  streamUrl: (ticket: string) => `/api/console/stream?ticket=${encodeURIComponent(ticket)}`,
}

export const expertsApi = {
  list: () => request<ItemList<Expert>>('GET', '/api/experts'),
  setPresence: (presence: Presence) =>
    request<Expert>('PUT', '/api/experts/me/presence', { body: { presence } }),
  setDomains: (username: string, domains: DomainCode[]) =>
    request<Expert>('PUT', `/api/experts/${encodeURIComponent(username)}/domains`, {
      body: { domains },
    }),
}

export const escalationsApi = {
  list: (params: { status?: EscalationStatus; mine?: boolean } = {}) =>
    request<ItemList<EscalationPublic>>('GET', '/api/escalations', {
      query: { status: params.status, mine: params.mine ? 'true' : undefined },
    }),
  claim: (id: number) => request<EscalationPublic>('POST', `${esc(id)}/claim`),
  assign: (id: number, body: HandOver) =>
    request<EscalationPublic>('POST', `${esc(id)}/assign`, { body }),
  transfer: (id: number, body: HandOver) =>
    request<EscalationPublic>('POST', `${esc(id)}/transfer`, { body }),
  close: (id: number, body: CloseRequest) =>
    request<EscalationPublic>('POST', `${esc(id)}/close`, { body }),
  conversation: (id: number, signal?: AbortSignal) =>
    request<Consultation>('GET', `${esc(id)}/conversation`, { signal }),
  suggestions: (id: number, signal?: AbortSignal) =>
    request<Suggestions>('GET', `${esc(id)}/suggestions`, { signal }),
  send: (id: number, body: MessageCreate) =>
    request<TranscriptLine>('POST', `${esc(id)}/messages`, { body }),
  note: (id: number, text: string) =>
    request<TranscriptLine>('POST', `${esc(id)}/notes`, { body: { text } }),
  demandDraft: (id: number) => request<DemandDraft>('GET', `${esc(id)}/demand-draft`),
  openDemand: (id: number, body: DemandDraft) =>
    request<DemandCreated>('POST', `${esc(id)}/demand`, { body }),
  knowledgeDraft: (id: number, body: KnowledgeDraftCreate) =>
    request<KnowledgeDraftCreated>('POST', `${esc(id)}/knowledge-draft`, { body }),
}

export const cannedApi = {
  search: (q: string, signal?: AbortSignal) =>
    request<CannedReply[] | ItemList<CannedReply>>('GET', '/api/canned-replies', {
      query: { q },
      signal,
    }).then((data) => (Array.isArray(data) ? data : data.items)),
}
