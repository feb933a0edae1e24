/**
 * The console's navigation, built from the routes' own `meta`: each feature declares its pages in
 * `src/<feature>/routes.ts` with a title, the roles that may open them and the menu group they sit
 * in, so adding a page never touches the layout. The API enforces every role rule; hiding a menu
 * item is only a convenience.
 */

import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '@/api'

export type MenuGroup = 'consult' | 'desk' | 'knowledge' | 'dashboard' | 'admin'

export const GROUP_LABELS: Record<MenuGroup, string> = {
  consult: '咨询工作台',
  desk: '需求与投诉',
  knowledge: '知识库',
  dashboard: '统计看板',
  admin: '系统管理',
}
const GROUP_ORDER: MenuGroup[] = ['consult', 'desk', 'knowledge', 'dashboard', 'admin']

export interface MenuItem {
  name: string
  label: string
}
export interface MenuSection {
  group: MenuGroup
  label: string
  items: MenuItem[]
}

function allowed(route: RouteRecordRaw, role: Role): boolean {
  const roles = route.meta?.roles
  return !roles || roles.includes(role)
}

/** The menu a role sees: groups in a fixed order, pages in their `menu.order`. */
export function menuFor(routes: RouteRecordRaw[], role: Role | null): MenuSection[] {
  if (!role) return []
  const pages = routes.filter((r) => r.meta?.menu && typeof r.name === 'string' && allowed(r, role))
  return GROUP_ORDER.map((group) => ({
    group,
    label: GROUP_LABELS[group],
    items: pages
      .filter((r) => r.meta?.menu?.group === group)
      .sort((a, b) => (a.meta?.menu?.order ?? 0) - (b.meta?.menu?.order ?? 0))
      .map((r) => ({ name: String(r.name), label: String(r.meta?.title ?? r.name) })),
  })).filter((section) => section.items.length > 0)
}

/** Where a role lands after the login: the first page marked `home` for it, else the first it may open. */
export function homeFor(routes: RouteRecordRaw[], role: Role | null): string {
  if (!role) return 'login'
  const home = routes.find((r) => r.meta?.home?.includes(role) && allowed(r, role))
  if (home) return String(home.name)
  return menuFor(routes, role)[0]?.items[0]?.name ?? 'consultations'
}
