/** The period picker's presets (China dates as YYYY-MM-DD). */

import type { Period } from './api'

const pad = (n: number) => String(n).padStart(2, '0')
export const iso = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`

/** Today's date in China (the platform's calendar), as a local Date of that calendar day: a
 *  browser set to another time zone still asks for the platform's days. */
export function chinaToday(now = new Date()): Date {
  const [y, m, d] = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  })
    .format(now)
    .split('-')
    .map(Number)
  return new Date(y, m - 1, d)
}

export function thisMonth(instant = new Date()): Period {
  const now = chinaToday(instant)
  return { from: iso(new Date(now.getFullYear(), now.getMonth(), 1)), to: iso(now) }
}

export function presets(instant = new Date()): { text: string; value: () => [Date, Date] }[] {
  const now = chinaToday(instant)
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
