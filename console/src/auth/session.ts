/** Who is logged in. Only this module writes the session; views read it. */

import { computed, readonly, ref } from 'vue'
import { authApi, clearToken, getToken, setToken } from '@/api'
import type { LoginRequest, Presence, Profile, Role } from '@/api'

const current = ref<Profile | null>(null)

export const me = readonly(current)
export const role = computed<Role | null>(() => current.value?.role ?? null)
export const isExpert = computed(() => role.value === 'expert')
export const isStaff = computed(() => role.value === 'staff' || role.value === 'admin')
export const isAdmin = computed(() => role.value === 'admin')

export function hasToken(): boolean {
  return getToken() !== null
}

/** The console's profile (`GET /api/auth/profile`; `/api/auth/me` only names the user and role). */
export async function loadMe(): Promise<Profile> {
  current.value = await authApi.profile()
  return current.value
}

export async function login(body: LoginRequest): Promise<Profile> {
  const answer = await authApi.login(body)
  setToken(answer.token, answer.expires_at)
  return loadMe()
}

export async function logout(): Promise<void> {
  try {
    if (getToken()) await authApi.logout()
  } catch {
    // the session may already be gone; the token is dropped either way
  }
  forget()
}

/** Drop the session locally (after a 401 or a logout). */
export function forget(): void {
  clearToken()
  current.value = null
}

export function passwordChanged(): void {
  if (current.value) current.value = { ...current.value, must_change_password: false }
}

export function presenceChanged(presence: Presence): void {
  if (current.value) current.value = { ...current.value, presence }
}

export const roleLabels: Record<Role, string> = { expert: '专家', staff: '工作人员', admin: '管理员' }
