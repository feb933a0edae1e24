import type { RouteRecordRaw } from 'vue-router'

/** The desk pages (staff and admins); each declares its menu group and roles in `meta`. */
export const deskRoutes: RouteRecordRaw[] = []
