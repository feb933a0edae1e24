/** User administration and the audit log (admins only); typed by the app's OpenAPI description. */

import { call } from '@/api'
import type { BodyOf, Op, QueryOf, components } from '@/api'

type Schemas = components['schemas']
export type UserRow = Schemas['UserPublic']
export type UserCreated = Schemas['UserCreated']
export type UserCreate = BodyOf<Op<'/api/users', 'post'>>
export type UserUpdate = BodyOf<Op<'/api/users/{username}', 'put'>>
export type UserFilter = QueryOf<Op<'/api/users', 'get'>>
export type AuditEntry = Schemas['AuditEntryPublic']
export type AuditFilter = QueryOf<Op<'/api/audit', 'get'>>
export type FailureRate = Schemas['LoginFailureRate']
export type ActionOption = Schemas['ActionOption']

const byName = (username: string) => ({ path: { username } })

export const usersApi = {
  list: (query: UserFilter) => call('get', '/api/users', { query }),
  create: (body: UserCreate) => call('post', '/api/users', { body }),
  update: (username: string, body: UserUpdate) =>
    call('put', '/api/users/{username}', { ...byName(username), body }),
  resetPassword: (username: string) =>
    call('post', '/api/users/{username}/reset-password', byName(username)),
  deactivate: (username: string) =>
    call('post', '/api/users/{username}/deactivate', byName(username)),
  reactivate: (username: string) =>
    call('post', '/api/users/{username}/reactivate', byName(username)),
}

export const auditApi = {
  list: (query: AuditFilter) => call('get', '/api/audit', { query }),
  actions: () => call('get', '/api/audit/actions'),
  failures: () => call('get', '/api/audit/login-failures'),
}

export const ROLE_LABELS: Record<UserRow['role'], string> = {
  admin: '管理员',
  staff: '工作人员',
  expert: '专家',
}
