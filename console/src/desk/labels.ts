/** The desk's choices the API takes as codes (it sends the *_label of what it returns). */

import { domainCodes, domainLabels } from '@/common/labels'

export const demandChannels = [
  { value: 'web', label: '网页会话' },
  { value: 'wechat', label: '微信公众号' },
  { value: 'phone', label: '电话' },
  { value: 'station', label: '服务站点' },
  { value: 'letter', label: '信件' },
]
export const complaintChannels = [
  { value: 'online', label: '网上' },
  { value: 'phone', label: '电话' },
  { value: 'station', label: '服务站点' },
  { value: 'letter', label: '信件' },
]
/** the complainant's answer to 「您对处理结果是否满意？」 (§7.4.3); 未答复: closed, no answer yet */
export const complaintSatisfactions = [
  { value: 'satisfied', label: '满意' },
  { value: 'unsatisfied', label: '不满意' },
  { value: 'unanswered', label: '未答复' },
]
export const satisfactionTag = (value: string | null | undefined): 'success' | 'danger' | 'info' =>
  value === 'satisfied' ? 'success' : value === 'unsatisfied' ? 'danger' : 'info'
/** what staff enter by hand (§7.2.2.1.1, §7.4.2) */
export const entryChannels = [
  { value: 'phone', label: '电话' },
  { value: 'station', label: '服务站点' },
  { value: 'letter', label: '信件' },
] as const
export const complaintTypes = [
  { value: 'attitude', label: '服务态度' },
  { value: 'efficiency', label: '服务效率' },
  { value: 'fees', label: '收费' },
  { value: 'quality', label: '质量/结果' },
  { value: 'other', label: '其他' },
] as const
export const serviceModes = ['送样', '上门', '预约', '均可'] as const
export const domainOptions = domainCodes.map((code) => ({ value: code, label: domainLabels[code] }))

export function day(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : ''
}
