/** Publishing with progress: start a job, then follow it until it is done or failed. */

import { ref } from 'vue'
import { errorMessage } from '@/api'
import { knowledgeApi } from './api'
import type { PublishJob } from './api'

export const job = ref<PublishJob | null>(null)
export const publishing = ref(false)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Follow ``started`` (polling every 300 ms) and resolve with its last state. */
export async function follow(started: PublishJob): Promise<PublishJob> {
  job.value = started
  publishing.value = true
  try {
    while (job.value.status === 'queued' || job.value.status === 'running') {
      await sleep(300)
      job.value = await knowledgeApi.job(job.value.id)
    }
    if (job.value.status === 'done') ElMessage.success('发布完成：机器人下一次回答起使用新内容。')
    else ElMessage.error(job.value.error || '发布失败，请稍后重试。')
    return job.value
  } finally {
    publishing.value = false
  }
}

export async function publish(entryIds?: string[]): Promise<PublishJob | null> {
  try {
    return await follow(await knowledgeApi.publish(entryIds))
  } catch (e) {
    ElMessage.error(errorMessage(e))
    return null
  }
}

export const percent = (j: PublishJob | null) => (j && j.total ? Math.round((100 * j.done) / j.total) : 0)
