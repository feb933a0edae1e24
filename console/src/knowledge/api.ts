/** The knowledge pages' API: typed by the app's OpenAPI description (see @/api). */

import { ApiError, call, getToken } from '@/api'
import type { BodyOf, FieldError, Op, QueryOf, components } from '@/api'

type Schemas = components['schemas']
export type EntrySummary = Schemas['EntrySummary']
export type EntryDetail = Schemas['EntryDetail']
export type EntryPage = Schemas['EntryPage']
export type VersionPublic = Schemas['VersionPublic']
export type PublishJob = Schemas['PublishJobPublic']
export type StandardPublic = Schemas['StandardPublic']
export type ReviewQueue = Schemas['ReviewQueue']
export type DraftPublic = Schemas['DraftPublic']
export type DueItem = Schemas['DueItem']
export type ImportOut = Schemas['ImportOut']
export type Vocabulary = Schemas['Vocabulary']
export type Option = Schemas['Option']
export type Kind = EntrySummary['kind']
export type EntryStatus = EntrySummary['status']
export type ListQuery = NonNullable<QueryOf<Op<'/api/knowledge/entries', 'get'>>>
export type ExportQuery = NonNullable<QueryOf<Op<'/api/knowledge/export', 'get'>>>
export type { FieldError }

export const kindLabels: Record<Kind, string> = {
  service: '服务事项',
  institution: '服务机构',
  station: '线下站点',
  faq: '常见问题',
  standard: '标准',
}
export const statusLabels: Record<EntryStatus, string> = { draft: '草稿', published: '已发布', withdrawn: '已撤下' }

const byId = (entryId: string) => ({ path: { entry_id: entryId } })

export const knowledgeApi = {
  list: (query: ListQuery) => call('get', '/api/knowledge/entries', { query }),
  vocabulary: () => call('get', '/api/knowledge/vocabulary'),
  get: (entryId: string) => call('get', '/api/knowledge/entries/{entry_id}', byId(entryId)),
  create: (payload: Record<string, unknown>) => call('post', '/api/knowledge/entries', { body: { payload } }),
  update: (entryId: string, payload: Record<string, unknown>, expectedVersion: number) =>
    call('put', '/api/knowledge/entries/{entry_id}', {
      ...byId(entryId),
      body: { payload, expected_version: expectedVersion },
    }),
  setStatus: (entryId: string, body: BodyOf<Op<'/api/knowledge/entries/{entry_id}/status', 'post'>>) =>
    call('post', '/api/knowledge/entries/{entry_id}/status', { ...byId(entryId), body }),
  history: (entryId: string) => call('get', '/api/knowledge/entries/{entry_id}/history', byId(entryId)),
  restore: (entryId: string, number: number) =>
    call('post', '/api/knowledge/entries/{entry_id}/restore', { ...byId(entryId), body: { number } }),
  publish: (entryIds?: string[]) => call('post', '/api/knowledge/publish', { body: { entry_ids: entryIds ?? null } }),
  jobs: () => call('get', '/api/knowledge/publish'),
  job: (jobId: number) => call('get', '/api/knowledge/publish/{job_id}', { path: { job_id: jobId } }),
  searchTest: (body: BodyOf<Op<'/api/knowledge/search-test', 'post'>>) =>
    call('post', '/api/knowledge/search-test', { body }),
  standards: () => call('get', '/api/knowledge/standards'),
  withdrawStandard: (body: BodyOf<Op<'/api/knowledge/standards/withdraw', 'post'>>) =>
    call('post', '/api/knowledge/standards/withdraw', { body }),
  review: () => call('get', '/api/knowledge/review'),
  addDraft: (body: BodyOf<Op<'/api/knowledge/drafts', 'post'>>) => call('post', '/api/knowledge/drafts', { body }),
  approve: (draftId: number, payload: Record<string, unknown>) =>
    call('post', '/api/knowledge/drafts/{draft_id}/approve', { path: { draft_id: draftId }, body: { payload, publish: true } }),
  dismiss: (draftId: number, reason: string) =>
    call('post', '/api/knowledge/drafts/{draft_id}/dismiss', { path: { draft_id: draftId }, body: { reason } }),
}

/** fetch with the console's token; an error answer becomes ApiError with the API's message */
async function authorized(url: string, init: RequestInit = {}): Promise<Response> {
  const token = getToken()
  const headers = new Headers(init.headers)
  if (token) headers.set('Authorization', `Bearer ${token}`)
  let response: Response
  try {
    response = await fetch(url, { ...init, headers })
  } catch {
    throw new ApiError(0, 'network', '网络连接失败，请检查网络后重试。')
  }
  if (!response.ok) {
    let detail: { code?: string; message?: string } = {}
    try {
      detail = (await response.json()).detail ?? {}
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, detail.code ?? `http_${response.status}`, detail.message ?? '操作未完成，请稍后再试。')
  }
  return response
}

/** POST /api/knowledge/import (multipart; the JSON client sends no files) */
export async function importTable(file: File, commit: boolean): Promise<ImportOut> {
  const form = new FormData()
  form.append('file', file, file.name)
  const response = await authorized(`/api/knowledge/import?commit=${commit}`, { method: 'POST', body: form })
  return (await response.json()) as ImportOut
}

/** GET /api/knowledge/export as a download (the token travels in a header, not in the link) */
export async function downloadExport(query: ExportQuery): Promise<string> {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, String(value))
  const response = await authorized(`/api/knowledge/export?${params}`)
  const blob = await response.blob()
  const name = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') ?? '')?.[1] ?? 'export'
  const link = document.createElement('a')
  link.href = URL.createObjectURL(blob)
  link.download = name
  link.click()
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000)
  return name
}
