/**
 * The desk's API: demand and complaint boards and details, staff entry, assignment, reviews of
 * customers' documents and the working calendar. Every call is typed by the app's OpenAPI
 * description (`call` from '@/api').
 */

import { ApiError, call, getToken } from '@/api'
import type { BodyOf, Op, QueryOf, components } from '@/api'

type Schemas = components['schemas']
export type DemandRow = Schemas['DemandBoardRow']
export type DemandBoard = Schemas['DemandBoard']
export type DemandDetail = Schemas['DemandDetail']
export type ComplaintRow = Schemas['ComplaintBoardRow']
export type ComplaintBoard = Schemas['ComplaintBoard']
export type ComplaintDetail = Schemas['ComplaintDetail']
export type StatusCount = Schemas['StatusCount']
export type TimelineStep = Schemas['TimelineStepPublic']
export type Assignee = Schemas['Assignee']
export type StaffDemand = Schemas['StaffDemandCreate']
export type StaffComplaint = Schemas['ComplaintCreate']
export type DemandMove = Schemas['DemandTransition']
export type ComplaintMove = Schemas['ComplaintTransition']
export type Review = Schemas['ReviewPublic']
export type Customer = Schemas['CustomerPublic']
export type DocumentInfo = Schemas['DocumentPublic']
export type CalendarDay = Schemas['DayPublic']
export type DemandQuery = QueryOf<Op<'/api/desk/demands', 'get'>>
export type ComplaintQuery = QueryOf<Op<'/api/desk/complaints', 'get'>>

const byNumber = (number: string) => ({ number })

/** one key per filled form: a double click, or a retry after a dropped answer, enters it once */
export function newEntryKey(): string {
  return `entry-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`
}

export const demandDeskApi = {
  board: (query: DemandQuery) => call('get', '/api/desk/demands', { query }),
  detail: (number: string) => call('get', '/api/desk/demands/{number}', { path: byNumber(number) }),
  enter: (body: StaffDemand, key: string) =>
    call('post', '/api/desk/demands', { body, headers: { 'Idempotency-Key': key } }),
  move: (number: string, body: DemandMove) =>
    call('post', '/api/demands/{number}/transitions', { path: byNumber(number), body }),
  assign: (number: string, body: BodyOf<Op<'/api/desk/demands/{number}/assignee', 'put'>>) =>
    call('put', '/api/desk/demands/{number}/assignee', { path: byNumber(number), body }),
}

export const complaintDeskApi = {
  board: (query: ComplaintQuery) => call('get', '/api/desk/complaints', { query }),
  detail: (number: string) => call('get', '/api/desk/complaints/{number}', { path: byNumber(number) }),
  enter: (body: StaffComplaint, key: string) =>
    call('post', '/api/complaints', { body, headers: { 'Idempotency-Key': key } }),
  move: (number: string, body: ComplaintMove) =>
    call('post', '/api/complaints/{number}/transitions', { path: byNumber(number), body }),
  assign: (number: string, body: BodyOf<Op<'/api/desk/complaints/{number}/assignee', 'put'>>) =>
    call('put', '/api/desk/complaints/{number}/assignee', { path: byNumber(number), body }),
  /** the complainant is not satisfied with the outcome (§8.2): back to investigation */
  reopen: (number: string, reason: string) =>
    call('post', '/api/complaints/{number}/reopen', { path: byNumber(number), body: { reason } }),
}

export const assigneesApi = {
  list: () => call('get', '/api/desk/assignees'),
}

export const reviewsApi = {
  list: (query: QueryOf<Op<'/api/customers/reviews', 'get'>>) => call('get', '/api/customers/reviews', { query }),
  decide: (reviewId: number, body: BodyOf<Op<'/api/customers/reviews/{review_id}/decision', 'post'>>) =>
    call('post', '/api/customers/reviews/{review_id}/decision', { path: { review_id: reviewId }, body }),
  customer: (customerId: number) =>
    call('get', '/api/customers/{customer_id}', { path: { customer_id: customerId } }),
  documents: (customerId: number) =>
    call('get', '/api/customers/{customer_id}/documents', { path: { customer_id: customerId } }),
}

/**
 * A document's file, fetched with the login's token (an <img> or <iframe> cannot send it) and
 * handed to the page as an object URL; the caller revokes it when the preview closes.
 */
export async function documentUrl(customerId: number, documentId: number): Promise<string> {
  const response = await fetch(`/api/customers/${customerId}/documents/${documentId}/content`, {
    headers: { Authorization: `Bearer ${getToken() ?? ''}` },
  })
  if (!response.ok) {
    let message = '材料文件无法打开，请稍后再试。'
    try {
      message = (await response.json()).detail?.message ?? message
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, `http_${response.status}`, message)
  }
  return URL.createObjectURL(await response.blob())
}

export const calendarApi = {
  days: (year: number) => call('get', '/api/calendar/{year}', { path: { year } }),
  setDay: (day: string, body: BodyOf<Op<'/api/calendar/days/{day}', 'put'>>) =>
    call('put', '/api/calendar/days/{day}', { path: { day }, body }),
  completeYear: (year: number) => call('post', '/api/calendar/{year}/complete', { path: { year } }),
}

/** Institutions of the knowledge base matching a name or a test item (the public search API). */
export async function searchInstitutions(text: string): Promise<{ id: string; title: string }[]> {
  const answer = (await call('get', '/api/search', { query: { q: text, kind: 'institution', k: 10 } })) as unknown
  const results = (answer as { results?: { id: string; title: string }[] }).results ?? []
  return results.map((r) => ({ id: r.id, title: r.title }))
}
