import type { RouteRecordRaw } from 'vue-router'

export const consultationRoutes: RouteRecordRaw[] = [
  {
    path: 'consultations/:id(\\d+)?',
    name: 'consultations',
    component: () => import('@/consultations/ConsultationsView.vue'),
    meta: { title: '咨询工作台', roles: ['expert', 'staff', 'admin'], menu: { group: 'consult', order: 10 }, home: ['expert'] },
  },
]
