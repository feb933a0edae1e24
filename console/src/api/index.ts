/**
 * The console's one API client: a function per route, each typed by the route's own entry in the
 * generated OpenAPI description (`paths`), so a moved route, a renamed field or a changed body
 * fails `vue-tsc`.
 */

import { request } from './client'
import type { RequestOptions } from './client'
import type { CannedReply, DomainsIn, EscalationStatus, Presence, paths } from './types'

export * from './client'
export type * from './types'

export type Method = 'get' | 'post' | 'put' | 'delete'
export type Path = keyof paths
/** the methods a path really has (the others are `?: never` in `paths`) */
export type MethodOf<P extends Path> = {
  [M in Method]: paths[P][M] extends { responses: unknown } ? M : never
}[Method]
export type Op<P extends Path, M extends MethodOf<P>> = paths[P][M]
type Json<S> = S extends { content: { 'application/json': infer T } } ? T : void
export type Answer<O> = O extends { responses: infer R }
  ? R extends { 200: infer S }
    ? Json<S>
    : R extends { 201: infer S }
      ? Json<S>
      : void
  : never
export type BodyOf<O> = O extends { requestBody?: infer B }
  ? B extends { content: { 'application/json': infer T } }
    ? T
    : never
  : never
export type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? Q : never

interface CallOptions<O> extends Pick<RequestOptions, 'auth' | 'signal' | 'headers'> {
  /** the `{name}` parts of the path */
  path?: Record<string, string | number>
  query?: QueryOf<O>
  body?: BodyOf<O>
}

/** One typed call of the app's API; feature modules (`src/<feature>/api.ts`) build on it. */
export function call<P extends Path, M extends MethodOf<P>>(
  method: M,
  path: P,
  options: CallOptions<Op<P, M>> = {},
): Promise<Answer<Op<P, M>>> {
  const url = String(path).replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = options.path?.[name]
    if (value === undefined) throw new Error(`path parameter ${name} missing for ${String(path)}`)
    return encodeURIComponent(String(value))
  })
  return request<Answer<Op<P, M>>>(method.toUpperCase() as 'GET', url, {
    body: options.body,
    query: options.query as RequestOptions['query'],
    auth: options.auth,
    signal: options.signal,
    headers: options.headers,
  })
}

const byId = (id: number) => ({ path: { escalation_id: id } })

export const authApi = {
  login: (body: BodyOf<Op<'/api/auth/login', 'post'>>) =>
    call('post', '/api/auth/login', { body, auth: false }),
  logout: () => call('post', '/api/auth/logout'),
  /** the console's profile: display name, domains, presence, must_change_password */
  profile: () => call('get', '/api/auth/profile'),
  changePassword: (body: BodyOf<Op<'/api/auth/password', 'post'>>) =>
    call('post', '/api/auth/password', { body }),
}

export const liveApi = {
  ticket: () => call('post', '/api/console/stream-ticket'),
  streamUrl: (ticket: string) => `/api/console/stream?ticket=${encodeURIComponent(ticket)}`,
}

export const expertsApi = {
  list: () => call('get', '/api/experts'),
  setPresence: (presence: Presence) =>
    call('put', '/api/experts/me/presence', { body: { presence } }),
  setDomains: (username: string, domains: DomainsIn['domains']) =>
    call('put', '/api/experts/{username}/domains', { path: { username }, body: { domains } }),
}

export const escalationsApi = {
  list: (params: { status?: EscalationStatus; mine?: boolean } = {}) =>
    call('get', '/api/escalations', {
      query: { status: params.status, mine: params.mine || undefined },
    }),
  claim: (id: number) => call('post', '/api/escalations/{escalation_id}/claim', byId(id)),
  assign: (id: number, body: BodyOf<Op<'/api/escalations/{escalation_id}/assign', 'post'>>) =>
    call('post', '/api/escalations/{escalation_id}/assign', { ...byId(id), body }),
  transfer: (id: number, body: BodyOf<Op<'/api/escalations/{escalation_id}/transfer', 'post'>>) =>
    call('post', '/api/escalations/{escalation_id}/transfer', { ...byId(id), body }),
  close: (id: number, body: BodyOf<Op<'/api/escalations/{escalation_id}/close', 'post'>>) =>
    call('post', '/api/escalations/{escalation_id}/close', { ...byId(id), body }),
  conversation: (id: number, signal?: AbortSignal) =>
    call('get', '/api/escalations/{escalation_id}/conversation', { ...byId(id), signal }),
  suggestions: (id: number, signal?: AbortSignal) =>
    call('get', '/api/escalations/{escalation_id}/suggestions', { ...byId(id), signal }),
  send: (id: number, body: BodyOf<Op<'/api/escalations/{escalation_id}/messages', 'post'>>) =>
    call('post', '/api/escalations/{escalation_id}/messages', { ...byId(id), body }),
  note: (id: number, text: string) =>
    call('post', '/api/escalations/{escalation_id}/notes', { ...byId(id), body: { text } }),
  demandDraft: (id: number) => call('get', '/api/escalations/{escalation_id}/demand-draft', byId(id)),
  openDemand: (id: number, body: BodyOf<Op<'/api/escalations/{escalation_id}/demand', 'post'>>) =>
    call('post', '/api/escalations/{escalation_id}/demand', { ...byId(id), body }),
  knowledgeDraft: (
    id: number,
    body: BodyOf<Op<'/api/escalations/{escalation_id}/knowledge-draft', 'post'>>,
  ) => call('post', '/api/escalations/{escalation_id}/knowledge-draft', { ...byId(id), body }),
}

export const cannedApi = {
  /** shared replies and the caller's own; `q` matches shortcut, title or text (at most 32 chars) */
  search: (q: string, signal?: AbortSignal): Promise<CannedReply[]> =>
    call('get', '/api/canned-replies', { query: { q: q.slice(0, 32) }, signal }).then(
      (list) => list.items,
    ),
  create: (body: BodyOf<Op<'/api/canned-replies', 'post'>>) =>
    call('post', '/api/canned-replies', { body }),
  remove: (id: number) =>
    call('delete', '/api/canned-replies/{reply_id}', { path: { reply_id: id } }),
}
