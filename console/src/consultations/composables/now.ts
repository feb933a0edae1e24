/** A clock that ticks once a minute, for the waiting minutes in the queue (no server round trip). */

import { ref } from 'vue'

export const now = ref(Date.now())

let timer: number | undefined

export function startClock(): void {
  if (timer !== undefined) return
  const tick = () => {
    now.value = Date.now()
    // align to the next whole minute
    timer = window.setTimeout(tick, 60_000 - (Date.now() % 60_000) + 50)
  }
  tick()
}
