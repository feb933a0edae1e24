import type { RouteRecordRaw } from 'vue-router'

export const userRoutes: RouteRecordRaw[] = [
  {
    path: 'experts',
    name: 'experts',
    component: () => import('@/users/ExpertDomainsView.vue'),
    meta: { title: '专家领域', roles: ['admin'], menu: { group: 'admin', order: 20 } },
  },
]
