import type { RouteRecordRaw } from 'vue-router'

/** The dashboard pages (staff and admins); each declares its menu group and roles in `meta`. */
export const dashboardRoutes: RouteRecordRaw[] = []

/** Pages without login (`meta: { public: true }`), outside the console's layout. */
export const dashboardPublicRoutes: RouteRecordRaw[] = []
