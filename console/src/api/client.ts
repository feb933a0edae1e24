/** fetch with the bearer token; errors become ApiError with the API's Chinese message. */

import type { ErrorBody } from './types'

const TOKEN_KEY = 'qclinic.console.token'
const EXPIRES_KEY = 'qclinic.console.expires_at'

export interface FieldError {
  field: string
  message: string
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** one Chinese message per form field, when the API sends them (422) */
    readonly errors: FieldError[] = [],
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export function getToken(): string | null {
  const token = localStorage.getItem(TOKEN_KEY)
  const expires = localStorage.getItem(EXPIRES_KEY)
  if (token && expires && Date.parse(expires) <= Date.now()) {
    clearToken()
    return null
  }
  return token
}

export function setToken(token: string, expiresAt: string): void {
  localStorage.setItem(TOKEN_KEY, token)
  localStorage.setItem(EXPIRES_KEY, expiresAt)
}

export function clearToken(): void {
  localStorage.removeItem(TOKEN_KEY)
  localStorage.removeItem(EXPIRES_KEY)
}

let unauthorizedHandler: () => void = () => {}

/** Called on any 401 (the session expired or was ended); main.ts sends the user to the login page. */
export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler
}

const STATUS_MESSAGES: Record<number, string> = {
  401: '登录已过期，请重新登录。',
  403: '您没有权限进行此操作。',
  404: '未找到相关内容，可能已被处理。',
  409: '操作冲突，请刷新后重试。',
  422: '填写的内容不符合要求，请检查。',
}

function messageOf(status: number, body: unknown): { code: string; message: string; errors?: FieldError[] } {
  const detail = (body as ErrorBody | null)?.detail
  if (detail && typeof detail === 'object' && !Array.isArray(detail) && 'message' in detail) {
    return { code: detail.code, message: detail.message, errors: detail.errors }
  }
  if (typeof detail === 'string') return { code: `http_${status}`, message: detail }
  return {
    code: status === 422 ? 'validation' : `http_${status}`,
    message: STATUS_MESSAGES[status] ?? `服务暂时不可用（${status}），请稍后再试。`,
  }
}

export interface RequestOptions {
  body?: unknown
  query?: Record<string, string | number | boolean | undefined | null>
  /** false for the login itself: a 401 there is a wrong password, not an expired session */
  auth?: boolean
  signal?: AbortSignal
  /** extra request headers, e.g. an Idempotency-Key against a double submit */
  headers?: Record<string, string>
}

export async function request<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  const { body, query, auth = true, signal } = options
  let url = path
  if (query) {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
    }
    const qs = params.toString()
    if (qs) url += `?${qs}`
  }
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const token = getToken()
  if (auth && token) headers.Authorization = `Bearer ${token}`

  let response: Response
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    })
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error
    throw new ApiError(0, 'network', '网络连接失败，请检查网络后重试。')
  }

  if (response.status === 204) return undefined as T
  const text = await response.text()
  let data: unknown = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (!response.ok) {
    const { code, message, errors } = messageOf(response.status, data)
    if (response.status === 401 && auth) {
      clearToken()
      unauthorizedHandler()
    }
    throw new ApiError(response.status, code, message, errors ?? [])
  }
  return data as T
}

/** The Chinese message to show for any error thrown by the client. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message
  return '操作未完成，请稍后再试。'
}
