import { createRouter, createWebHistory } from 'vue-router'
import type { RouteLocationNormalized, RouteRecordRaw } from 'vue-router'
import type { Role } from '@/api'
import { hasToken, loadMe, me } from '@/auth/session'
import { consultationRoutes } from '@/consultations/routes'
import { dashboardPublicRoutes, dashboardRoutes } from '@/dashboard/routes'
import { deskRoutes } from '@/desk/routes'
import { knowledgeRoutes } from '@/knowledge/routes'
import type { MenuGroup } from '@/layout/menu'
import { homeFor } from '@/layout/menu'
import { userRoutes } from '@/users/routes'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    roles?: Role[]
    title?: string
    /** shown in the header menu, in this group, sorted by `order` */
    menu?: { group: MenuGroup; order: number }
    /** the roles that land on this page after the login */
    home?: Role[]
  }
}

/** Every page inside the console's layout, from the features' own route lists. */
export const pages: RouteRecordRaw[] = [
  ...consultationRoutes,
  ...deskRoutes,
  ...knowledgeRoutes,
  ...dashboardRoutes,
  ...userRoutes,
]

/** Pages outside the layout that need no login (`meta.public`), e.g. the published evaluation results. */
const publicPages: RouteRecordRaw[] = [...dashboardPublicRoutes]

export const router = createRouter({
  // the app serves the console under /console/
  history: createWebHistory('/console/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('@/auth/LoginView.vue'), meta: { public: true } },
    { path: '/password', name: 'password', component: () => import('@/auth/PasswordView.vue') },
    ...publicPages,
    {
      path: '/',
      component: () => import('@/layout/AppLayout.vue'),
      children: [{ path: '', name: 'home', redirect: () => ({ name: homeFor(pages, me.value?.role ?? null) }) }, ...pages],
    },
    { path: '/:rest(.*)*', redirect: { name: 'home' } },
  ],
})

function toLogin(to: RouteLocationNormalized) {
  return { name: 'login', query: to.fullPath && to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
}

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!hasToken()) return toLogin(to)
  if (!me.value) {
    try {
      await loadMe()
    } catch {
      return toLogin(to)
    }
  }
  const user = me.value
  if (!user) return toLogin(to)
  // the first-run password must be changed before anything else
  if (user.must_change_password && to.name !== 'password') {
    return { name: 'password', query: { redirect: to.fullPath } }
  }
  const home = { name: homeFor(pages, user.role) }
  if (!user.must_change_password && to.name === 'password') return home
  if (to.meta.roles && !to.meta.roles.includes(user.role)) return home
  return true
})
