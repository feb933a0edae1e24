import { createRouter, createWebHistory } from 'vue-router'
import type { RouteLocationNormalized } from 'vue-router'
import type { Role } from '@/api'
import { hasToken, loadMe, me } from '@/auth/session'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    roles?: Role[]
    title?: string
  }
}

export const router = createRouter({
  // the app serves the console under /console/
  history: createWebHistory('/console/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('@/auth/LoginView.vue'), meta: { public: true } },
    { path: '/password', name: 'password', component: () => import('@/auth/PasswordView.vue') },
    {
      path: '/',
      component: () => import('@/layout/AppLayout.vue'),
      children: [
        { path: '', redirect: { name: 'consultations' } },
        {
          path: 'consultations/:id(\\d+)?',
          name: 'consultations',
          component: () => import('@/consultations/ConsultationsView.vue'),
          meta: { title: '咨询工作台' },
        },
        {
          path: 'experts',
          name: 'experts',
          component: () => import('@/users/ExpertDomainsView.vue'),
          meta: { title: '专家领域', roles: ['admin'] },
        },
      ],
    },
    { path: '/:rest(.*)*', redirect: { name: 'consultations' } },
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
  if (!user.must_change_password && to.name === 'password') return { name: 'consultations' }
  if (to.meta.roles && !to.meta.roles.includes(user.role)) return { name: 'consultations' }
  return true
})
