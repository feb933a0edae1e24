import type { RouteRecordRaw } from 'vue-router'

/** The dashboard pages (staff and admins); each declares its menu group and roles in `meta`. */
export const dashboardRoutes: RouteRecordRaw[] = [
  {
    path: 'dashboard',
    name: 'dashboard',
    component: () => import('@/dashboard/DashboardView.vue'),
    meta: { title: '统计看板', roles: ['staff', 'admin'], menu: { group: 'dashboard', order: 10 } },
  },
  {
    path: 'improvements',
    name: 'improvements',
    component: () => import('@/dashboard/ImprovementsView.vue'),
    meta: { title: '改进事项', roles: ['staff', 'admin'], menu: { group: 'dashboard', order: 20 } },
  },
  {
    path: 'annual',
    name: 'annual',
    component: () => import('@/dashboard/AnnualView.vue'),
    meta: { title: '年度总结', roles: ['staff', 'admin'], menu: { group: 'dashboard', order: 30 } },
  },
]

/** Pages without login (`meta: { public: true }`), outside the console's layout. */
export const dashboardPublicRoutes: RouteRecordRaw[] = [
  {
    path: '/public/results',
    name: 'public-results',
    component: () => import('@/dashboard/PublicResultsView.vue'),
    meta: { public: true, title: '服务评价结果公示' },
  },
]
