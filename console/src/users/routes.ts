import type { RouteRecordRaw } from 'vue-router'

export const userRoutes: RouteRecordRaw[] = [
  {
    path: 'users',
    name: 'users',
    component: () => import('@/users/UsersView.vue'),
    meta: { title: '用户管理', roles: ['admin'], menu: { group: 'admin', order: 10 } },
  },
  {
    path: 'experts',
    name: 'experts',
    component: () => import('@/users/ExpertDomainsView.vue'),
    meta: { title: '专家领域', roles: ['admin'], menu: { group: 'admin', order: 20 } },
  },
  {
    path: 'audit',
    name: 'audit',
    component: () => import('@/users/AuditView.vue'),
    meta: { title: '审计日志', roles: ['admin'], menu: { group: 'admin', order: 30 } },
  },
]
