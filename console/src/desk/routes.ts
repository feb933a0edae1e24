import type { RouteRecordRaw } from 'vue-router'

/** The desk pages (staff and admins); each declares its menu group and roles in `meta`. */
export const deskRoutes: RouteRecordRaw[] = [
  {
    path: 'desk/demands',
    name: 'desk-demands',
    component: () => import('@/desk/DemandBoardView.vue'),
    meta: { title: '需求', roles: ['staff', 'admin'], menu: { group: 'desk', order: 10 }, home: ['staff', 'admin'] },
  },
  {
    path: 'desk/demands/:number',
    name: 'desk-demand',
    component: () => import('@/desk/DemandDetailView.vue'),
    meta: { title: '需求详情', roles: ['staff', 'admin'] },
  },
  {
    path: 'desk/complaints',
    name: 'desk-complaints',
    component: () => import('@/desk/ComplaintBoardView.vue'),
    meta: { title: '投诉', roles: ['staff', 'admin'], menu: { group: 'desk', order: 20 } },
  },
  {
    path: 'desk/complaints/:number',
    name: 'desk-complaint',
    component: () => import('@/desk/ComplaintDetailView.vue'),
    meta: { title: '投诉详情', roles: ['staff', 'admin'] },
  },
  {
    path: 'desk/entry',
    name: 'desk-entry',
    component: () => import('@/desk/EntryView.vue'),
    meta: { title: '录入', roles: ['staff', 'admin'], menu: { group: 'desk', order: 30 } },
  },
  {
    path: 'desk/reviews',
    name: 'desk-reviews',
    component: () => import('@/desk/ReviewsView.vue'),
    meta: { title: '客户审核', roles: ['staff', 'admin'], menu: { group: 'desk', order: 40 } },
  },
  {
    path: 'desk/calendar',
    name: 'desk-calendar',
    component: () => import('@/desk/CalendarView.vue'),
    meta: { title: '工作日历', roles: ['staff', 'admin'], menu: { group: 'desk', order: 50 } },
  },
]
