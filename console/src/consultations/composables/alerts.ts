/**
 * So that no handoff is missed: a desktop notification, a short beep (WebAudio, no file) and an
 * unread count in the tab title, e.g. "(2) 质量门诊 · 专家工作台".
 */

import { ref, watch } from 'vue'

export const BASE_TITLE = '质量门诊 · 专家工作台'

export const notificationPermission = ref<NotificationPermission | 'unsupported'>(
  typeof Notification === 'undefined' ? 'unsupported' : Notification.permission,
)

/** Must run inside a user gesture (a click), as browsers require. */
export async function askNotificationPermission(): Promise<void> {
  unlockAudio()
  if (typeof Notification === 'undefined' || Notification.permission !== 'default') return
  try {
    notificationPermission.value = await Notification.requestPermission()
  } catch {
    notificationPermission.value = Notification.permission
  }
}

let audio: AudioContext | null = null

/** Browsers start an AudioContext suspended until a user gesture; call this from one. */
export function unlockAudio(): void {
  try {
    audio ??= new AudioContext()
    if (audio.state === 'suspended') void audio.resume()
  } catch {
    audio = null
  }
}

export function beep(): void {
  if (!audio || audio.state !== 'running') return
  const start = audio.currentTime
  for (const [offset, frequency] of [
    [0, 880],
    [0.18, 1175],
  ] as const) {
    const osc = audio.createOscillator()
    const gain = audio.createGain()
    osc.type = 'sine'
    osc.frequency.value = frequency
    gain.gain.setValueAtTime(0.0001, start + offset)
    gain.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.16)
    osc.connect(gain).connect(audio.destination)
    osc.start(start + offset)
    osc.stop(start + offset + 0.18)
  }
}

export function notify(title: string, body: string, tag: string, onClick: () => void): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return
  try {
    const n = new Notification(title, { body, tag })
    n.onclick = () => {
      window.focus()
      onClick()
      n.close()
    }
  } catch {
    // some browsers only allow notifications from a service worker; the sound and title still work
  }
}

/** Ids of waiting escalations the user has not opened yet. */
export const unread = ref<Set<number>>(new Set())

export function markUnread(id: number): void {
  unread.value = new Set(unread.value).add(id)
}

export function markRead(id: number): void {
  if (!unread.value.has(id)) return
  const next = new Set(unread.value)
  next.delete(id)
  unread.value = next
}

export function clearUnread(): void {
  unread.value = new Set()
}

watch(
  unread,
  (ids) => {
    document.title = ids.size ? `(${ids.size}) ${BASE_TITLE}` : BASE_TITLE
  },
  { immediate: true },
)
