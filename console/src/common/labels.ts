/** Labels the API does not send itself (it sends *_label for most fields). */

import type { Channel, DeliveryState, DomainCode, Outcome, Presence } from '@/api'

/** knowledge/constants.py is the source of these codes */
export const domainLabels: Record<DomainCode, string> = {
  metrology: '计量',
  standardization: '标准化',
  certification: '认证认可',
  testing: '检验检测',
  quality: '质量管理',
  ip: '知识产权',
  other: '其他',
}
export const domainCodes = Object.keys(domainLabels) as DomainCode[]

export function domainLabel(code: string | null | undefined): string {
  return (code && domainLabels[code as DomainCode]) || code || '未分类'
}

const channelLabels: Record<Channel, string> = { web: '网页', wechat: '微信' }

/** the API sends the channel as a plain string (EscalationPublic.channel, TranscriptLine.channel) */
export function channelLabel(code: string | null | undefined): string {
  return (code && channelLabels[code as Channel]) || code || ''
}

export const outcomeOptions: { value: Outcome; label: string; hint: string }[] = [
  { value: 'answered', label: '已解答', hint: '问题已在咨询中答复' },
  { value: 'demand_opened', label: '已提交需求', hint: '已为企业登记服务需求' },
  { value: 'complaint_opened', label: '已受理投诉', hint: '已转为投诉处理' },
  { value: 'no_reply', label: '用户未回复', hint: '用户长时间没有回应' },
]

export const deliveryLabels: Record<DeliveryState, string> = {
  sent: '已发送',
  queued: '排队中',
  failed: '发送失败',
  pending: '发送中',
}

/** for presence events, which carry the code only (ExpertPublic has presence_label) */
const presenceLabels: Record<Presence, string> = { online: '在线', away: '离开' }

export function presenceLabel(code: string): string {
  return presenceLabels[code as Presence] ?? code
}

const pad = (n: number) => String(n).padStart(2, '0')

/** HH:mm today, else M月D日 HH:mm */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  const now = new Date()
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`
  if (d.toDateString() === now.toDateString()) return hm
  return `${d.getMonth() + 1}月${d.getDate()}日 ${hm}`
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

export function formatHourMinute(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? '' : `${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** a client_id for idempotent sends; crypto.randomUUID needs a secure context, getRandomValues does not */
export function newClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = (bytes[6] & 0x0f) | 0x40
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
