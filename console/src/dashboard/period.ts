/** The period picker's presets (China dates as YYYY-MM-DD). */

import type { Period } from './api'

const pad = (n: number) => String(n).padStart(2, '0')
export const iso = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`

export function thisMonth(now = new Date()): Period {
  return { from: iso(new Date(now.getFullYear(), now.getMonth(), 1)), to: iso(now) }
}

export function presets(now = new Date()): { text: string; value: () => [Date, Date] }[] {
  const y = now.getFullYear()
  const m = now.getMonth()
  return [
    { text: '本月', value: () => [new Date(y, m, 1), now] },
    { text: '上月', value: () => [new Date(y, m - 1, 1), new Date(y, m, 0)] },
    { text: '近三个月', value: () => [new Date(y, m - 2, 1), now] },
    { text: '本季度', value: () => [new Date(y, m - (m % 3), 1), now] },
    { text: '今年', value: () => [new Date(y, 0, 1), now] },
    { text: '去年', value: () => [new Date(y - 1, 0, 1), new Date(y - 1, 11, 31)] },
  ]
}

export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`
}

export function score(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toFixed(2)
}
