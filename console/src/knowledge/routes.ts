import type { RouteRecordRaw } from 'vue-router'

/** The knowledge pages (staff and admins); each declares its menu group and roles in `meta`. */
export const knowledgeRoutes: RouteRecordRaw[] = []
