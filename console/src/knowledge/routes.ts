import type { RouteRecordRaw } from 'vue-router'

/** The knowledge pages (staff and admins); each declares its menu group and roles in `meta`. */
export const knowledgeRoutes: RouteRecordRaw[] = [
  {
    path: 'knowledge/entries',
    name: 'knowledge-entries',
    component: () => import('@/knowledge/EntriesView.vue'),
    meta: { title: '条目', roles: ['staff', 'admin'], menu: { group: 'knowledge', order: 10 } },
  },
  {
    path: 'knowledge/review',
    name: 'knowledge-review',
    component: () => import('@/knowledge/ReviewView.vue'),
    meta: { title: '审核队列', roles: ['staff', 'admin'], menu: { group: 'knowledge', order: 20 } },
  },
  {
    path: 'knowledge/search-test',
    name: 'knowledge-search-test',
    component: () => import('@/knowledge/SearchTestView.vue'),
    meta: { title: '召回测试', roles: ['expert', 'staff', 'admin'], menu: { group: 'knowledge', order: 30 } },
  },
  {
    path: 'knowledge/standards',
    name: 'knowledge-standards',
    component: () => import('@/knowledge/StandardsView.vue'),
    meta: { title: '标准', roles: ['staff', 'admin'], menu: { group: 'knowledge', order: 40 } },
  },
  {
    path: 'knowledge/import',
    name: 'knowledge-import',
    component: () => import('@/knowledge/ImportView.vue'),
    meta: { title: '导入导出', roles: ['staff', 'admin'], menu: { group: 'knowledge', order: 50 } },
  },
]
