/** The dashboard's API: reports, exports, the improvement loop, the public results. */

import { ApiError, call, getToken } from '@/api'
import type { BodyOf, Op, components } from '@/api'

type Schemas = components['schemas']
export type DashboardReport = Schemas['DashboardReport']
export type LevelRow = Schemas['LevelRow']
export type Rate = Schemas['Rate']
export type EscalationRow = Schemas['EscalationRow']
export type UnansweredGroup = Schemas['UnansweredGroup']
export type ImprovementBrief = Schemas['ImprovementBrief']
export type Item = Schemas['ItemPublic']
export type ItemDetail = Schemas['ItemDetail']
export type ItemStatus = Item['status']
export type ItemSource = Item['source']
export type ItemTransition = BodyOf<Op<'/api/improvements/{number}/transitions', 'post'>>
export type PlanUpdate = BodyOf<Op<'/api/improvements/{number}/plan', 'put'>>
export type OwnerOption = Schemas['OwnerOption']
export type AnnualSummary = Schemas['AnnualSummary']
export type PublicResults = Schemas['PublicResults']
export type PublicPeriod = Schemas['PublicPeriod']
export type ExportTable =
  | 'all'
  | 'domains'
  | 'regions'
  | 'months'
  | 'institutions'
  | 'escalations'
  | 'unanswered'
  | 'improvements'

export interface Period {
  from: string
  to: string
}

export const reportsApi = {
  dashboard: (period: Period) => call('get', '/api/reports/dashboard', { query: period }),
  unanswered: (period: Period) => call('get', '/api/reports/unanswered', { query: { ...period, limit: 500 } }),
  annual: (year: number) => call('get', '/api/reports/annual/{year}', { path: { year } }),
  publicResults: (year?: number) =>
    call('get', '/api/public/evaluation-results', { query: { year }, auth: false }),
}

export const improvementsApi = {
  list: (query: { status?: ItemStatus; source?: ItemSource; overdue?: boolean; page?: number; size?: number }) =>
    call('get', '/api/improvements', { query: { ...query, overdue: query.overdue || undefined } }),
  get: (number: string) => call('get', '/api/improvements/{number}', { path: { number } }),
  owners: () => call('get', '/api/improvements/owners'),
  plan: (number: string, body: PlanUpdate) =>
    call('put', '/api/improvements/{number}/plan', { path: { number }, body }),
  move: (number: string, body: ItemTransition) =>
    call('post', '/api/improvements/{number}/transitions', { path: { number }, body }),
}

async function failure(response: Response): Promise<ApiError> {
  let message = `操作未完成（${response.status}），请稍后再试。`
  let code = `http_${response.status}`
  try {
    const detail = (await response.json())?.detail
    if (detail && typeof detail === 'object' && 'message' in detail) {
      message = String(detail.message)
      code = String(detail.code)
    }
  } catch {
    /* not JSON */
  }
  return new ApiError(response.status, code, message)
}

function authHeaders(): Record<string, string> {
  const token = getToken()
  return token ? { Authorization: `Bearer ${token}` } : {}
}

/** Fetch a file with the login and hand it to the browser as a download. */
export async function download(url: string, fallbackName: string): Promise<void> {
  const response = await fetch(url, { headers: authHeaders() })
  if (!response.ok) throw await failure(response)
  const disposition = response.headers.get('content-disposition') ?? ''
  const match = /filename\*=UTF-8''([^;]+)/.exec(disposition)
  const name = match ? decodeURIComponent(match[1]) : fallbackName
  const link = document.createElement('a')
  link.href = URL.createObjectURL(await response.blob())
  link.download = name
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000)
}

export function exportTable(table: ExportTable, period: Period): Promise<void> {
  const query = new URLSearchParams({ from: period.from, to: period.to })
  return download(`/api/reports/export/${table}?${query}`, `${table}.xlsx`)
}

export function exportAnnual(year: number): Promise<void> {
  return download(`/api/reports/annual/${year}/export`, `${year}年度服务评价总结.xlsx`)
}

export async function uploadEvidence(number: string, file: File): Promise<Schemas['ItemFile']> {
  const form = new FormData()
  form.append('file', file)
  const response = await fetch(`/api/improvements/${encodeURIComponent(number)}/files`, {
    method: 'POST',
    headers: authHeaders(),
    body: form,
  })
  if (!response.ok) throw await failure(response)
  return response.json()
}

export function evidenceUrl(number: string, fileId: number): string {
  return `/api/improvements/${encodeURIComponent(number)}/files/${fileId}/content`
}
