/**
 * The consultation queue: waiting and active escalations, loaded once and then kept current by
 * the live stream (reloaded each time the stream reopens). Only this module writes it.
 */

import { computed, ref } from 'vue'
import { errorMessage, escalationsApi } from '@/api'
import type { EscalationPublic } from '@/api'
import { me, isStaff } from '@/auth/session'
import { onLive, onLiveOpen } from '@/live/stream'
import { domainLabel, channelLabel } from '@/common/labels'
import { beep, markRead, markUnread, notify, unread } from './alerts'
import { now } from './now'

export interface QueueRow {
  escalation: EscalationPublic
  /** when the row's waiting_minutes was true, to count on locally */
  receivedAt: number
}

const rows = ref<Map<number, QueueRow>>(new Map())
export const queueLoading = ref(false)
export const queueError = ref<string | null>(null)

let openHandler: (id: number) => void = () => {}

/** What a click on a notification does (the view opens the conversation). */
export function onOpenFromNotification(handler: (id: number) => void): void {
  openHandler = handler
}

const byWaitDesc = (a: QueueRow, b: QueueRow) =>
  Date.parse(a.escalation.created_at) - Date.parse(b.escalation.created_at)

export const waiting = computed(() =>
  [...rows.value.values()].filter((r) => r.escalation.status === 'waiting').sort(byWaitDesc),
)
export const active = computed(() =>
  [...rows.value.values()].filter((r) => r.escalation.status === 'claimed').sort(byWaitDesc),
)
export const mine = computed(() =>
  active.value.filter((r) => r.escalation.expert === me.value?.username),
)

export function waitingMinutes(row: QueueRow): number {
  const elapsed = Math.max(0, Math.floor((now.value - row.receivedAt) / 60_000))
  return row.escalation.waiting_minutes + elapsed
}

export function findEscalation(id: number): EscalationPublic | undefined {
  return rows.value.get(id)?.escalation
}

/** Is this escalation meant for the logged-in user (offered to them, to everyone, or staff)? */
function offeredToMe(e: EscalationPublic): boolean {
  if (isStaff.value) return true
  const username = me.value?.username
  const offered = e.offered_to ?? []
  return offered.length === 0 || (!!username && offered.includes(username))
}

/** escalations the stream sent while a load was under way: they are newer than its answer */
let arrivedDuringLoad: Map<number, EscalationPublic> | null = null

export async function loadQueue(): Promise<void> {
  queueLoading.value = true
  arrivedDuringLoad = new Map()
  try {
    const [w, c] = await Promise.all([
      escalationsApi.list({ status: 'waiting' }),
      escalationsApi.list({ status: 'claimed' }),
    ])
    const at = Date.now()
    const next = new Map<number, QueueRow>()
    for (const e of [...w.items, ...c.items]) next.set(e.id, { escalation: e, receivedAt: at })
    for (const [id, e] of arrivedDuringLoad) {
      if (e.status === 'closed') next.delete(id)
      else next.set(id, { escalation: e, receivedAt: at })
    }
    rows.value = next
    for (const id of unread.value) if (next.get(id)?.escalation.status !== 'waiting') markRead(id)
    queueError.value = null
  } catch (error) {
    queueError.value = errorMessage(error)
  } finally {
    arrivedDuringLoad = null
    queueLoading.value = false
  }
}

/** Apply one escalation as the API answered it (after a claim, or from the stream). */
export function upsertEscalation(e: EscalationPublic): void {
  const before = rows.value.get(e.id)?.escalation
  arrivedDuringLoad?.set(e.id, e)
  const next = new Map(rows.value)
  if (e.status === 'closed') next.delete(e.id)
  else next.set(e.id, { escalation: e, receivedAt: Date.now() })
  rows.value = next

  if (e.status !== 'waiting') {
    markRead(e.id)
    return
  }
  const newForMe = offeredToMe(e) && (before?.status !== 'waiting' || !offeredToMe(before))
  if (newForMe) alertNew(e)
}

function alertNew(e: EscalationPublic): void {
  markUnread(e.id)
  beep()
  const who = e.enterprise ?? '一位用户'
  notify(
    `新的咨询 · ${domainLabel(e.domain)}`,
    `${who}（${channelLabel(e.channel)}）：${e.reason_label || e.summary}`,
    `escalation-${e.id}`,
    () => openHandler(e.id),
  )
}

let subscribed = false

/** Subscribe the queue to the stream once per page. */
export function subscribeQueue(): void {
  if (subscribed) return
  subscribed = true
  onLive('escalation', upsertEscalation)
  onLiveOpen(() => void loadQueue())
}

export function resetQueue(): void {
  rows.value = new Map()
}
