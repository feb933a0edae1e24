/**
 * The console's one live connection (SSE).
 *
 * EventSource cannot send headers, so each connection first asks for a ticket (`{ticket,
 * expires_in_s}`). Every event carries a cursor in `id:`. When the connection drops while the
 * ticket is still valid, EventSource reconnects by itself and resends the cursor as Last-Event-ID,
 * so the server resumes where it stopped and nothing needs reloading. Once the ticket has expired
 * (or the server refused it), a new EventSource with a new ticket is opened after a growing pause;
 * it cannot send Last-Event-ID, so that open is announced and the queue and the open conversation
 * reload. There is no polling.
 */

import { ref } from 'vue'
import { ApiError, liveApi } from '@/api'
import type { LiveEvents } from '@/api'

export type LiveState = 'idle' | 'connecting' | 'open' | 'retrying'

type Handler<K extends keyof LiveEvents> = (data: LiveEvents[K]) => void
type Handlers = { [K in keyof LiveEvents]: Set<Handler<K>> }

const EVENT_NAMES: (keyof LiveEvents)[] = ['escalation', 'message', 'delivery', 'presence']
const BACKOFF_MS = [1000, 2000, 5000, 10000, 20000, 30000]

export const liveState = ref<LiveState>('idle')

const handlers: Handlers = {
  escalation: new Set(),
  message: new Set(),
  delivery: new Set(),
  presence: new Set(),
}
const reconnectHandlers = new Set<() => void>()

let source: EventSource | null = null
let retryTimer: number | undefined
let attempt = 0
let running = false
/** until when the current ticket lets the browser's own reconnects in (ms since epoch) */
let ticketValidUntil = 0
/** the last cursor received on the current EventSource ('' before the first event) */
let lastEventId = ''
/** margin for the clock and the reconnect delay (the server sends `retry: 3000`) */
const TICKET_MARGIN_MS = 5000

/** Subscribe to one event; returns the unsubscribe function (call it in onUnmounted). */
export function onLive<K extends keyof LiveEvents>(name: K, handler: Handler<K>): () => void {
  const set = handlers[name] as Set<Handler<K>>
  set.add(handler)
  return () => set.delete(handler)
}

/** Called each time the stream (re)opens: reload whatever may have been missed meanwhile. */
export function onLiveOpen(handler: () => void): () => void {
  reconnectHandlers.add(handler)
  return () => reconnectHandlers.delete(handler)
}

export function startLive(): void {
  if (running) return
  running = true
  attempt = 0
  void connect()
}

export function stopLive(): void {
  running = false
  window.clearTimeout(retryTimer)
  source?.close()
  source = null
  liveState.value = 'idle'
}

async function connect(): Promise<void> {
  if (!running) return
  liveState.value = attempt === 0 ? 'connecting' : 'retrying'
  let ticket: string
  try {
    const answer = await liveApi.ticket()
    ticket = answer.ticket
    ticketValidUntil = Date.now() + answer.expires_in_s * 1000 - TICKET_MARGIN_MS
  } catch (error) {
    // a 401 has already sent the user to the login page
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      stopLive()
      return
    }
    scheduleRetry()
    return
  }
  if (!running) return
  const es = new EventSource(liveApi.streamUrl(ticket))
  source = es
  lastEventId = ''
  /** a reopen by the browser itself, with Last-Event-ID: the server resumes after the cursor */
  let resuming = false
  es.onopen = () => {
    attempt = 0
    liveState.value = 'open'
    if (resuming && lastEventId) {
      resuming = false
      return
    }
    resuming = false
    // a new EventSource (the first included) starts at "now": reload what may have been missed
    reconnectHandlers.forEach((h) => h())
  }
  es.onerror = () => {
    if (source !== es) return
    if (es.readyState === EventSource.CONNECTING && Date.now() < ticketValidUntil) {
      // the browser retries with the same ticket and Last-Event-ID
      resuming = true
      liveState.value = 'retrying'
      return
    }
    // refused (an expired ticket answers 401) or the ticket is about to expire: a new ticket
    es.close()
    source = null
    scheduleRetry()
  }
  for (const name of EVENT_NAMES) {
    es.addEventListener(name, (event) => {
      const message = event as MessageEvent<string>
      if (message.lastEventId) lastEventId = message.lastEventId
      dispatch(name, message.data)
    })
  }
}

function scheduleRetry(): void {
  if (!running) return
  liveState.value = 'retrying'
  const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]
  attempt += 1
  // jitter so that many consoles do not come back at the same instant after a restart
  retryTimer = window.setTimeout(() => void connect(), base + Math.random() * 500)
}

function dispatch<K extends keyof LiveEvents>(name: K, raw: string): void {
  let data: LiveEvents[K]
  try {
    data = JSON.parse(raw) as LiveEvents[K]
  } catch {
    return
  }
  for (const handler of handlers[name] as Set<Handler<K>>) {
    try {
      handler(data)
    } catch (error) {
      console.error(`live ${name} handler failed`, error)
    }
  }
}
